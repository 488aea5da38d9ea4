"""The quantifier's output folder: positions.tsv, classes.tsv, quantification.tsv (CRISPResso2's
layout), alleles.tsv, indel_sizes.tsv, reads.tsv.gz on request, and the plots.

Every file is written atomically (:func:`pmpath.atomic.write_bytes`): a reader sees the previous
file or the new one, never a part. Numbers are machine-readable (plain decimals, empty where a
value is undefined); percentages are on the 0-100 scale as in CRISPResso2.
"""

from __future__ import annotations

import gzip
import io
import math
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from pmpath.atomic import write_bytes
from pmpath.engagement.quantify import (
    CLASSES,
    CRISPRESSO_COLUMNS,
    FILTERS,
    AmpliconQuantification,
    Quantification,
    decode_allele,
)

__all__ = [
    "POSITION_COLUMNS",
    "alleles_table",
    "classes_table",
    "positions_table",
    "quantification_table",
    "summary_row",
    "write_outputs",
    "write_tsv",
]

POSITION_COLUMNS = (
    "amplicon",
    "position",
    "ref",
    "A",
    "C",
    "G",
    "T",
    "N",
    "deletion",
    "insertion_after",
    "coverage",
    "in_window",
    "conversion_pct",
    "ci_low",
    "ci_high",
)
CONTROL_COLUMNS = (
    "control_coverage",
    "background_pct",
    "above_background_pct",
    "above_ci_low",
    "above_ci_high",
    "p_value",
    "q_value",
    "differs_from_control",
)


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        v = float(value)
        if not math.isfinite(v):
            return ""
        return f"{v:.6f}".rstrip("0").rstrip(".") if v != int(v) or abs(v) >= 1e15 else str(int(v))
    return str(value).replace("\t", " ").replace("\n", " ")


def _tsv(columns: Sequence[str], rows: Iterable[Sequence]) -> bytes:
    buf = io.StringIO()
    buf.write("\t".join(columns) + "\n")
    for row in rows:
        buf.write("\t".join(_cell(v) for v in row) + "\n")
    return buf.getvalue().encode("utf-8")


def write_tsv(path: Path, columns: Sequence[str], rows: Iterable[Sequence]) -> Path:
    """Write a tab-separated table atomically."""
    write_bytes(Path(path), _tsv(columns, rows))
    return Path(path)


def positions_table(q: Quantification) -> tuple[tuple[str, ...], list[list]]:
    """One row per amplicon position (see docs/engagement.md for every column)."""
    columns = POSITION_COLUMNS + (CONTROL_COLUMNS if q.control is not None else ())
    compared = {(c.amplicon, c.position): c for c in q.comparisons}
    rows = []
    for a in q.amplicons:
        k, n, lo, hi = a.conversion()
        window = set(a.target.window_indices)
        seq = a.target.amplicon.sequence
        control = q.control.amplicon(a.name) if q.control is not None else None
        for i, base in enumerate(seq):
            pct = 100 * k[i] / n[i] if n[i] > 0 and not np.isnan(k[i]) else float("nan")
            row = [
                a.name,
                i + 1,
                base,
                *a.counts[i].tolist(),
                int(a.insertions[i]),
                int(n[i]),
                i in window,
                pct,
                100 * lo[i],
                100 * hi[i],
            ]
            if control is not None:
                c = compared.get((a.name, i + 1))
                row.append(int(control.coverage[i]))
                if c is None:
                    row += [float("nan")] * 6 + [None]
                else:
                    row += [
                        100 * c.background,
                        100 * c.difference,
                        100 * c.ci_low,
                        100 * c.ci_high,
                        c.p_value,
                        c.q_value,
                        c.different,
                    ]
            rows.append(row)
    return columns, rows


def classes_table(q: Quantification) -> tuple[tuple[str, ...], list[list]]:
    """pmpath's classes and filter counts per amplicon; shares are of the classified reads."""
    rows: list[list] = [["(all)", "input", "reads_in_input", q.reads_in_input, float("nan")]]
    rows.append(
        ["(all)", "alignment", "not_aligned", q.not_aligned, 100 * q.not_aligned / q.reads_in_input]
    )
    for a in q.amplicons:
        total = a.classified
        for f in FILTERS:
            rows.append([a.name, "filter", f, a.filtered[f], float("nan")])
        for c in CLASSES[1:]:
            v = a.classes[c]
            rows.append([a.name, "class", c, v, 100 * v / total if total else float("nan")])
    return ("amplicon", "kind", "name", "reads", "percent"), rows


def quantification_table(q: Quantification) -> tuple[tuple[str, ...], list[list]]:
    """CRISPResso2's ``CRISPResso_quantification_of_editing_frequency.txt`` layout."""
    rows = []
    aligned_all = q.aligned
    for a in q.amplicons:
        c = a.crispresso_counts()
        judged = c["Unmodified"] + c["Modified"]
        row = {
            "Amplicon": a.name,
            "Unmodified%": 100 * c["Unmodified"] / judged if judged else float("nan"),
            "Modified%": 100 * c["Modified"] / judged if judged else float("nan"),
            "Reads_in_input": q.reads_in_input,
            "Reads_aligned_all_amplicons": aligned_all,
            **c,
        }
        rows.append([row[col] for col in CRISPRESSO_COLUMNS])
    return CRISPRESSO_COLUMNS, rows


def alleles_table(q: Quantification) -> tuple[tuple[str, ...], list[list]]:
    """Alleles over the window +- 10 bp, most frequent first; share of the amplicon's classified reads."""
    rows = []
    for a in q.amplicons:
        total = a.classified
        lo, hi = a.allele_region
        for key, n in sorted(a.alleles.items(), key=lambda kv: (-kv[1], kv[0])):
            seq, variants = decode_allele(a.target, key)
            rows.append([a.name, lo + 1, hi, seq, variants or "reference", n, 100 * n / total])
    return ("amplicon", "start", "end", "allele", "variants", "reads", "percent"), rows


def summary_row(sample: str, q: Quantification) -> list[dict]:
    """One summary record per amplicon of a sample (the batch summary's rows)."""
    out = []
    for a in q.amplicons:
        k, n, lo, hi = a.conversion()
        intended = [i for i in a.target.intended]
        best = None
        if intended:
            i = max(intended, key=lambda j: (k[j] / n[j]) if n[j] else -1)
            if n[i] > 0:
                best = (i + 1, 100 * k[i] / n[i], 100 * lo[i], 100 * hi[i])
        total = a.classified
        edited = (
            a.classes["intended_only"] + a.classes["intended_with_bystanders"]
            if a.target.editor != "nuclease"
            else a.classes["indel"]
        )
        out.append(
            {
                "sample": sample,
                "amplicon": a.name,
                "editor": a.target.editor,
                "reads_in_input": q.reads_in_input,
                "reads_aligned": a.aligned,
                "reads_classified": total,
                "edited_reads": edited,
                "edited_pct": 100 * edited / total if total else float("nan"),
                "indel_pct": 100 * a.classes["indel"] / total if total else float("nan"),
                "target_position": best[0] if best else None,
                "target_conversion_pct": best[1] if best else float("nan"),
                "target_ci_low": best[2] if best else float("nan"),
                "target_ci_high": best[3] if best else float("nan"),
            }
        )
    return out


def write_outputs(q: Quantification, outdir: Path | str, *, plots: bool = True) -> list[Path]:
    """Write the output folder; returns the files written.

    ``reads.tsv.gz`` is written when the quantification kept its per-read calls.
    """
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, (columns, rows) in (
        ("positions.tsv", positions_table(q)),
        ("classes.tsv", classes_table(q)),
        ("quantification.tsv", quantification_table(q)),
        ("alleles.tsv", alleles_table(q)),
        ("indel_sizes.tsv", _indel_rows(q.amplicons)),
    ):
        written.append(write_tsv(outdir / name, columns, rows))
    if q.reads is not None:
        data = _tsv(("read_id", "class", "alleles"), q.reads)
        path = outdir / "reads.tsv.gz"
        write_bytes(path, gzip.compress(data, compresslevel=6, mtime=0))
        written.append(path)
    if plots:
        from pmpath.engagement.plots import write_plots

        written += write_plots(q, outdir)
    return written


def _indel_rows(amplicons: Sequence[AmpliconQuantification]):
    rows = []
    for a in amplicons:
        for size, n in a.indel_sizes.items():
            rows.append([a.name, size, n])
    return ("amplicon", "indel_size", "reads"), rows
