"""`pmpath mechanism`: guide and ASO designs for an HGVS variant (``design``), the check of a given one
(``verify``), and the genome-wide off-target search (``offtarget``, in :mod:`pmpath.cli_offtarget`).

Both read the reference FASTA and the GFF3/GTF annotation, resolve the variant offline, and write
DESIGNS.tsv with the columns of :data:`pmpath.mechanism.design.GUIDE_COLUMNS` (``aso`` in place of
``spacer`` for ASOs). Bad input exits 2 with one line naming the file or option, what was found and
what was expected.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from pmpath import atomic
from pmpath.cli_common import (
    Format,
    FormatOpt,
    Quiet,
    Verbose,
    _guarded,
    _Steps,
    err,
    out,
)
from pmpath.errors import UsageError

mechanism_app = typer.Typer(
    name="mechanism",
    help="Guide and ASO designs for a patient's HGVS variant, the check of a given guide or ASO, "
    "and the genome-wide off-target search.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

Reference = Annotated[
    Path,
    typer.Option(
        "--reference", help="Reference FASTA (whole contigs or samtools-style region records)."
    ),
]
AnnotationOpt = Annotated[
    Path, typer.Option("--annotation", help="Transcript annotation, GFF3 or GTF.")
]
VariantOpt = Annotated[
    str,
    typer.Option(
        "--variant", help="HGVS variant: NM_x:c.1003C>T, NM_x:c.1003+5G>A, chrX:g.38260101G>A."
    ),
]
EditorOpt = Annotated[
    str,
    typer.Option(
        "--editor", help="abe8e, be4max (base editors), spcas9 (nuclease), aso-splice or gapmer."
    ),
]
PamOpt = Annotated[
    str | None,
    typer.Option(
        "--pam",
        help="PAM in IUPAC (e.g. NGG, NRN) or a Cas variant: spcas9, spcas9-ng, spry, sacas9. Default: the editor's SpCas9 NGG.",
    ),
]
WindowOpt = Annotated[
    str | None,
    typer.Option(
        "--window",
        help="Editing window FIRST-LAST, protospacer positions from the PAM-distal end (default 4-8).",
    ),
]
LengthOpt = Annotated[
    int | None,
    typer.Option(
        "--length", help="Protospacer length (guides) or ASO length (default 18, gapmer 20)."
    ),
]
CutOpt = Annotated[
    int, typer.Option("--max-cut-distance", help="Nuclease: largest cut-to-variant distance in bp.")
]
TranscriptsOpt = Annotated[
    Path | None,
    typer.Option(
        "--transcripts",
        help="Transcript FASTA searched for other ASO sites (with the annotation's pre-mRNAs).",
    ),
]
SiteOpt = Annotated[
    str | None,
    typer.Option(
        "--acts-on", help="ASO: the site to overlap instead of the variant, CHROM:START-END."
    ),
]
WingsOpt = Annotated[
    str, typer.Option("--wings", help="Gapmer wings 5'-3', e.g. 5-5 for a 5-10-5 gapmer.")
]
OutOpt = Annotated[Path, typer.Option("-o", "--out", help="DESIGNS.tsv to write.")]


def _pair(text: str | None, option: str) -> tuple[int, int] | None:
    if text is None:
        return None
    try:
        a, b = (int(x) for x in text.replace(",", "-").split("-"))
    except ValueError:
        raise UsageError(
            f"{option}: found {text!r}, expected two whole numbers such as 4-8"
        ) from None
    return a, b


def _site(text: str | None):
    if text is None:
        return None
    from pmpath.mechanism.aso import TargetSite

    try:
        chrom, span = text.rsplit(":", 1)
        start, end = (int(x.replace(",", "")) for x in span.split("-"))
    except ValueError:
        raise UsageError(
            f"--acts-on: found {text!r}, expected CHROM:START-END such as chr7:1200-1230"
        ) from None
    return TargetSite(chrom, start, end, "--acts-on")


def _write(run, out_file: Path, fmt: Format, quiet: bool) -> None:
    atomic.write_bytes(out_file, run.tsv().encode())
    if fmt == Format.json:
        sys.stdout.write(
            json.dumps(run.to_json() | {"written": str(out_file)}, ensure_ascii=False) + "\n"
        )
        return
    if not quiet:
        out.print(run.to_text(), highlight=False, markup=False)
    out.print(f"wrote {out_file}", highlight=False)


@mechanism_app.command("design")
@_guarded()
def design(
    reference: Reference,
    annotation: AnnotationOpt,
    variant: VariantOpt,
    editor: EditorOpt,
    out_file: OutOpt,
    pam: PamOpt = None,
    window: WindowOpt = None,
    length: LengthOpt = None,
    max_cut_distance: CutOpt = 10,
    transcripts: TranscriptsOpt = None,
    acts_on: SiteOpt = None,
    wings: WingsOpt = "5-5",
    genome: Annotated[
        Path | None,
        typer.Option(
            "--genome",
            help="Genome FASTA searched for every guide design's off-target sites (fills offtarget_summary).",
        ),
    ] = None,
    fmt: FormatOpt = Format.text,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Write every guide or ASO design for the variant to DESIGNS.tsv (one row per design)."""
    from rich.progress import Progress

    from pmpath.mechanism.variant_designs import design_for_variant

    steps = _Steps(quiet or fmt == Format.json, verbose)
    steps.detail(f"reading {annotation} and {reference}")
    with Progress(console=err, transient=True, disable=steps.quiet or not steps.terminal) as bar:
        task = bar.add_task("checking designs", total=None)

        def step(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        run = design_for_variant(
            reference,
            annotation,
            variant,
            editor,
            pam=pam,
            window=_pair(window, "--window"),
            length=length,
            max_cut_distance=max_cut_distance,
            transcripts=transcripts,
            acts_on=_site(acts_on),
            wings=_pair(wings, "--wings") or (5, 5),
            progress=step,
        )
    if genome is not None:
        from pmpath.mechanism.offtarget.designs import with_offtarget_summaries
        from pmpath.mechanism.offtarget.genome import read_genome
        from pmpath.mechanism.offtarget.search import SearchSettings

        steps.note(f"searching {genome} for each design's off-target sites")
        run = with_offtarget_summaries(run, read_genome(genome), SearchSettings(pam=pam or "NGG"))
    _write(run, out_file, fmt, quiet)


@mechanism_app.command("verify")
@_guarded()
def verify(
    reference: Reference,
    annotation: AnnotationOpt,
    variant: VariantOpt,
    editor: EditorOpt,
    sequence: Annotated[
        str, typer.Option("--sequence", help="The guide spacer or the ASO, 5'->3' (DNA letters).")
    ],
    out_file: OutOpt,
    pam: PamOpt = None,
    window: WindowOpt = None,
    length: LengthOpt = None,
    max_cut_distance: CutOpt = 10,
    transcripts: TranscriptsOpt = None,
    acts_on: SiteOpt = None,
    wings: WingsOpt = "5-5",
    fmt: FormatOpt = Format.text,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Check one given guide or ASO against the variant; write its DESIGNS.tsv row."""
    from pmpath.mechanism.variant_designs import verify_for_variant

    run = verify_for_variant(
        reference,
        annotation,
        variant,
        editor,
        sequence,
        pam=pam,
        window=_pair(window, "--window"),
        length=length,
        max_cut_distance=max_cut_distance,
        transcripts=transcripts,
        acts_on=_site(acts_on),
        wings=_pair(wings, "--wings") or (5, 5),
    )
    _write(run, out_file, fmt, quiet)
    if fmt != Format.json and not quiet:
        d = run.designs[0]
        out.print(f"{d.status.value}: {d.reason}", highlight=False, markup=False)
        for line in d.alignment:
            out.print(line, highlight=False, markup=False)


from pmpath.cli_offtarget import offtarget  # noqa: E402

mechanism_app.command("offtarget")(offtarget)
