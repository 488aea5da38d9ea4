"""Import a CRISPResso2 output folder as typed engagement evidence, and write CRISPResso2's
editing-frequency summary from class counts, so a team that already ran CRISPResso2 need not rerun.

What is read, and the conventions the files use:

- ``CRISPResso2_info.json``: the run's arguments (amplicons, guides, editor conversion) and, per
  amplicon, the quantification window as 0-based indices (``include_idxs``). CRISPResso2's
  ``-qwc``/``--quantification_window_coordinates`` are 0-based too (``20-30_40-50``); pmpath
  reports every position 1-based, so both are shifted by one here, once.
- ``CRISPResso_quantification_of_editing_frequency.txt``: one row per amplicon, CRISPResso2's read
  classes (:class:`QuantificationRow`).
- ``Nucleotide_frequency_table.txt`` (counts; preferred) or ``Nucleotide_percentage_table.txt``
  (fractions of the amplicon's aligned reads): rows A, C, G, T, N, ``-`` and one column per
  amplicon base, headed by the base itself, so column names repeat and are read by position,
  never by name.
- ``Alleles_frequency_table.zip``: the allele table (aligned read, aligned reference, reads).

The per-position definitions are pmpath's own, the same as for its quantifier: a position's
denominator (``coverage``) is A + C + G + T + N + deletion at that position; its conversion % is
the share carrying the editor's conversion on the guide's strand (on the amplicon a minus-strand
guide's A>G reads T>C), with a Clopper-Pearson 95% interval; empty (None) where the reference base
is not the editor's base and for a nuclease run.
"""

from __future__ import annotations

import csv
import io
import json
import math
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pmpath.engagement.interval import clopper_pearson
from pmpath.errors import UsageError

__all__ = [
    "QUANTIFICATION_COLUMNS",
    "CrispressoAllele",
    "CrispressoAmplicon",
    "CrispressoGuide",
    "CrispressoRun",
    "PositionCounts",
    "QuantificationRow",
    "crispresso_findings_problem",
    "parse_window_coordinates",
    "read_crispresso",
    "read_quantification_summary",
    "reverse_complement",
    "write_quantification_summary",
]

INFO_FILE = "CRISPResso2_info.json"
QUANTIFICATION_FILE = "CRISPResso_quantification_of_editing_frequency.txt"
FREQUENCY_FILE = "Nucleotide_frequency_table.txt"
PERCENTAGE_FILE = "Nucleotide_percentage_table.txt"
ALLELES_FILE = "Alleles_frequency_table.zip"

QUANTIFICATION_COLUMNS: tuple[str, ...] = (
    "Amplicon",
    "Unmodified%",
    "Modified%",
    "Reads_in_input",
    "Reads_aligned_all_amplicons",
    "Reads_aligned",
    "Unmodified",
    "Modified",
    "Discarded",
    "Insertions",
    "Deletions",
    "Substitutions",
    "Only Insertions",
    "Only Deletions",
    "Only Substitutions",
    "Insertions and Deletions",
    "Insertions and Substitutions",
    "Deletions and Substitutions",
    "Insertions Deletions and Substitutions",
)
"""The column layout of ``CRISPResso_quantification_of_editing_frequency.txt``."""

_COUNT_FIELDS: tuple[tuple[str, str], ...] = (
    ("Reads_in_input", "reads_in_input"),
    ("Reads_aligned_all_amplicons", "reads_aligned_all_amplicons"),
    ("Reads_aligned", "reads_aligned"),
    ("Unmodified", "unmodified"),
    ("Modified", "modified"),
    ("Discarded", "discarded"),
    ("Insertions", "insertions"),
    ("Deletions", "deletions"),
    ("Substitutions", "substitutions"),
    ("Only Insertions", "only_insertions"),
    ("Only Deletions", "only_deletions"),
    ("Only Substitutions", "only_substitutions"),
    ("Insertions and Deletions", "insertions_and_deletions"),
    ("Insertions and Substitutions", "insertions_and_substitutions"),
    ("Deletions and Substitutions", "deletions_and_substitutions"),
    ("Insertions Deletions and Substitutions", "insertions_deletions_and_substitutions"),
)

_NUCLEOTIDE_ROWS = ("A", "C", "G", "T", "N", "-")
_COMPLEMENT = str.maketrans("ACGTNacgtn", "TGCANtgcan")


def reverse_complement(sequence: str) -> str:
    """The reverse complement of a DNA sequence (N stays N).

    >>> reverse_complement("AACG")
    'CGTT'
    """
    return sequence.translate(_COMPLEMENT)[::-1]


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class QuantificationRow:
    """One amplicon's read classes, in CRISPResso2's own terms (a row of its summary file).

    CRISPResso2 counts a read as modified when it carries an insertion, deletion or substitution
    overlapping the quantification window; the ``only_*`` and combined columns partition the
    modified reads. The two percentages are derived: ``unmodified / reads_aligned`` and
    ``modified / reads_aligned``, times 100.
    """

    amplicon: str
    reads_in_input: int
    reads_aligned_all_amplicons: int
    reads_aligned: int
    unmodified: int
    modified: int
    discarded: int
    insertions: int
    deletions: int
    substitutions: int
    only_insertions: int
    only_deletions: int
    only_substitutions: int
    insertions_and_deletions: int
    insertions_and_substitutions: int
    deletions_and_substitutions: int
    insertions_deletions_and_substitutions: int

    @property
    def unmodified_pct(self) -> float | None:
        """Unmodified reads as % of the amplicon's aligned reads (None with no aligned read)."""
        return 100 * self.unmodified / self.reads_aligned if self.reads_aligned else None

    @property
    def modified_pct(self) -> float | None:
        """Modified reads as % of the amplicon's aligned reads (None with no aligned read)."""
        return 100 * self.modified / self.reads_aligned if self.reads_aligned else None


@dataclass(frozen=True)
class PositionCounts:
    """One amplicon position: its base counts, denominator and conversion (pmpath's definitions).

    Attributes
    ----------
    position : int
        1-based position on the amplicon.
    ref : str
        Amplicon base.
    A, C, G, T, N, deletion : int
        Aligned reads with that base (or a deletion) at the position.
    coverage : int
        The denominator: ``A + C + G + T + N + deletion``.
    in_window : bool
        Inside CRISPResso2's quantification window.
    conversion_pct : float or None
        % of ``coverage`` carrying the editor's conversion on the guide's strand; None where the
        reference base is not the editor's (strand-adjusted) base, for a nuclease run, or with no
        coverage.
    ci_low, ci_high : float or None
        Clopper-Pearson 95% interval of ``conversion_pct``, in %.
    """

    position: int
    ref: str
    A: int
    C: int
    G: int
    T: int
    N: int
    deletion: int
    coverage: int
    in_window: bool
    conversion_pct: float | None
    ci_low: float | None
    ci_high: float | None

    def count(self, base: str) -> int:
        """Reads with ``base`` (A, C, G, T, N or ``-``) at the position."""
        return self.deletion if base == "-" else int(getattr(self, base))


@dataclass(frozen=True)
class CrispressoGuide:
    """A guide as CRISPResso2 placed it on the amplicon.

    ``start``/``end`` are 1-based inclusive amplicon positions of the protospacer; ``strand`` is
    ``+`` when the guide reads on the amplicon as given, ``-`` when its reverse complement does.
    ``cut_position`` is the 1-based amplicon position of the base just left of the cut
    (CRISPResso2's 0-based ``sgRNA_cut_points`` plus one).
    """

    sequence: str
    strand: str
    start: int
    end: int
    cut_position: int | None


@dataclass(frozen=True)
class CrispressoAllele:
    """One row of the allele table: an aligned read, the reference as aligned to it, its reads."""

    aligned_sequence: str
    reference_sequence: str
    amplicon: str
    read_status: str
    n_deleted: int
    n_inserted: int
    n_mutated: int
    reads: int
    pct_reads: float

    def base_at(self, position: int) -> str | None:
        """The read's base (or ``-``) aligned to 1-based reference ``position``; None if absent."""
        seen = 0
        for ref_base, read_base in zip(
            self.reference_sequence, self.aligned_sequence, strict=False
        ):
            if ref_base == "-":
                continue  # an insertion in the read: no reference position
            seen += 1
            if seen == position:
                return read_base
        return None


@dataclass(frozen=True)
class CrispressoAmplicon:
    """One amplicon of an imported run: its sequence, guides, window, classes and positions.

    Attributes
    ----------
    name, sequence : str
    guides : tuple of CrispressoGuide
    window : tuple of int
        1-based positions of the quantification window (converted from CRISPResso2's 0-based
        indices).
    classes : QuantificationRow
    positions : tuple of PositionCounts
        One per amplicon base, in order.
    conversion : tuple of (str, str) or None
        The editor's conversion on the guide's strand (``("A", "G")`` for an adenine base
        editor); None for a nuclease run.
    counts_from : str
        Which file the counts came from (the frequency table, or the percentage table times the
        aligned reads, rounded).
    """

    name: str
    sequence: str
    guides: tuple[CrispressoGuide, ...]
    window: tuple[int, ...]
    classes: QuantificationRow
    positions: tuple[PositionCounts, ...]
    conversion: tuple[str, str] | None
    counts_from: str

    def position(self, position: int) -> PositionCounts:
        """The counts at 1-based ``position``."""
        if not 1 <= position <= len(self.positions):
            raise UsageError(
                f"position: found {position}, expected 1 to {len(self.positions)} on amplicon {self.name!r}"
            )
        return self.positions[position - 1]

    def converted(self, position: int) -> tuple[int, int]:
        """``(converted reads, coverage)`` at 1-based ``position``: the (edited, total) pair.

        Raises UsageError when the run has no conversion or the reference base there is not the
        editor's base on the guide's strand.
        """
        p = self.position(position)
        if self.conversion is None:
            raise UsageError(
                f"amplicon {self.name!r}: found a nuclease run (no conversion), expected a base-editing run to count conversions"
            )
        pair = _strand_pair(self.conversion, self.guides[0].strand if self.guides else "+")
        if p.ref != pair[0]:
            raise UsageError(
                f"amplicon {self.name!r} position {position}: found reference base {p.ref}, expected {pair[0]} "
                f"(the editor's {self.conversion[0]} on the guide's {self.guides[0].strand if self.guides else '+'} strand)"
            )
        return p.count(pair[1]), p.coverage


@dataclass(frozen=True)
class CrispressoRun:
    """An imported CRISPResso2 output folder.

    Attributes
    ----------
    folder : Path
    version : str
        CRISPResso2's version, from its info file.
    name : str
        The run's name (``--name``), empty when not given.
    amplicons : tuple of CrispressoAmplicon
    alleles : tuple of CrispressoAllele
        The allele table; empty when the folder has no ``Alleles_frequency_table.zip`` and
        ``require_alleles`` was False.
    """

    folder: Path
    version: str
    name: str
    amplicons: tuple[CrispressoAmplicon, ...]
    alleles: tuple[CrispressoAllele, ...]

    def amplicon(self, name: str | None = None) -> CrispressoAmplicon:
        """The amplicon called ``name`` (the only one when None)."""
        if name is None:
            if len(self.amplicons) != 1:
                raise UsageError(
                    f"amplicon: found {len(self.amplicons)} amplicons in {self.folder}, expected a name "
                    f"(one of {', '.join(a.name for a in self.amplicons)})"
                )
            return self.amplicons[0]
        for a in self.amplicons:
            if a.name == name:
                return a
        raise UsageError(
            f"amplicon: found {name!r}, expected one of {', '.join(a.name for a in self.amplicons)} in {self.folder}"
        )


# --------------------------------------------------------------------------- reading


def _strand_pair(conversion: tuple[str, str], strand: str) -> tuple[str, str]:
    """The conversion as it reads on the amplicon: complemented for a minus-strand guide."""
    if strand == "-":
        return reverse_complement(conversion[0]), reverse_complement(conversion[1])
    return conversion


def _unwrap(value: Any) -> Any:
    """CRISPResso2 stores numpy arrays and sets as ``{"_type": ..., "value": ...}``."""
    if isinstance(value, dict) and "_type" in value and "value" in value:
        return value["value"]
    return value


def _read_info(folder: Path) -> dict[str, Any]:
    path = folder / INFO_FILE
    if not path.is_file():
        raise UsageError(
            f"{path}: file not found, expected a CRISPResso2 output folder with {INFO_FILE}"
        )
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(
            f"{path}: malformed JSON ({exc}), expected CRISPResso2's info file"
        ) from exc
    if not isinstance(info, dict):
        raise UsageError(f"{path}: found a JSON {type(info).__name__}, expected an object")
    for key in ("running_info", "results"):
        if not isinstance(info.get(key), dict):
            raise UsageError(f"{path}: field {key!r} missing, expected CRISPResso2's info file")
    results = info["results"]
    if not isinstance(results.get("refs"), dict) or not results.get("ref_names"):
        raise UsageError(
            f"{path}: field 'results.refs' or 'results.ref_names' missing, expected the amplicons of the run"
        )
    return info


def _args(info: dict[str, Any]) -> dict[str, Any]:
    args = _unwrap(info["running_info"].get("args", {}))
    return args if isinstance(args, dict) else {}


def parse_window_coordinates(text: str, length: int, where: str) -> tuple[int, ...]:
    """CRISPResso2's ``-qwc`` value (0-based inclusive ranges ``a-b_c-d`` or single indices) as
    sorted 1-based positions.

    >>> parse_window_coordinates("4-6_9", 20, "qwc")
    (5, 6, 7, 10)
    """
    out: set[int] = set()
    for part in str(text).split("_"):
        bits = part.split("-")
        try:
            lo, hi = (int(bits[0]), int(bits[-1])) if len(bits) in (1, 2) else (None, None)
        except ValueError:
            lo = hi = None
        if lo is None or hi is None or lo > hi or lo < 0 or hi >= length:
            raise UsageError(
                f"{where}: found {part!r}, expected 0-based ranges START-END within 0-{length - 1} joined by '_'"
            )
        out.update(range(lo + 1, hi + 2))
    return tuple(sorted(out))


def _window(
    ref: dict[str, Any], args: dict[str, Any], length: int, info_path: Path, name: str
) -> tuple[int, ...]:
    include = _unwrap(ref.get("include_idxs"))
    if isinstance(include, list):
        try:
            idx = sorted({int(i) for i in include})
        except (TypeError, ValueError):
            raise UsageError(
                f"{info_path}: amplicon {name!r} include_idxs: found {include!r}, expected 0-based indices"
            ) from None
        if idx and (idx[0] < 0 or idx[-1] >= length):
            raise UsageError(
                f"{info_path}: amplicon {name!r} include_idxs: found {idx[0]}-{idx[-1]}, expected 0 to {length - 1}"
            )
        return tuple(i + 1 for i in idx)
    qwc = args.get("quantification_window_coordinates")
    if qwc not in (None, "", "None"):
        # one coordinate string per amplicon, joined by ',' in amplicon order
        names = [str(n) for n in args.get("amplicon_name", name).split(",")]
        parts = str(qwc).split(",")
        text = parts[names.index(name)] if name in names and len(parts) == len(names) else parts[0]
        return parse_window_coordinates(
            text, length, f"{info_path}: quantification_window_coordinates"
        )
    raise UsageError(
        f"{info_path}: amplicon {name!r}: no include_idxs or quantification_window_coordinates, expected the quantification window"
    )


def _guides(ref: dict[str, Any], sequence: str) -> tuple[CrispressoGuide, ...]:
    seqs = _unwrap(ref.get("sgRNA_sequences")) or []
    intervals = _unwrap(ref.get("sgRNA_intervals")) or []
    cuts = _unwrap(ref.get("sgRNA_cut_points")) or []
    out = []
    for i, guide in enumerate(seqs):
        guide = str(guide).upper()
        if i < len(intervals):
            lo, hi = int(intervals[i][0]), int(intervals[i][1])
        else:
            at = sequence.find(guide)
            at = at if at >= 0 else sequence.find(reverse_complement(guide))
            lo, hi = at, at + len(guide) - 1
        placed = sequence[lo : hi + 1]
        mismatch_plus = sum(a != b for a, b in zip(placed, guide, strict=False))
        mismatch_minus = sum(
            a != b for a, b in zip(placed, reverse_complement(guide), strict=False)
        )
        strand = "+" if mismatch_plus <= mismatch_minus else "-"
        cut = int(cuts[i]) + 1 if i < len(cuts) else None
        out.append(CrispressoGuide(guide, strand, lo + 1, hi + 1, cut))
    return tuple(out)


def _read_table_rows(path: Path) -> list[list[str]]:
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            return [row for row in csv.reader(fh, delimiter="\t") if row]
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read ({exc})") from exc


def _nucleotide_table(
    path: Path, sequence: str, as_fraction: bool, reads_aligned: int
) -> dict[str, list[int]]:
    """Rows A, C, G, T, N, - of a nucleotide table, read by column position (names repeat)."""
    rows = _read_table_rows(path)
    if not rows:
        raise UsageError(f"{path}: empty file, expected a nucleotide table")
    header = [h.strip().upper() for h in rows[0][1:]]
    if "".join(header) != sequence.upper():
        raise UsageError(
            f"{path}: header: found {len(header)} bases not matching the amplicon, expected the amplicon's {len(sequence)} bases"
        )
    table: dict[str, list[int]] = {}
    for line, row in enumerate(rows[1:], start=2):
        key = row[0].strip()
        if key not in _NUCLEOTIDE_ROWS:
            continue
        if len(row) - 1 != len(sequence):
            raise UsageError(
                f"{path}: line {line} ({key}): found {len(row) - 1} values, expected {len(sequence)}"
            )
        values: list[int] = []
        for col, cell in enumerate(row[1:], start=1):
            try:
                x = float(cell)
            except ValueError:
                x = math.nan
            if not math.isfinite(x) or x < 0:
                raise UsageError(
                    f"{path}: line {line} ({key}) column {col + 1}: found {cell!r}, expected a non-negative number"
                )
            values.append(round(x * reads_aligned) if as_fraction else round(x))
        table[key] = values
    missing = [k for k in _NUCLEOTIDE_ROWS if k not in table]
    if missing:
        raise UsageError(
            f"{path}: rows {', '.join(missing)} missing, expected rows {', '.join(_NUCLEOTIDE_ROWS)}"
        )
    return table


def _positions(
    sequence: str,
    table: dict[str, list[int]],
    window: Iterable[int],
    conversion: tuple[str, str] | None,
    strand: str,
) -> tuple[PositionCounts, ...]:
    in_window = set(window)
    pair = _strand_pair(conversion, strand) if conversion is not None else None
    out = []
    for i, ref in enumerate(sequence.upper()):
        c = {k: table[k][i] for k in _NUCLEOTIDE_ROWS}
        coverage = sum(c.values())
        pct = low = high = None
        if pair is not None and ref == pair[0] and coverage > 0:
            k = c[pair[1]]
            pct = 100 * k / coverage
            lo, hi = clopper_pearson(k, coverage)
            low, high = 100 * lo, 100 * hi
        out.append(
            PositionCounts(
                i + 1,
                ref,
                c["A"],
                c["C"],
                c["G"],
                c["T"],
                c["N"],
                c["-"],
                coverage,
                i + 1 in in_window,
                pct,
                low,
                high,
            )
        )
    return tuple(out)


def read_quantification_summary(path: Path | str) -> tuple[QuantificationRow, ...]:
    """Read ``CRISPResso_quantification_of_editing_frequency.txt``: one row per amplicon.

    Columns are found by name; columns CRISPResso2 versions add beyond
    :data:`QUANTIFICATION_COLUMNS` are ignored.
    """
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"{path}: file not found, expected CRISPResso2's {QUANTIFICATION_FILE}")
    rows = _read_table_rows(path)
    if not rows:
        raise UsageError(f"{path}: empty file, expected a header line and one row per amplicon")
    header = rows[0]
    missing = [c for c in QUANTIFICATION_COLUMNS if c not in header]
    if missing:
        raise UsageError(
            f"{path}: line 1: columns {', '.join(missing)} missing, expected CRISPResso2's summary columns"
        )
    at = {c: header.index(c) for c in QUANTIFICATION_COLUMNS}
    out = []
    for line, row in enumerate(rows[1:], start=2):
        if len(row) < len(header):
            raise UsageError(f"{path}: line {line}: found {len(row)} cells, expected {len(header)}")
        counts: dict[str, int] = {}
        for column, field in _COUNT_FIELDS:
            cell = row[at[column]]
            try:
                value = float(cell)
            except ValueError:
                value = math.nan
            if not (math.isfinite(value) and value >= 0 and value == int(value)):
                raise UsageError(
                    f"{path}: line {line} column {column!r}: found {cell!r}, expected a whole read count"
                )
            counts[field] = int(value)
        out.append(QuantificationRow(amplicon=row[at["Amplicon"]], **counts))
    return tuple(out)


def _format_pct(value: float | None) -> str:
    # CRISPResso2 writes its two percentages with 8 decimals; an amplicon without aligned reads
    # has no percentage, written empty.
    return "" if value is None else f"{value:.8f}"


def write_quantification_summary(rows: Sequence[QuantificationRow], path: Path | str) -> Path:
    """Write class counts in the column layout of CRISPResso2's
    ``CRISPResso_quantification_of_editing_frequency.txt`` (tab-separated, one row per amplicon,
    percentages with 8 decimals), so scripts written for CRISPResso2 read pmpath's output.

    Parameters
    ----------
    rows : sequence of QuantificationRow
    path : path
        The file to write.

    Returns
    -------
    Path
    """
    path = Path(path)
    if not rows:
        raise UsageError("rows: found none, expected at least one amplicon's class counts")
    buf = io.StringIO()
    buf.write("\t".join(QUANTIFICATION_COLUMNS) + "\n")
    for row in rows:
        cells = [row.amplicon, _format_pct(row.unmodified_pct), _format_pct(row.modified_pct)]
        cells += [str(getattr(row, field)) for _, field in _COUNT_FIELDS]
        buf.write("\t".join(cells) + "\n")
    from pmpath import atomic

    atomic.write_bytes(path, buf.getvalue().encode("utf-8"))
    return path


def _read_alleles(path: Path) -> tuple[CrispressoAllele, ...]:
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise UsageError(
            f"{path}: not a readable zip archive ({exc}), expected the allele table"
        ) from exc
    with archive:
        names = [n for n in archive.namelist() if n.endswith(".txt")]
        if not names:
            raise UsageError(f"{path}: no .txt member, expected Alleles_frequency_table.txt inside")
        with archive.open(names[0]) as raw:
            reader = csv.reader(io.TextIOWrapper(raw, encoding="utf-8", newline=""), delimiter="\t")
            header = next(reader, None)
            need = (
                "Aligned_Sequence",
                "Reference_Sequence",
                "Reference_Name",
                "Read_Status",
                "n_deleted",
                "n_inserted",
                "n_mutated",
                "#Reads",
                "%Reads",
            )
            if header is None or any(c not in header for c in need):
                raise UsageError(
                    f"{path}:{names[0]}: line 1: found {header!r}, expected columns {', '.join(need)}"
                )
            at = {c: header.index(c) for c in need}
            out = []
            for line, row in enumerate(reader, start=2):
                if not row:
                    continue
                try:
                    out.append(
                        CrispressoAllele(
                            row[at["Aligned_Sequence"]],
                            row[at["Reference_Sequence"]],
                            row[at["Reference_Name"]],
                            row[at["Read_Status"]],
                            int(float(row[at["n_deleted"]])),
                            int(float(row[at["n_inserted"]])),
                            int(float(row[at["n_mutated"]])),
                            int(float(row[at["#Reads"]])),
                            float(row[at["%Reads"]]),
                        )
                    )
                except (ValueError, IndexError) as exc:
                    raise UsageError(
                        f"{path}:{names[0]}: line {line}: malformed row ({exc}), expected the allele table's columns"
                    ) from exc
    return tuple(out)


def _conversion(args: dict[str, Any]) -> tuple[str, str] | None:
    if not args.get("base_editor_output"):
        return None
    a = str(args.get("conversion_nuc_from", "C")).upper()
    b = str(args.get("conversion_nuc_to", "T")).upper()
    return (a, b)


def read_crispresso(
    folder: Path | str,
    *,
    conversion: tuple[str, str] | None = None,
    require_alleles: bool = True,
) -> CrispressoRun:
    """Import a CRISPResso2 output folder (``CRISPResso_on_<name>/``) as typed results.

    Parameters
    ----------
    folder : path
        The output folder.
    conversion : (str, str), optional
        The editor's conversion on the guide's strand, e.g. ``("A", "G")``. Default: the run's own
        (``--conversion_nuc_from/--conversion_nuc_to`` when it was run with
        ``--base_editor_output``; None, a nuclease run, otherwise).
    require_alleles : bool, default True
        Whether a missing ``Alleles_frequency_table.zip`` is an error.

    Returns
    -------
    CrispressoRun

    Raises
    ------
    UsageError
        A required file is missing or malformed: the message names the file and what is wrong.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise UsageError(f"{folder}: not a folder, expected a CRISPResso2 output folder")
    info = _read_info(folder)
    info_path = folder / INFO_FILE
    args = _args(info)
    if conversion is None:
        conversion = _conversion(args)
    else:
        conversion = (conversion[0].upper(), conversion[1].upper())
        if any(b not in "ACGT" or len(b) != 1 for b in conversion):
            raise UsageError(
                f"conversion: found {conversion!r}, expected two bases such as ('A', 'G')"
            )
    classes = {r.amplicon: r for r in read_quantification_summary(folder / QUANTIFICATION_FILE)}
    results = info["results"]
    amplicons = []
    for name in results["ref_names"]:
        ref = results["refs"].get(name)
        if not isinstance(ref, dict) or not ref.get("sequence"):
            raise UsageError(
                f"{info_path}: results.refs.{name}.sequence missing, expected the amplicon's sequence"
            )
        sequence = str(ref["sequence"]).upper()
        if name not in classes:
            raise UsageError(
                f"{folder / QUANTIFICATION_FILE}: amplicon {name!r} missing, expected a row per amplicon of {INFO_FILE}"
            )
        row = classes[name]
        prefix = "" if len(results["ref_names"]) == 1 else f"{name}."
        freq = folder / str(ref.get("nuc_freq_filename") or prefix + FREQUENCY_FILE)
        pct = folder / str(ref.get("nuc_pct_filename") or prefix + PERCENTAGE_FILE)
        if freq.is_file():
            table = _nucleotide_table(freq, sequence, False, row.reads_aligned)
            counts_from = freq.name
        elif pct.is_file():
            table = _nucleotide_table(pct, sequence, True, row.reads_aligned)
            counts_from = f"{pct.name} x {row.reads_aligned} aligned reads"
        else:
            raise UsageError(
                f"{pct}: file not found, expected {pct.name} (or {freq.name}) for amplicon {name!r}"
            )
        window = _window(ref, args, len(sequence), info_path, name)
        guides = _guides(ref, sequence)
        strand = guides[0].strand if guides else "+"
        positions = _positions(sequence, table, window, conversion, strand)
        amplicons.append(
            CrispressoAmplicon(
                name, sequence, guides, window, row, positions, conversion, counts_from
            )
        )
    alleles_path = folder / ALLELES_FILE
    if alleles_path.is_file():
        alleles = _read_alleles(alleles_path)
    elif require_alleles:
        raise UsageError(
            f"{alleles_path}: file not found, expected CRISPResso2's allele table ({ALLELES_FILE})"
        )
    else:
        alleles = ()
    return CrispressoRun(
        folder,
        str(info["running_info"].get("version", "")),
        str(info["running_info"].get("name", "") or args.get("name", "")),
        tuple(amplicons),
        alleles,
    )


def crispresso_findings_problem(folder: Path | str) -> str | None:
    """Why ``folder`` is not an importable CRISPResso2 output folder, or None when it is.

    For dossier validation: a one-line reason naming the file, without importing the whole run.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return f"{folder}: not a folder"
    for name in (INFO_FILE, QUANTIFICATION_FILE, ALLELES_FILE):
        if not (folder / name).is_file():
            return f"{folder / name}: file not found"
    if not any((folder / n).is_file() for n in (FREQUENCY_FILE, PERCENTAGE_FILE)) and not any(
        folder.glob(f"*.{PERCENTAGE_FILE}")
    ):
        return f"{folder / PERCENTAGE_FILE}: file not found"
    try:
        _read_info(folder)
    except UsageError as exc:
        return str(exc)
    return None
