"""The `pmpath` command line: init, validate, assess, demo and schema.

Exit codes: 0 success; 2 the dossier (or another input) is invalid, with every finding on stderr;
1 an analysis could not run on valid input.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from pmpath import __version__
from pmpath.errors import AnalysisError, DossierError, PmpathError

app = typer.Typer(
    name="pmpath",
    help="Compute the plausible mechanism pathway's criteria from a platform's evidence dossier.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True)

EXIT_ANALYSIS = 1
EXIT_INVALID = 2


def _version(value: bool) -> None:
    if value:
        out.print(f"pmpath {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """pmpath: evidence dossiers, computed criteria and platform tracking."""


def _fail_invalid(exc: DossierError) -> None:
    for finding in exc.findings:
        err.print(str(finding), markup=False, highlight=False)
    err.print(f"[red]invalid dossier:[/red] {len(exc.findings)} problem(s)")
    raise typer.Exit(EXIT_INVALID)


def _status_cell(status: str) -> str:
    return {
        "met": "[green]✓ met[/green]",
        "not_met": "[red]✗ not met[/red]",
        "insufficient": "[yellow]? insufficient[/yellow]",
    }.get(status, status)


def _run_assessment(dossier_dir: Path, out_dir: Path, quiet: bool = False):
    from rich.progress import Progress

    from pmpath.dossier import load_dossier
    from pmpath.pathway import assess_dossier
    from pmpath.report import write_report

    dossier = load_dossier(dossier_dir)
    with Progress(console=err, transient=True, disable=quiet or not err.is_terminal) as progress:
        task = progress.add_task("assessing", total=len(dossier.patients))

        def step(patient_id: str) -> None:
            progress.update(task, advance=1, description=f"assessing {patient_id}")

        assessment = assess_dossier(dossier, progress=step)
    write_report(assessment, dossier, out_dir)
    return dossier, assessment


def _print_summary(assessment, out_dir: Path) -> None:
    p = assessment.platform
    table = Table(title=f"{p.name} ({p.id})", show_lines=False)
    table.add_column("patient")
    for n in range(1, 6):
        table.add_column(f"C{n}")
    table.add_column("role")
    for patient in assessment.patients:
        statuses = {c.number: c.status.value for c in patient.criteria}
        table.add_row(
            patient.id,
            *[_status_cell(statuses.get(n, "")) for n in range(1, 6)],
            patient.role.value,
        )
    out.print(table)
    status = p.status.value.replace("_", " ")
    out.print(
        f"platform status: [bold]{status}[/bold], streak {p.streak} of {p.required_consecutive}"
    )
    for flag in p.flags:
        out.print(f"  [yellow]![/yellow] {flag}", highlight=False)
    out.print(f"report: {out_dir / 'index.html'}\njson:   {out_dir / 'assessment.json'}")


@app.command()
def validate(
    dossier: Annotated[Path, typer.Argument(help="Dossier directory (with platform.yaml).")],
) -> None:
    """Check a dossier and report every problem at once as `file:line: field: found, expected`."""
    from pmpath.dossier import load_dossier

    try:
        loaded = load_dossier(dossier)
    except DossierError as exc:
        _fail_invalid(exc)
    for w in loaded.warnings:
        err.print(f"warning: {w}", markup=False, highlight=False)
    out.print(
        f"[green]valid[/green]: {dossier} — platform {loaded.platform.id}, {len(loaded.patients)} patient(s), "
        f"{len(loaded.cohorts)} cohort(s), {len(loaded.inputs)} input file(s)"
    )


@app.command()
def assess(
    dossier: Annotated[Path, typer.Argument(help="Dossier directory (with platform.yaml).")],
    out_dir: Annotated[
        Path, typer.Option("--out", "-o", help="Report directory (replaced atomically).")
    ] = Path("pmpath-report"),
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Print only the paths written.")
    ] = False,
) -> None:
    """Assess every patient on the five criteria, apply the platform rule, write index.html and assessment.json."""
    try:
        _, assessment = _run_assessment(dossier, out_dir, quiet)
    except DossierError as exc:
        _fail_invalid(exc)
    except AnalysisError as exc:
        err.print(f"[red]analysis could not run:[/red] {exc}", highlight=False)
        raise typer.Exit(EXIT_ANALYSIS) from None
    if quiet:
        out.print(str(out_dir / "index.html"))
    else:
        _print_summary(assessment, out_dir)


@app.command()
def demo(
    out_dir: Annotated[
        Path, typer.Option("--out", "-o", help="Where the example reports go.")
    ] = Path("pmpath-demo"),
) -> None:
    """Assess the bundled synthetic example platforms and print where their reports are."""
    from pmpath.examples import EXAMPLES, example_path

    for name in EXAMPLES:
        target = out_dir / name
        try:
            _, assessment = _run_assessment(example_path(name), target)
        except PmpathError as exc:  # the bundled examples must always work
            err.print(f"[red]example {name} failed:[/red] {exc}", highlight=False)
            raise typer.Exit(EXIT_ANALYSIS) from None
        _print_summary(assessment, target)
        out.print()


@app.command()
def init(
    dossier: Annotated[
        Path, typer.Argument(help="New dossier directory (must not exist or be empty).")
    ],
    platform_id: Annotated[str, typer.Option("--id", help="Platform identifier.")] = "MY-PLATFORM",
    name: Annotated[str, typer.Option("--name", help="Platform name.")] = "My platform",
    modality: Annotated[
        str,
        typer.Option(
            "--modality",
            help="adenine_base_editor, cytosine_base_editor, nuclease, prime_editor, splice_switching_aso or gapmer_aso.",
        ),
    ] = "adenine_base_editor",
) -> None:
    """Scaffold a new, valid dossier to fill in."""
    from pmpath.dossier.scaffold import init_dossier

    try:
        written = init_dossier(dossier, platform_id=platform_id, name=name, modality=modality)
    except DossierError as exc:
        _fail_invalid(exc)
    out.print(
        f"wrote {len(written)} files under {dossier}; next: edit them, then `pmpath validate {dossier}`"
    )


@app.command()
def schema(
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", help="Directory for the .schema.json files; stdout when omitted."
        ),
    ] = None,
) -> None:
    """Write the JSON Schema of platform.yaml, natural_history/cohort.yaml and case.yaml."""
    from pmpath import atomic
    from pmpath.dossier.model import Case, CohortFile, Platform

    schemas = {
        name: model.model_json_schema()
        for name, model in (("platform", Platform), ("cohort", CohortFile), ("case", Case))
    }
    if out_dir is None:
        sys.stdout.write(json.dumps(schemas, indent=2, sort_keys=True) + "\n")
        return
    for name, s in schemas.items():
        atomic.write_bytes(
            out_dir / f"{name}.schema.json",
            (json.dumps(s, indent=2, sort_keys=True) + "\n").encode(),
        )
    out.print(f"wrote {', '.join(f'{n}.schema.json' for n in schemas)} to {out_dir}")


phenopacket_app = typer.Typer(
    help="Import and export a patient's diagnosis, phenotypes and variants as a GA4GH Phenopacket v2.",
    no_args_is_help=True,
)
app.add_typer(phenopacket_app, name="phenopacket")


@phenopacket_app.command("export")
def phenopacket_export(
    dossier: Annotated[Path, typer.Argument(help="Dossier directory.")],
    patient: Annotated[str, typer.Argument(help="Patient id.")],
    out_file: Annotated[
        Path | None, typer.Option("--out", "-o", help="Phenopacket JSON file; stdout when omitted.")
    ] = None,
) -> None:
    """Write one patient's diagnosis, HPO phenotypes and variants as a Phenopacket v2 JSON."""
    from pmpath.dossier import load_dossier
    from pmpath.dossier.phenopacket import patient_phenopacket, phenopacket_json, write_phenopacket

    try:
        loaded = load_dossier(dossier)
    except DossierError as exc:
        _fail_invalid(exc)
    record = next((p for p in loaded.patients if p.id == patient), None)
    if record is None:
        err.print(
            f"[red]no patient {patient!r}[/red] in {dossier}; expected one of: {', '.join(p.id for p in loaded.patients)}",
            highlight=False,
        )
        raise typer.Exit(EXIT_INVALID)
    pp = patient_phenopacket(loaded, record)
    if out_file is None:
        sys.stdout.write(phenopacket_json(pp) + "\n")
    else:
        write_phenopacket(pp, out_file)
        out.print(f"wrote {out_file}")


@phenopacket_app.command("import")
def phenopacket_import(
    phenopacket: Annotated[Path, typer.Argument(help="Phenopacket v2 JSON file.")],
    dossier: Annotated[
        Path, typer.Option("--dossier", "-d", help="Dossier whose platform.yaml names the disease.")
    ],
    age: Annotated[
        float | None,
        typer.Option(
            "--age", help="Age at first dose in years, when the phenopacket has no regimen start."
        ),
    ] = None,
    out_file: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Write the case.yaml fragment here; stdout when omitted."),
    ] = None,
) -> None:
    """Turn a phenopacket into the diagnosis, phenotypes and variants of a case.yaml (add therapy and dosing yourself)."""
    import yaml

    from pmpath import atomic
    from pmpath.dossier.load import load_platform
    from pmpath.dossier.phenopacket import phenopacket_to_case_parts, read_phenopacket

    try:
        platform = load_platform(dossier)
        pp = read_phenopacket(phenopacket)
        fields, phenotypes, variants = phenopacket_to_case_parts(pp, source=str(phenopacket))
        diagnosis = fields.diagnosis_for(
            platform, age_at_first_dose_years=age, source=str(phenopacket)
        )
    except DossierError as exc:
        _fail_invalid(exc)
    for finding in fields.ignored:
        err.print(f"warning: not imported: {finding}", markup=False, highlight=False)
    fragment = {
        "diagnosis": diagnosis.model_dump(mode="json", exclude_none=True),
        "phenotypes": [
            p.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
            | {"id": p.id, "label": p.label}
            for p in phenotypes
        ],
        "variants": [
            v.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
            | {"zygosity": v.zygosity.value, "acmg_class": v.acmg_class.value}
            for v in variants
        ],
    }
    text = (
        f"# imported from {phenopacket.name} (subject {fields.subject_id}); add id, therapy and dosing\n"
        + yaml.safe_dump(fragment, sort_keys=False)
    )
    if out_file is None:
        sys.stdout.write(text)
    else:
        atomic.write_bytes(out_file, text.encode())
        out.print(f"wrote {out_file}")


if __name__ == "__main__":  # pragma: no cover
    app()
