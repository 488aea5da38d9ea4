"""The `pmpath` command line: init, validate, assess, simulate, demo, schema, migrate, verify, diff, phenopacket.

Exit codes, the same for every command (the README has the table):

- 0 done;
- 1 an analysis could not run on valid input (or an internal error, with a crash log);
- 2 invalid input: the dossier, the arguments, a refused output location;
- 3 the output could not be written: disk full, read-only, permission denied, locked by another run.

``--quiet``, ``--verbose`` and ``--format json`` mean the same on every command that has them.
Findings go to stderr one per line, whatever the terminal width, and end with a count per severity.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from pmpath import __version__
from pmpath.cli_common import (
    EXIT_INVALID,
    Format,
    FormatOpt,
    Quiet,
    Strict,
    Verbose,
    _guarded,
    _line,
    _Steps,
    err,
    out,
    print_findings,
)
from pmpath.errors import (
    Finding,
    UsageError,
    findings_json,
)

app = typer.Typer(
    name="pmpath",
    help="Compute the plausible mechanism pathway's criteria from a platform's evidence dossier.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


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


def _status_cell(status: str) -> str:
    return {
        "met": "[green]✓ met[/green]",
        "not_met": "[red]✗ not met[/red]",
        "insufficient": "[yellow]? insufficient[/yellow]",
    }.get(status, status)


def _load(dossier_dir: Path, strict: bool, steps: _Steps):
    from pmpath.dossier import load_dossier

    steps.detail(f"validating {dossier_dir}")
    return load_dossier(dossier_dir, strict=strict, progress=steps.note)


def _run_assessment(
    dossier_dir: Path, out_dir: Path, steps: _Steps, strict: bool = False, pdf: bool = False
):
    from rich.progress import Progress

    from pmpath.pathway import assess_dossier
    from pmpath.report import write_report
    from pmpath.report.output import claim_report_destination

    # a refused or locked --out fails at once, before the long work
    with claim_report_destination(out_dir, dossier_dir):
        dossier = _load(dossier_dir, strict, steps)
        n = len(dossier.patients)
        with Progress(
            console=err, transient=True, disable=steps.quiet or not steps.terminal
        ) as bar:
            task = bar.add_task("assessing", total=n)
            done = [0]

            def step(patient_id: str) -> None:
                done[0] += 1
                bar.update(task, advance=1, description=f"assessing {patient_id}")
                if not steps.terminal and (
                    steps.verbose or (n >= 50 and done[0] % max(n // 10, 1) == 0)
                ):
                    steps.note(f"assessed {done[0]} of {n} patients")

            assessment = assess_dossier(dossier, progress=step)
        steps.detail(f"writing the report to {out_dir}")
        write_report(assessment, dossier, out_dir, pdf=pdf)
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
    out.print(
        f"report: {out_dir / 'index.html'}\njson:   {out_dir / 'assessment.json'}", highlight=False
    )


def _summary_json(assessment, out_dir: Path, warnings: list[Finding]) -> dict:
    p = assessment.platform
    return {
        "ok": True,
        "report": str(out_dir / "index.html"),
        "assessment": str(out_dir / "assessment.json"),
        "platform": {
            "id": p.id,
            "status": p.status.value,
            "streak": p.streak,
            "required_consecutive": p.required_consecutive,
        },
        "patients": [
            {
                "id": patient.id,
                "role": patient.role.value,
                "criteria": {str(c.number): c.status.value for c in patient.criteria},
            }
            for patient in assessment.patients
        ],
        "findings": [f.to_json() for f in sorted(warnings, key=lambda f: f.sort_key)],
    }


# --------------------------------------------------------------------------- commands


@app.command()
@_guarded()
def validate(
    dossier: Annotated[Path, typer.Argument(help="Dossier directory (with platform.yaml).")],
    strict: Strict = False,
    fmt: FormatOpt = Format.text,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Check a dossier and report every problem at once as `file:line: field: found ..., expected ...`."""
    steps = _Steps(quiet or fmt == Format.json, verbose)
    loaded = _load(dossier, strict, steps)
    if fmt == Format.json:
        sys.stdout.write(findings_json(loaded.warnings, valid=True) + "\n")
        return
    print_findings(loaded.warnings, quiet=quiet)
    if not quiet:
        out.print(
            f"[green]valid[/green]: {dossier} — platform {loaded.platform.id}, {len(loaded.patients)} patient(s), "
            f"{len(loaded.cohorts)} cohort(s), {len(loaded.inputs)} input file(s)",
            highlight=False,
        )


@app.command()
@_guarded()
def assess(
    dossier: Annotated[Path, typer.Argument(help="Dossier directory (with platform.yaml).")],
    out_dir: Annotated[
        Path,
        typer.Option(
            "--out",
            "-o",
            help="Report directory: created, or replaced atomically when it holds a pmpath report; anything else is refused.",
        ),
    ] = Path("pmpath-report"),
    strict: Strict = False,
    pdf: Annotated[
        bool,
        typer.Option(
            "--pdf",
            help="Also write OUT/report.pdf (PDF/A-3b, the overview and every patient page).",
        ),
    ] = False,
    fmt: FormatOpt = Format.text,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Assess every patient on the five criteria, apply the platform rule, write index.html and assessment.json."""
    steps = _Steps(quiet or fmt == Format.json, verbose)
    loaded, assessment = _run_assessment(dossier, out_dir, steps, strict, pdf)
    if fmt == Format.json:
        sys.stdout.write(json.dumps(_summary_json(assessment, out_dir, loaded.warnings)) + "\n")
        return
    print_findings(loaded.warnings, quiet=quiet)
    if quiet:
        out.print(str(out_dir / "index.html"), highlight=False)
    else:
        _print_summary(assessment, out_dir)


@app.command()
@_guarded()
def simulate(
    dossier: Annotated[Path, typer.Argument(help="Dossier directory (with platform.yaml).")],
    out_dir: Annotated[
        Path,
        typer.Option(
            "--out",
            "-o",
            help="Output directory: created, or replaced atomically when it holds pmpath output; anything else is refused.",
        ),
    ] = Path("pmpath-simulation"),
    n_sim: Annotated[
        int, typer.Option("--n-sim", help="Simulated platforms per scenario.", min=1)
    ] = 10_000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same table).")] = (
        20251101
    ),
    max_patients: Annotated[
        int,
        typer.Option(
            "--max-patients",
            help="Treated patients per simulated platform: readiness must come within them.",
            min=1,
        ),
    ] = 10,
    strict: Strict = False,
    fmt: FormatOpt = Format.text,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Operating characteristics: the chance of reaching readiness with no effect and with the plan's plausible effect."""
    from rich.progress import Progress

    from pmpath.pathway.simulate import simulate_platform
    from pmpath.report.simulation import write_simulation

    steps = _Steps(quiet or fmt == Format.json, verbose)
    loaded = _load(dossier, strict, steps)
    show = not steps.quiet and steps.terminal
    with Progress(console=err, transient=True, disable=not show) as bar:
        task = bar.add_task("simulating platforms", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        oc = simulate_platform(
            loaded, n_sim=n_sim, seed=seed, max_patients=max_patients, progress=progress
        )
    write_simulation(oc, loaded, out_dir)
    if fmt == Format.json:
        sys.stdout.write(
            json.dumps({"ok": True, "out": str(out_dir), "rows": oc.table_rows()}) + "\n"
        )
        return
    print_findings(loaded.warnings, quiet=quiet)
    if quiet:
        out.print(str(out_dir / "operating_characteristics.tsv"), highlight=False)
        return
    from rich.table import Table

    table = Table(
        title=f"{oc.platform}: P(ready within {oc.max_patients} patients), primary endpoint {oc.endpoint}"
    )
    table.add_column("required consecutive", justify="right")
    for scenario in oc.rows:
        label = scenario.replace("_", " ")
        if scenario == "plausible_effect":
            label += f" ({oc.effect_description})"
        table.add_column(label, justify="right")
    for i, first in enumerate(next(iter(oc.rows.values()))):
        cells = [str(first.required_consecutive)]
        for rows in oc.rows.values():
            r = rows[i]
            cells.append(f"{r.p_ready:.3f} ± {r.mc_se:.3f}")
        table.add_row(*cells)
    out.print(table)
    for line in oc.assumptions:
        out.print(f"- {line}", highlight=False)
    out.print(f"written: {out_dir / 'operating_characteristics.tsv'}", highlight=False)


@app.command()
@_guarded()
def demo(
    out_dir: Annotated[
        Path,
        typer.Option("--out", "-o", help="Where the example reports go (one folder per example)."),
    ] = Path("pmpath-demo"),
    fmt: FormatOpt = Format.text,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Assess the bundled synthetic example platforms and print where their reports are."""
    from pmpath.examples import EXAMPLES, example_path

    steps = _Steps(quiet or fmt == Format.json, verbose)
    summaries = []
    for name in EXAMPLES:
        target = out_dir / name
        loaded, assessment = _run_assessment(example_path(name), target, steps)
        if fmt == Format.json:
            summaries.append(_summary_json(assessment, target, loaded.warnings))
        elif quiet:
            out.print(str(target / "index.html"), highlight=False)
        else:
            _print_summary(assessment, target)
            out.print()
    if fmt == Format.json:
        sys.stdout.write(json.dumps({"ok": True, "examples": summaries}) + "\n")


@app.command()
@_guarded(fmt_param=None)
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
    quiet: Quiet = False,
) -> None:
    """Scaffold a new, valid dossier to fill in."""
    from pmpath.dossier.scaffold import init_dossier

    written = init_dossier(dossier, platform_id=platform_id, name=name, modality=modality)
    if not quiet:
        out.print(
            f"wrote {len(written)} files under {dossier}; next: edit them, then `pmpath validate {dossier}`",
            highlight=False,
        )


@app.command()
@_guarded(fmt_param=None)
def schema(
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", help="Directory for the .schema.json files; stdout when omitted."
        ),
    ] = None,
    quiet: Quiet = False,
) -> None:
    """Write the JSON Schema of platform.yaml, cohort.yaml, case.yaml, every table kind (tables/<kind>.schema.json) and assessment.json."""
    from pmpath import atomic
    from pmpath.dossier.model import Case, CohortFile, Platform
    from pmpath.dossier.tables import ALL_TABLES, table_json_schema

    schemas = {
        f"{name}.schema.json": model.model_json_schema()
        for name, model in (("platform", Platform), ("cohort", CohortFile), ("case", Case))
    }
    for kind in ALL_TABLES:
        schemas[f"tables/{kind.name}.schema.json"] = table_json_schema(kind)
    from pmpath.pathway.assessment import assessment_json_schema

    schemas["assessment.schema.json"] = assessment_json_schema()
    if out_dir is None:
        sys.stdout.write(json.dumps(schemas, indent=2, sort_keys=True) + "\n")
        return
    for rel, s in schemas.items():
        atomic.write_bytes(out_dir / rel, (json.dumps(s, indent=2, sort_keys=True) + "\n").encode())
    if not quiet:
        out.print(f"wrote {len(schemas)} schemas to {out_dir}", highlight=False)


@app.command()
@_guarded()
def migrate(
    dossier: Annotated[Path, typer.Argument(help="Dossier directory of an older format version.")],
    out_dir: Annotated[
        Path,
        typer.Option(
            "--out", "-o", help="New directory for the converted dossier (must not exist)."
        ),
    ],
    fmt: FormatOpt = Format.text,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Convert a dossier to the current format version into a new directory (never in place)."""
    from pmpath.dossier.migrate import migrate_dossier

    result = migrate_dossier(dossier, out_dir)
    if fmt == Format.json:
        sys.stdout.write(
            json.dumps(
                {
                    "ok": True,
                    "out": str(out_dir),
                    "from_version": result.from_version,
                    "to_version": result.to_version,
                    "changes": result.changes,
                }
            )
            + "\n"
        )
        return
    if verbose:
        for change in result.changes:
            out.print(f"  {change}", highlight=False)
    if not quiet:
        what = (
            "already current, copied"
            if result.from_version == result.to_version
            else f"converted from version {result.from_version} to {result.to_version}"
        )
        out.print(f"{out_dir}: {what}; next: `pmpath validate {out_dir}`", highlight=False)


@app.command("hash-plan")
@_guarded(fmt_param=None)
def hash_plan(
    dossier: Annotated[Path, typer.Argument(help="Dossier directory (with platform.yaml).")],
    show: Annotated[
        bool, typer.Option("--show", help="Print the canonical JSON that is hashed, byte for byte.")
    ] = False,
) -> None:
    """Print the analysis-plan hash: SHA-256 of the RFC 8785 canonical JSON of the effective plan."""
    from pmpath.dossier.load import load_platform
    from pmpath.dossier.provenance import canonical_plan_json, plan_sha256

    platform = load_platform(dossier)
    if show:  # exact bytes, no newline, so `--show | sha256sum` gives the hash
        sys.stdout.flush()
        sys.stdout.buffer.write(canonical_plan_json(platform))
        sys.stdout.flush()
    else:
        sys.stdout.write(plan_sha256(platform) + "\n")


@app.command()
@_guarded()
def verify(
    report: Annotated[Path, typer.Argument(help="Report directory written by `pmpath assess`.")],
    dossier: Annotated[Path, typer.Argument(help="Dossier directory it should belong to.")],
    strict: Strict = False,
    fmt: FormatOpt = Format.text,
) -> None:
    """Check that a report belongs to a dossier (fingerprint, every input hash, plan hash, version)."""
    from pmpath.report.verify import verify_report

    result = verify_report(report, dossier, strict=strict)
    sys.stdout.write(result.model_dump_json() + "\n" if fmt == Format.json else result.to_text())
    if not result.ok:
        raise typer.Exit(EXIT_INVALID)


@app.command()
@_guarded()
def diff(
    old: Annotated[Path, typer.Argument(help="Older assessment.json or report directory.")],
    new: Annotated[Path, typer.Argument(help="Newer assessment.json or report directory.")],
    fmt: FormatOpt = Format.text,
) -> None:
    """List what changed between two assessments: inputs, verdicts, roles, platform status and streak."""
    from pmpath.report.diff import diff_assessments

    d = diff_assessments(old, new)
    sys.stdout.write(d.to_json() if fmt == Format.json else d.to_text())


phenopacket_app = typer.Typer(
    help="Import and export a patient's diagnosis, phenotypes and variants as a GA4GH Phenopacket v2.",
    no_args_is_help=True,
)
app.add_typer(phenopacket_app, name="phenopacket")


@phenopacket_app.command("export")
@_guarded(fmt_param=None)
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

    loaded = load_dossier(dossier)
    record = next((p for p in loaded.patients if p.id == patient), None)
    if record is None:
        raise UsageError(
            f"no patient {patient!r} in {dossier}; expected one of: {', '.join(p.id for p in loaded.patients)}"
        )
    pp = patient_phenopacket(loaded, record)
    if out_file is None:
        sys.stdout.write(phenopacket_json(pp) + "\n")
    else:
        write_phenopacket(pp, out_file)
        out.print(f"wrote {out_file}", highlight=False)


@phenopacket_app.command("import")
@_guarded(fmt_param=None)
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

    platform = load_platform(dossier)
    pp = read_phenopacket(phenopacket)
    fields, phenotypes, variants = phenopacket_to_case_parts(pp, source=str(phenopacket))
    diagnosis = fields.diagnosis_for(platform, age_at_first_dose_years=age, source=str(phenopacket))
    for finding in fields.ignored:
        _line(f"not imported: {finding}")
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
        out.print(f"wrote {out_file}", highlight=False)


if __name__ == "__main__":  # pragma: no cover
    app()

from pmpath.cli_postmarket import postmarket_app  # noqa: E402

app.add_typer(postmarket_app, name="postmarket")
