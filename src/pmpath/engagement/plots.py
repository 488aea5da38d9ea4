"""The quantifier's static plots (SVG, matplotlib): conversion by position with its intervals, the
allele table around the window, and the histogram of indel sizes in the window.

The SVGs are deterministic (no date, a fixed hash salt), so a rerun on the same reads writes the
same bytes.
"""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib
import matplotlib.patches
import numpy as np
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure

from pmpath.atomic import write_bytes
from pmpath.engagement.quantify import Quantification, decode_allele
from pmpath.formatting import format_percent

__all__ = ["allele_plot", "conversion_plot", "indel_size_plot", "write_plots"]

_BASE_COLOURS = {"A": "#4daf4a", "C": "#377eb8", "G": "#ff7f00", "T": "#984ea3", "N": "#999999"}


def _svg(fig: Figure) -> bytes:
    FigureCanvasSVG(fig)
    buf = io.BytesIO()
    with matplotlib.rc_context({"svg.hashsalt": "pmpath", "svg.fonttype": "none"}):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": "pmpath"})
    return buf.getvalue()


def conversion_plot(q: Quantification, amplicon: str) -> bytes:
    """Conversion % (base editors) or modification % (deletion + insertion) by position, window shaded."""
    a = q.amplicon(amplicon)
    t = a.target
    k, n, lo, hi = a.conversion()
    w = t.window_indices
    first, last = max(0, w[0] - 15), min(len(t.amplicon.sequence), w[-1] + 16)
    x = np.arange(first, last)
    fig = Figure(figsize=(8, 3.2))
    ax = fig.add_subplot()
    ax.axvspan(w[0] + 0.5, w[-1] + 1.5, color="#eeeeee", zorder=0, label="window")
    with np.errstate(invalid="ignore", divide="ignore"):
        if t.from_base is not None:
            y = 100 * k[x] / n[x]
            ok = ~np.isnan(y)
            ax.errorbar(
                x[ok] + 1,
                y[ok],
                yerr=[y[ok] - 100 * lo[x][ok], 100 * hi[x][ok] - y[ok]],
                fmt="o",
                color="#1f77b4",
                ms=4,
                capsize=2,
                label=f"{t.from_base}>{t.to_base} (95% CI)",
            )
            if q.control is not None:
                c = q.control.amplicon(amplicon)
                kc, nc, _, _ = c.conversion()
                yc = 100 * kc[x] / nc[x]
                okc = ~np.isnan(yc)
                ax.plot(x[okc] + 1, yc[okc], "x", color="#d62728", label="control")
            ax.set_ylabel("conversion (% of reads)")
        else:
            cov = a.coverage[x]
            mod = 100 * (a.counts[x, 5] + a.insertions[x]) / np.maximum(cov, 1)
            ax.bar(x + 1, mod, color="#1f77b4", label="deletion or insertion")
            ax.set_ylabel("modified (% of reads)")
    ax.set_xticks(x + 1)
    ax.set_xticklabels(list(t.amplicon.sequence[first:last]), fontsize=6)
    ax.set_xlabel(f"{t.amplicon.name}: position (bases shown; window shaded)")
    ax.legend(fontsize=7, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return _svg(fig)


def allele_plot(q: Quantification, amplicon: str, rows: int = 20) -> bytes:
    """The most frequent alleles over the window +- 10 bp, coloured by base, with their shares."""
    a = q.amplicon(amplicon)
    t = a.target
    top = sorted(a.alleles.items(), key=lambda kv: (-kv[1], kv[0]))[:rows]
    total = max(a.classified, 1)
    lo, hi = a.allele_region
    width = hi - lo
    fig = Figure(figsize=(max(6, 0.16 * width + 2.5), 0.28 * (len(top) + 2) + 0.6))
    ax = fig.add_subplot()
    ref = t.amplicon.sequence[lo:hi]
    lines = [("reference", ref, None)] + [
        (format_percent(n / total), decode_allele(t, key)[0], key) for key, n in top
    ]
    for r, (label, _seq, key) in enumerate(lines):
        y = len(lines) - r
        codes = np.frombuffer(key, dtype=np.uint8)[:width] if key is not None else None
        ins = np.frombuffer(key, dtype=np.uint8)[width:] if key is not None else None
        for col in range(width):
            j = col
            base = ref[j] if codes is None else "ACGTN-."[int(codes[j])]
            face = _BASE_COLOURS.get(base, "#ffffff")
            differs = codes is not None and base != ref[j]
            ax.add_patch(
                matplotlib.patches.Rectangle(
                    (col, y - 0.45), 1, 0.9, color=face, alpha=1.0 if differs else 0.35, lw=0
                )
            )
            ax.text(
                col + 0.5,
                y,
                base,
                ha="center",
                va="center",
                fontsize=6,
                fontweight="bold" if differs else "normal",
            )
            if ins is not None and ins[j]:
                ax.plot([col + 1, col + 1], [y - 0.5, y + 0.5], color="#d62728", lw=1.5)
        ax.text(width + 0.5, y, label, ha="left", va="center", fontsize=7)
    w0, w1 = t.window_indices[0] - lo, t.window_indices[-1] - lo + 1
    ax.plot([w0, w0], [0.4, len(lines) + 0.6], "k--", lw=0.6)
    ax.plot([w1, w1], [0.4, len(lines) + 0.6], "k--", lw=0.6)
    ax.set_xlim(0, width + 5)
    ax.set_ylim(0.4, len(lines) + 0.6)
    ax.axis("off")
    ax.set_title(
        f"{t.amplicon.name}: alleles at positions {lo + 1}-{hi} (window dashed; red bar: insertion)",
        fontsize=8,
    )
    return _svg(fig)


def indel_size_plot(q: Quantification, amplicon: str) -> bytes:
    """Reads by net indel size in the window (negative: deletion)."""
    a = q.amplicon(amplicon)
    fig = Figure(figsize=(6, 3))
    ax = fig.add_subplot()
    if a.indel_sizes:
        sizes = np.array(list(a.indel_sizes.keys()))
        counts = np.array(list(a.indel_sizes.values()))
        ax.bar(sizes, 100 * counts / max(a.classified, 1), color="#1f77b4", width=0.8)
    ax.set_xlabel("indel size in the window (bases; negative = deletion)")
    ax.set_ylabel("% of reads")
    ax.set_title(f"{a.name}: indel sizes", fontsize=9)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return _svg(fig)


def write_plots(q: Quantification, outdir: Path) -> list[Path]:
    """Write the three plots of every amplicon; file names carry the amplicon's name when several."""
    written = []
    many = len(q.amplicons) > 1
    for a in q.amplicons:
        suffix = f"_{a.name}" if many else ""
        for stem, draw in (
            ("conversion_by_position", conversion_plot),
            ("alleles", allele_plot),
            ("indel_sizes", indel_size_plot),
        ):
            path = Path(outdir) / f"{stem}{suffix}.svg"
            write_bytes(path, draw(q, a.name))
            written.append(path)
    return written
