"""Validation of the sequencing data an engagement row names (FASTQ reads, a CRISPResso2 folder,
a BAM): each file exists inside the dossier, is what it says at a glance, and is hashed into the
dossier's inputs; every problem is a finding on the engagement table's row.

Only the first FASTQ record is read here (its four lines), so validating a dossier stays fast with
gigabytes of reads; the quantifier reports a bad record deeper in the file when it runs.
"""

from __future__ import annotations

import gzip
import hashlib
import re
import zlib
from pathlib import Path, PurePosixPath
from typing import Protocol

import numpy as np

from pmpath.dossier import tables as T
from pmpath.dossier.check import CheckedTable
from pmpath.errors import Finding, Severity

__all__ = ["check_engagement_data"]

_CHUNK = 1 << 20
_FASTQ_SEQUENCE = re.compile(r"^[ACGTN]*$")
_FASTA_SUFFIXES = (".fa", ".fasta", ".fna", ".fa.gz", ".fasta.gz", ".fna.gz")
_TEXT_COLUMNS = (
    "reads_r1",
    "reads_r2",
    "crispresso_dir",
    "bam",
    "aberrant_junction",
    "corrected_junction",
    "amplicon",
    "control_of",
)
_PATH_COLUMNS = ("reads_r1", "reads_r2", "crispresso_dir", "bam")


class _ReaderLike(Protocol):
    root: Path
    resolved_root: Path
    findings: list[Finding]
    inputs: dict[str, str]

    def error(
        self,
        path: str,
        line: int | None,
        field_name: str,
        found: str,
        expected: str,
        severity: Severity = Severity.error,
    ) -> None: ...


def _join(base_dir: str, rel: str) -> str:
    return str(PurePosixPath(base_dir) / rel) if base_dir not in ("", ".") else rel


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _inside(reader: _ReaderLike, rel: str, where: str, line: int, column: str) -> Path | None:
    try:
        full = (reader.root / rel).resolve(strict=False)
        full.relative_to(reader.resolved_root)
    except (OSError, RuntimeError, ValueError):
        reader.error(
            where, line, column, repr(rel), "a path inside the dossier (a symlink may not leave it)"
        )
        return None
    return full


def _register(
    reader: _ReaderLike, rel: str, full: Path, where: str, line: int, column: str
) -> bool:
    try:
        reader.inputs[rel] = _sha256_file(full)
    except OSError as exc:
        reader.error(
            where, line, column, f"{rel!r} cannot be read ({exc.strerror})", "a readable file"
        )
        return False
    return True


def _fastq_problem(full: Path) -> tuple[int, str, str] | None:
    """(line, found, expected) of the first FASTQ record's problem, or None when it reads well."""
    try:
        with full.open("rb") as raw:
            magic = raw.read(2)
        opener = gzip.open if magic == b"\x1f\x8b" else open
        with opener(full, "rb") as fh:
            lines = [fh.readline() for _ in range(4)]
    except (OSError, EOFError, zlib.error) as exc:
        return (
            1,
            f"a file that cannot be decompressed or read ({exc})",
            "a FASTQ or gzip-compressed FASTQ file",
        )
    if not lines[0]:
        return 1, "an empty file", "FASTQ records (a file with reads)"
    text = [x.decode("ascii", errors="replace").rstrip("\r\n") for x in lines]
    if not text[0].startswith("@"):
        return 1, f"header line {text[0][:40]!r}", "a FASTQ record starting with '@' (read name)"
    if not lines[3]:
        return (
            len([x for x in lines if x]) + 1,
            "a truncated first record",
            "four lines per FASTQ record",
        )
    if not text[2].startswith("+"):
        return 3, f"separator line {text[2][:40]!r}", "'+' (the FASTQ separator line)"
    if not _FASTQ_SEQUENCE.match(text[1].upper()):
        bad = sorted(set(text[1].upper()) - set("ACGTN"))
        return 2, f"letters {''.join(bad)[:10]!r} in the sequence", "A, C, G, T or N"
    if len(text[1]) != len(text[3]):
        return (
            4,
            f"{len(text[3])} quality characters for {len(text[1])} bases",
            "one quality per base",
        )
    return None


def _check_fastq(reader: _ReaderLike, rel: str, where: str, line: int, column: str) -> None:
    full = _inside(reader, rel, where, line, column)
    if full is None:
        return
    if not full.is_file():
        reader.error(
            where,
            line,
            column,
            f"no file {rel!r}" + (" (it is a directory)" if full.exists() else ""),
            "a FASTQ file in the dossier",
        )
        return
    problem = _fastq_problem(full)
    if problem is not None:
        fastq_line, found, expected = problem
        reader.error(rel, fastq_line, column, found, expected)
    _register(reader, rel, full, where, line, column)


def _check_bam(reader: _ReaderLike, rel: str, where: str, line: int, column: str) -> None:
    full = _inside(reader, rel, where, line, column)
    if full is None:
        return
    if not full.is_file():
        reader.error(where, line, column, f"no file {rel!r}", "a BAM file in the dossier")
        return
    try:
        with full.open("rb") as fh:
            magic = fh.read(2)
    except OSError as exc:
        reader.error(
            where, line, column, f"{rel!r} cannot be read ({exc.strerror})", "a readable file"
        )
        return
    if magic != b"\x1f\x8b":
        reader.error(
            rel, None, column, "a file that is not BGZF-compressed", "a BAM file (samtools view -b)"
        )
    _register(reader, rel, full, where, line, column)
    for suffix in (".bai", ".csi"):
        index = full.with_name(full.name + suffix)
        if index.is_file():
            _register(reader, rel + suffix, index, where, line, column)


def _check_crispresso(reader: _ReaderLike, rel: str, where: str, line: int, column: str) -> None:
    from pmpath.engagement.crispresso import crispresso_findings_problem

    full = _inside(reader, rel, where, line, column)
    if full is None:
        return
    if not full.is_dir():
        reader.error(
            where, line, column, f"no folder {rel!r}", "a CRISPResso2 output folder in the dossier"
        )
        return
    problem = crispresso_findings_problem(full)
    if problem is not None:
        shown = problem.replace(str(full), rel)
        reader.error(
            where,
            line,
            column,
            shown,
            "a CRISPResso2 output folder with its info, summary, nucleotide and allele tables",
        )
    for path in sorted(full.rglob("*")):
        if path.is_file():
            sub = _join(rel, path.relative_to(full).as_posix())
            _register(reader, sub, path, where, line, column)


def check_engagement_data(
    reader: _ReaderLike, table: CheckedTable, patient_dir: str
) -> dict[str, np.ndarray]:
    """Check every engagement row's counts or sequencing data; the typed columns to keep.

    A row has counts (``edited`` and ``total``) or exactly one of ``reads_r1``,
    ``crispresso_dir``, ``bam``; paths are relative to the case.yaml folder and returned relative
    to the dossier root. Findings: a missing or unreadable file, a FASTQ whose first record is
    malformed, a CRISPResso2 folder without its required files, a BAM without its junctions, a
    ``control_of`` that names no replicate of the assay.
    """
    from pmpath.errors import UsageError

    f = table.frame
    n = len(table)
    where = table.path
    text = {
        c: np.array([str(v).strip() for v in f[c]], dtype=object)
        if c in f
        else np.full(n, "", dtype=object)
        for c in _TEXT_COLUMNS
    }
    nan = np.full(n, np.nan)
    edited = np.asarray(f.get("edited", nan), dtype=float)
    total = np.asarray(f.get("total", nan), dtype=float)
    replicate = np.array(
        [str(v).strip() or "1" for v in f.get("replicate", np.full(n, "1"))], dtype=object
    )
    assays = np.asarray(f["assay"], dtype=object)
    out = {c: text[c].copy() for c in _TEXT_COLUMNS}
    for i in range(n):
        line = table.line(i)
        sources = [c for c in T.ENGAGEMENT_DATA_COLUMNS if text[c][i]]
        have = (np.isfinite(edited[i]), np.isfinite(total[i]))
        if have[0] != have[1]:
            missing = "total" if have[0] else "edited"
            reader.error(
                where,
                line,
                missing,
                "an empty cell",
                f"{missing} beside {'edited' if have[0] else 'total'}",
            )
        if len(sources) > 1:
            reader.error(
                where,
                line,
                sources[1],
                f"both {sources[0]} and {sources[1]}",
                "one source of counts per row",
            )
        if sources and any(have):
            reader.error(
                where,
                line,
                "edited",
                f"counts beside {sources[0]}",
                f"counts or {sources[0]}, not both",
            )
        if not sources and not any(have):
            reader.error(
                where,
                line,
                "edited",
                "an empty cell",
                "edited and total, or reads_r1, crispresso_dir or bam",
            )
        if text["reads_r2"][i] and not text["reads_r1"][i]:
            reader.error(
                where, line, "reads_r2", "reads_r2 without reads_r1", "reads_r1 beside reads_r2"
            )
        if text["reads_r1"][i] and not text["amplicon"][i]:
            reader.error(
                where,
                line,
                "amplicon",
                "an empty cell",
                "the amplicon the reads come from (a reference FASTA record or a FASTA file)",
            )
        for c in ("aberrant_junction", "corrected_junction"):
            if text["bam"][i] and not text[c][i]:
                reader.error(where, line, c, "an empty cell", f"{c} beside bam (CHR:START-END)")
            elif text[c][i] and not text["bam"][i]:
                reader.error(where, line, c, f"{c} without bam", "bam beside the junctions")
            elif text[c][i]:
                # imported here: pmpath.engagement brings scipy.stats, half a second that a
                # dossier without junctions need not wait for
                from pmpath.engagement.splice import parse_junction

                try:
                    parse_junction(text[c][i], c)
                except UsageError as exc:
                    reader.error(
                        where, line, c, repr(text[c][i]), str(exc).split(", expected ", 1)[-1]
                    )
        for c in _PATH_COLUMNS:
            if text[c][i]:
                rel = _join(patient_dir, text[c][i])
                out[c][i] = rel
                if c in ("reads_r1", "reads_r2"):
                    _check_fastq(reader, rel, where, line, c)
                elif c == "bam":
                    _check_bam(reader, rel, where, line, c)
                else:
                    _check_crispresso(reader, rel, where, line, c)
        amplicon = text["amplicon"][i]
        if amplicon and amplicon.lower().endswith(_FASTA_SUFFIXES):
            rel = _join(patient_dir, amplicon)
            out["amplicon"][i] = rel
            full = _inside(reader, rel, where, line, "amplicon")
            if full is not None and not full.is_file():
                reader.error(
                    where, line, "amplicon", f"no file {rel!r}", "a FASTA file in the dossier"
                )
            elif full is not None:
                _register(reader, rel, full, where, line, "amplicon")
        target = text["control_of"][i]
        if target:
            same = (assays == assays[i]) & (replicate == target)
            if target == replicate[i]:
                reader.error(
                    where,
                    line,
                    "control_of",
                    f"{target!r}, the row's own replicate",
                    "the replicate label of the treated sample it controls",
                )
            elif not same.any():
                known = sorted(
                    {
                        str(r)
                        for r, a in zip(replicate, assays, strict=True)
                        if a == assays[i] and r != replicate[i]
                    }
                )
                reader.error(
                    where,
                    line,
                    "control_of",
                    repr(target),
                    f"a replicate label of assay {assays[i]!r}"
                    + (f": {', '.join(known)}" if known else ""),
                )
    out["target_position"] = np.asarray(f.get("target_position", nan), dtype=float)
    return out
