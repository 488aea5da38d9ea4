"""Reading spontaneous reports: one row per report x drug x event from CSV/Parquet, or FAERS quarterly ASCII extracts.

Both readers return :class:`SpontaneousReports` (an Arrow table with ``id``, ``drug``, ``event`` and
the stratum columns, ready for :func:`pmpath.postmarket.counts.count_pairs`) and an :class:`ImportLog`
of what was wrong in the input, counted per source with examples (``import_log.tsv``: ``source``,
``record``, ``problem``, ``example``):

- a row with the wrong number of fields or a missing id, drug or event: left out;
- a duplicated row: counted once (counts are of unique reports anyway);
- a report whose rows disagree on a stratum: kept in each stratum it names, as openEBGM does;
- FAERS: a case reported in several versions keeps only its latest ``caseversion`` (superseded
  versions are counted, not problems); two DEMO rows for one ``primaryid`` that disagree, or one
  case version under two ``primaryid``, are problems (the largest ``primaryid`` is kept); DRUG and
  REAC rows of a ``primaryid`` not in any DEMO file are left out.

A missing column or an unreadable file is a :class:`pmpath.errors.DossierError` (exit 2).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv

from pmpath.errors import DossierError, Finding, UsageError

__all__ = [
    "ImportLog",
    "ImportProblem",
    "SpontaneousReports",
    "read_faers",
    "read_reports",
    "reports_from_frame",
]

EXAMPLES_PER_PROBLEM = 20
"""How many examples of one problem in one source the log keeps (every one is counted)."""

_MAX_EXAMPLE = 200


@dataclass(frozen=True)
class ImportProblem:
    """One problem found while importing: where (source file and record) and what."""

    source: str
    record: str
    problem: str
    example: str


@dataclass(frozen=True)
class ImportLog:
    """Problems found while importing, counted per source and problem, with up to 20 examples each.

    Attributes
    ----------
    examples : tuple of ImportProblem
        The kept examples, in the order found.
    counts : tuple of (source, problem, count)
        How many records had each problem in each source.
    notes : tuple of str
        What was done that is not a problem (e.g. superseded FAERS case versions dropped).
    """

    examples: tuple[ImportProblem, ...] = ()
    counts: tuple[tuple[str, str, int], ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def total(self) -> int:
        return sum(c for _, _, c in self.counts)

    def __bool__(self) -> bool:
        return bool(self.counts)

    def summary(self) -> list[str]:
        """One line per source and problem: ``source: N records: problem``."""
        return [
            f"{source}: {count} record{'s' * (count != 1)}: {problem}"
            for source, problem, count in self.counts
        ]

    def to_tsv(self) -> str:
        """``import_log.tsv``: a header and one line per kept example (tabs and newlines escaped)."""
        lines = ["source\trecord\tproblem\texample"]
        for p in self.examples:
            lines.append("\t".join(_cell(v) for v in (p.source, p.record, p.problem, p.example)))
        return "\n".join(lines) + "\n"

    def merged(self, other: ImportLog) -> ImportLog:
        return ImportLog(
            self.examples + other.examples, self.counts + other.counts, self.notes + other.notes
        )


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


class _LogBuilder:
    def __init__(self) -> None:
        self.examples: list[ImportProblem] = []
        self.counts: dict[tuple[str, str], int] = {}
        self.notes: list[str] = []

    def add(
        self,
        source: str,
        problem: str,
        records: Sequence[str],
        examples: Sequence[str],
        count: int | None = None,
    ) -> None:
        count = len(records) if count is None else count
        if count == 0:
            return
        key = (source, problem)
        self.counts[key] = self.counts.get(key, 0) + count
        room = EXAMPLES_PER_PROBLEM - sum(1 for p in self.examples if (p.source, p.problem) == key)
        for record, example in list(zip(records, examples, strict=True))[: max(room, 0)]:
            self.examples.append(
                ImportProblem(source, str(record), problem, str(example)[:_MAX_EXAMPLE])
            )

    def build(self) -> ImportLog:
        return ImportLog(
            tuple(self.examples),
            tuple((s, p, c) for (s, p), c in self.counts.items()),
            tuple(self.notes),
        )


@dataclass(frozen=True)
class SpontaneousReports:
    """Report x drug x event rows ready for counting, and the log of their import.

    Attributes
    ----------
    rows : pyarrow.Table
        ``id``, ``drug``, ``event`` (strings) and the ``strata`` columns, problem rows left out.
    strata : tuple of str
        The stratum columns.
    log : ImportLog
        What was wrong in the input.
    sources : tuple of str
        The files read.
    """

    rows: pa.Table
    strata: tuple[str, ...] = ()
    log: ImportLog = field(default_factory=ImportLog)
    sources: tuple[str, ...] = ()

    def __len__(self) -> int:
        return self.rows.num_rows


def _check_names(columns: Sequence[str], wanted: dict[str, str], source: str) -> None:
    missing = [name for name in wanted.values() if name not in columns]
    if missing:
        raise DossierError(
            [
                Finding(
                    source,
                    1,
                    name,
                    f"columns {', '.join(columns) or 'none'}",
                    f"a column named {name}",
                )
                for name in missing
            ]
        )


def reports_from_frame(
    frame: pd.DataFrame,
    *,
    id_col: str = "id",
    drug_col: str = "drug",
    event_col: str = "event",
    strata: Sequence[str] = (),
    source: str = "<frame>",
    records: Sequence[str] | None = None,
    log: _LogBuilder | None = None,
) -> SpontaneousReports:
    """Check and normalize a frame of report rows (missing values, duplicates, conflicting strata).

    ``records`` names each row in the log (e.g. ``line 12``); by default ``row 1``, ``row 2``...
    """
    strata = tuple(strata)
    wanted = {"id": id_col, "drug": drug_col, "event": event_col}
    wanted.update({s: s for s in strata})
    _check_names([str(c) for c in frame.columns], wanted, source)
    builder = log or _LogBuilder()
    data = pd.DataFrame(
        {
            key: frame[name].astype("string").fillna("").to_numpy(dtype=object)
            for key, name in wanted.items()
        }
    )
    rec = np.asarray(
        records if records is not None else [f"row {i + 1}" for i in range(len(data))], dtype=object
    )

    def first(mask) -> np.ndarray:  # only the examples the log keeps are formatted
        return np.nonzero(mask)[0][:EXAMPLES_PER_PROBLEM]

    def example(mask) -> list[str]:
        rows = data.iloc[first(mask)]
        return [",".join(map(str, row)) for row in rows.itertuples(index=False, name=None)]

    def records_of(mask) -> list[str]:
        return list(rec[first(mask)])

    empty = np.zeros(len(data), dtype=bool)
    for key in ("id", "drug", "event"):
        blank = data[key].str.strip().eq("").to_numpy(dtype=bool)
        builder.add(
            source, f"missing {wanted[key]}", records_of(blank), example(blank), int(blank.sum())
        )
        empty |= blank
    keep = ~empty
    data, rec = data.loc[keep].reset_index(drop=True), rec[keep]
    dup = data.duplicated(keep="first").to_numpy()
    builder.add(
        source, "duplicated row (counted once)", records_of(dup), example(dup), int(dup.sum())
    )
    data, rec = data.loc[~dup].reset_index(drop=True), rec[~dup]
    if strata:
        per_id = data.drop_duplicates(["id", *strata])
        conflicting = per_id["id"][per_id["id"].duplicated()].unique()
        distinct = data.loc[data["id"].isin(conflicting)].drop_duplicates(["id", *strata])
        first_mask = np.zeros(len(data), dtype=bool)
        first_mask[distinct.index.to_numpy()] = True
        show = first_mask & data["id"].duplicated(keep="first").to_numpy()
        builder.add(
            source,
            f"report with conflicting {', '.join(strata)} (counted in each)",
            records_of(show),
            example(show),
            count=len(conflicting),
        )
    rows = pa.Table.from_pandas(data, preserve_index=False)
    rows = rows.cast(pa.schema([(c, pa.string()) for c in rows.column_names]))
    return SpontaneousReports(rows, strata, builder.build(), (source,))


def read_reports(
    path: str | Path,
    *,
    id_col: str = "id",
    drug_col: str = "drug",
    event_col: str = "event",
    strata: Sequence[str] = (),
) -> SpontaneousReports:
    """Read one row per report x drug x event from a CSV, TSV or Parquet file.

    Parameters
    ----------
    path : str or Path
        The file (``.csv``, ``.tsv``/``.tab`` or ``.parquet``).
    id_col, drug_col, event_col : str
        Its report id, drug and event columns (openEBGM's ``caers.csv``: ``id``, ``var1``, ``var2``).
    strata : sequence of str
        Stratum columns (e.g. ``strat1``).

    Raises
    ------
    pmpath.errors.DossierError
        The file cannot be read as a table, or a named column is missing.
    """
    from pmpath.dossier.source import read_table

    path = Path(path)
    source = path.name
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DossierError(
            [
                Finding(
                    str(path),
                    None,
                    "",
                    f"an unreadable file ({exc.strerror or exc})",
                    "a readable CSV or Parquet file",
                )
            ]
        ) from exc
    findings: list[Finding] = []
    table = read_table(raw, source, findings)
    if table is None:
        raise DossierError(findings)
    builder = _LogBuilder()
    for f in findings:
        where = f"line {f.line}" if f.line is not None else ""
        builder.add(
            source, f.message if not f.field else f"{f.field}: {f.message}", [where], [f.found]
        )
    kind = "line" if table.row_kind == "line" else "row"
    records = [f"{kind} {n}" for n in table.row_lines.tolist()]
    return reports_from_frame(
        table.frame,
        id_col=id_col,
        drug_col=drug_col,
        event_col=event_col,
        strata=strata,
        source=source,
        records=records,
        log=builder,
    )


# --------------------------------------------------------------------------- FAERS

_FAERS_FIELDS = {
    "DEMO": ("primaryid", "caseid", "caseversion"),
    "DRUG": ("primaryid", "drugname"),
    "REAC": ("primaryid", "pt"),
}


def _faers_files(directory: Path, kind: str) -> list[Path]:
    pattern = re.compile(rf"^{kind}\d\dQ[1-4]\.txt$", re.IGNORECASE)
    return sorted(p for p in directory.rglob("*") if p.is_file() and pattern.match(p.name))


def _read_dollar(path: Path, needed: Sequence[str], builder: _LogBuilder) -> pd.DataFrame:
    bad: list[tuple[str, str]] = []

    def on_invalid(row) -> str:
        bad.append((f"line {row.number}" if row.number is not None else "", row.text))
        return "skip"

    try:
        with open(path, "rb") as fh:
            header = fh.readline().decode("latin1").rstrip("\r\n").split("$")
        table = pa_csv.read_csv(
            path,
            read_options=pa_csv.ReadOptions(encoding="latin1", block_size=1 << 26),
            parse_options=pa_csv.ParseOptions(
                delimiter="$", quote_char=False, invalid_row_handler=on_invalid
            ),
            # every column as text: FAERS columns change type within a file (ages, weights, dates)
            convert_options=pa_csv.ConvertOptions(
                column_types={name: pa.string() for name in header}, strings_can_be_null=False
            ),
        )
    except (pa.ArrowInvalid, OSError, UnicodeDecodeError) as exc:
        raise DossierError(
            [
                Finding(
                    path.name,
                    None,
                    "",
                    f"an unreadable FAERS file ({exc})",
                    "'$'-separated FAERS ASCII text with a header",
                )
            ]
        ) from exc
    columns = [c.lower() for c in table.column_names]
    table = table.rename_columns(columns)
    _check_names(columns, {c: c for c in needed}, path.name)
    if bad:
        builder.add(
            path.name,
            "row with the wrong number of fields",
            [r for r, _ in bad[:EXAMPLES_PER_PROBLEM]],
            [t for _, t in bad[:EXAMPLES_PER_PROBLEM]],
            len(bad),
        )
    frame = pd.DataFrame(
        {
            c: table.column(c).cast(pa.string()).fill_null("").to_numpy(zero_copy_only=False)
            for c in needed
        }
    )
    frame["_line"] = np.arange(len(frame)) + 2  # header on line 1; exact when no row was skipped
    frame["_source"] = path.name
    return frame


def read_faers(directory: str | Path, *, strata: Sequence[str] = ()) -> SpontaneousReports:
    """Read FAERS quarterly ASCII extracts (DEMO, DRUG, REAC ``$``-separated files) under ``directory``.

    Joins DRUG and REAC to DEMO on ``primaryid``, keeps each case's latest ``caseversion``, and
    gives one row per report x drug (``drugname``, upper-cased and trimmed) x event (``pt``, the
    MedDRA preferred term, upper-cased and trimmed). ``strata`` names DEMO columns (e.g. ``sex``).
    Every quarter found below ``directory`` is read (file names like ``DEMO24Q1.txt``).
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise UsageError(f"--faers: found {directory}, expected a directory of FAERS ASCII files")
    files = {kind: _faers_files(directory, kind) for kind in _FAERS_FIELDS}
    missing = [kind for kind, found in files.items() if not found]
    if missing:
        raise DossierError(
            [
                Finding(
                    str(directory),
                    None,
                    kind,
                    "no such file",
                    f"a {kind}yyQn.txt file (FAERS ASCII)",
                )
                for kind in missing
            ]
        )
    builder = _LogBuilder()
    strata = tuple(s.lower() for s in strata)
    demo = pd.concat(
        [_read_dollar(p, (*_FAERS_FIELDS["DEMO"], *strata), builder) for p in files["DEMO"]],
        ignore_index=True,
    )
    drug = pd.concat(
        [_read_dollar(p, _FAERS_FIELDS["DRUG"], builder) for p in files["DRUG"]], ignore_index=True
    )
    reac = pd.concat(
        [_read_dollar(p, _FAERS_FIELDS["REAC"], builder) for p in files["REAC"]], ignore_index=True
    )

    def _first(frame, mask) -> pd.DataFrame:  # only the examples the log keeps are formatted
        return frame.iloc[np.nonzero(np.asarray(mask))[0][:EXAMPLES_PER_PROBLEM]]

    def rec(frame, mask):
        sub = _first(frame, mask)
        return [f"{s} line {n}" for s, n in zip(sub["_source"], sub["_line"], strict=True)]

    def ex(frame, mask, cols):
        sub = _first(frame, mask)
        return ["$".join(row) for row in sub[list(cols)].itertuples(index=False, name=None)]

    demo_cols = (*_FAERS_FIELDS["DEMO"], *strata)

    def without_blanks(frame: pd.DataFrame, kind: str, required, shown) -> pd.DataFrame:
        any_blank = np.zeros(len(frame), dtype=bool)
        for col in required:
            blank = frame[col].str.strip().eq("").to_numpy()
            builder.add(
                f"{kind} files",
                f"missing {col}",
                rec(frame, blank),
                ex(frame, blank, shown),
                int(np.sum(blank)),
            )
            any_blank |= blank
        return frame.loc[~any_blank]

    demo = without_blanks(demo, "DEMO", _FAERS_FIELDS["DEMO"], demo_cols)
    drug = without_blanks(drug, "DRUG", _FAERS_FIELDS["DRUG"], _FAERS_FIELDS["DRUG"])
    reac = without_blanks(reac, "REAC", _FAERS_FIELDS["REAC"], _FAERS_FIELDS["REAC"])
    version = pd.to_numeric(demo["caseversion"], errors="coerce")
    bad_version = version.isna().to_numpy()
    builder.add(
        "DEMO files",
        "caseversion not a whole number",
        rec(demo, bad_version),
        ex(demo, bad_version, demo_cols),
        int(np.sum(bad_version)),
    )
    demo = demo.loc[~bad_version].copy()
    demo["_version"] = version[~bad_version].astype(np.int64)
    demo["_pid"] = pd.to_numeric(demo["primaryid"], errors="coerce").fillna(-1)
    # The same primaryid twice: identical rows (a quarter read twice) are duplicates, others conflict.
    exact = demo.duplicated(list(demo_cols)).to_numpy()
    builder.add(
        "DEMO files",
        "duplicated row (counted once)",
        rec(demo, exact),
        ex(demo, exact, demo_cols),
        int(np.sum(exact)),
    )
    demo = demo.loc[~exact]
    same_id = demo.duplicated("primaryid", keep=False).to_numpy()
    if same_id.any():
        later = demo.duplicated("primaryid", keep="last").to_numpy()
        builder.add(
            "DEMO files",
            "report id with conflicting versions (the last read kept)",
            rec(demo, later),
            ex(demo, later, demo_cols),
            int(np.sum(later)),
        )
        demo = demo.loc[~later]
    demo = demo.sort_values(["caseid", "_version", "_pid"], kind="stable")
    tie = demo.duplicated(["caseid", "_version"], keep="last").to_numpy()
    builder.add(
        "DEMO files",
        "case version under two primaryids (the largest kept)",
        rec(demo, tie),
        ex(demo, tie, demo_cols),
        int(np.sum(tie)),
    )
    latest = demo.drop_duplicates("caseid", keep="last")
    superseded = len(demo) - len(latest) - int(tie.sum())
    if superseded:
        builder.notes.append(
            f"{superseded} superseded case versions left out (each case's latest caseversion kept)"
        )
    kept_ids = set(latest["primaryid"])
    all_ids = set(demo["primaryid"])
    for frame, kind in ((drug, "DRUG"), (reac, "REAC")):
        orphan = ~frame["primaryid"].isin(all_ids).to_numpy()
        builder.add(
            f"{kind} files",
            "primaryid not in any DEMO file (left out)",
            rec(frame, orphan),
            ex(frame, orphan, _FAERS_FIELDS[kind]),
            int(np.sum(orphan)),
        )
    drug = drug.loc[drug["primaryid"].isin(kept_ids), ["primaryid", "drugname"]]
    reac = reac.loc[reac["primaryid"].isin(kept_ids), ["primaryid", "pt"]]
    drug = drug.assign(drug=drug["drugname"].str.strip().str.upper())[
        ["primaryid", "drug"]
    ].drop_duplicates()
    reac = reac.assign(event=reac["pt"].str.strip().str.upper())[
        ["primaryid", "event"]
    ].drop_duplicates()
    rows = drug.merge(reac, on="primaryid")
    if strata:
        rows = rows.merge(latest[["primaryid", *strata]], on="primaryid")
    rows = rows.rename(columns={"primaryid": "id"})[["id", "drug", "event", *strata]]
    table = pa.Table.from_pandas(rows.reset_index(drop=True), preserve_index=False)
    table = table.cast(pa.schema([(c, pa.string()) for c in table.column_names]))
    sources = tuple(p.name for kind in _FAERS_FIELDS for p in files[kind])
    return SpontaneousReports(table, strata, builder.build(), sources)
