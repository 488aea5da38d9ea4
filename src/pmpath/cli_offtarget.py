"""`pmpath mechanism offtarget`: the genome-wide off-target search from the command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from pmpath.cli_common import Format, FormatOpt, Quiet, _guarded, _line, err, out

__all__ = ["offtarget"]


@_guarded()
def offtarget(
    genome: Annotated[Path, typer.Option("--genome", help="Genome FASTA (.gz allowed).")],
    guides: Annotated[
        Path, typer.Option("--guides", help="TSV with columns name, spacer (5'->3', no PAM).")
    ],
    out_path: Annotated[
        Path,
        typer.Option("-o", "--out", help="SITES.tsv or SITES.parquet; the summary goes beside."),
    ],
    pam: Annotated[str, typer.Option("--pam", help="PAM in IUPAC letters.")] = "NGG",
    alt_pam: Annotated[
        str, typer.Option("--alt-pam", help="Non-canonical PAMs also searched, e.g. NAG,NGA.")
    ] = "",
    mismatches: Annotated[int, typer.Option("--mismatches", help="Most mismatches.")] = 4,
    dna_bulge: Annotated[int, typer.Option("--dna-bulge", help="Longest DNA bulge (0-2).")] = 1,
    rna_bulge: Annotated[int, typer.Option("--rna-bulge", help="Longest RNA bulge (0-2).")] = 1,
    annotation: Annotated[
        Path | None,
        typer.Option("--annotation", help="GFF3 or GTF: each site's gene, exon or intron."),
    ] = None,
    patient_vcf: Annotated[
        Path | None,
        typer.Option(
            "--patient-vcf", help="The patient's germline VCF: sites only the patient has."
        ),
    ] = None,
    panel: Annotated[
        Path | None,
        typer.Option("--panel", help="Also write the sites as an amplicon panel (PANEL.tsv)."),
    ] = None,
    panel_min_cfd: Annotated[
        float, typer.Option("--panel-min-cfd", help="Leave sites below this CFD out of the panel.")
    ] = 0.0,
    threads: Annotated[int, typer.Option("--threads", help="Threads (default: all cores).")] = 0,
    force: Annotated[
        bool, typer.Option("--force", help="Replace output files that exist.")
    ] = False,
    quiet: Quiet = False,
    fmt: FormatOpt = Format.text,
) -> None:
    """Search a genome for every site of each guide: mismatches, DNA and RNA bulges, CFD and MIT scores."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from pmpath.mechanism.offtarget.annotate import read_annotation
    from pmpath.mechanism.offtarget.genome import read_genome
    from pmpath.mechanism.offtarget.output import (
        panel_table,
        summary_path,
        write_table,
    )
    from pmpath.mechanism.offtarget.patient import read_germline_vcf
    from pmpath.mechanism.offtarget.pipeline import run_offtarget
    from pmpath.mechanism.offtarget.search import SearchSettings, read_guides

    settings = SearchSettings(
        pam=pam.upper(),
        alt_pams=tuple(p.strip().upper() for p in alt_pam.split(",") if p.strip()),
        mismatches=mismatches,
        dna_bulge=dna_bulge,
        rna_bulge=rna_bulge,
    )
    guide_list = read_guides(guides)
    targets = [out_path, summary_path(out_path), *([panel] if panel else [])]
    if not force:
        from pmpath.errors import UsageError

        for target in targets:
            if target.exists():
                raise UsageError(f"{target}: exists; pass --force to replace it")
    loaded = read_genome(genome)
    ann = read_annotation(annotation) if annotation else None
    patient = read_germline_vcf(patient_vcf, loaded) if patient_vcf else None
    total = 2 * loaded.size
    show = not quiet and fmt == Format.text and err.is_terminal
    with Progress(
        TextColumn("searching"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        disable=not show,
    ) as bar:
        task = bar.add_task("search", total=total)
        result = run_offtarget(
            loaded,
            guide_list,
            settings,
            annotation=ann,
            patient=patient,
            threads=threads or None,
            progress=lambda n: bar.advance(task, n),
        )
    for line, reason in result.skipped_variants:
        _line(f"{patient_vcf}: line {line}: variant not applied: {reason}")
    write_table(result.sites, out_path, force=True)
    write_table(result.summary, summary_path(out_path), force=True)
    if panel:
        write_table(panel_table(result.sites, loaded, min_cfd=panel_min_cfd), panel, force=True)
    if fmt == Format.json:
        sys.stdout.write(
            json.dumps(
                {
                    "ok": True,
                    "sites": str(out_path),
                    "summary": str(summary_path(out_path)),
                    "panel": str(panel) if panel else None,
                    "counts": dict(
                        zip(result.summary["guide"], result.summary["mismatch_counts"], strict=True)
                    ),
                    "skipped_variants": len(result.skipped_variants),
                    "seconds": result.timings,
                }
            )
            + "\n"
        )
        return
    if not quiet:
        for row in result.summary.itertuples():
            spec = (
                "NA" if row.cfd_specificity != row.cfd_specificity else f"{row.cfd_specificity:.1f}"
            )
            out.print(
                f"{row.guide}: {row.sites} sites, mismatches {row.mismatch_counts}, "
                f"{row.bulge_sites} with a bulge, CFD specificity {spec}"
                + (f", {row.patient_specific_sites} patient-specific" if patient else ""),
                highlight=False,
            )
    out.print(
        f"wrote {out_path} and {summary_path(out_path)}" + (f" and {panel}" if panel else ""),
        highlight=False,
    )
