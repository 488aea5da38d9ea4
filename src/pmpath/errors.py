"""The exceptions pmpath raises, and the findings a dossier check produces.

Three kinds of failure, each with its own exit code (see the README's table):

- :class:`DossierError`: the user's input is wrong; carries every :class:`Finding` (file, line,
  field, what was found, what was expected), not only the first. Exit 2.
- :class:`UsageError`: a caller passed arguments that cannot work (a refused output location, an
  unknown option value). Exit 2.
- :class:`AnalysisError`: a method could not run on valid input. Exit 1.
- :class:`OutputError`: the output could not be written (disk full, read-only, permission denied,
  another run holds the lock). Exit 3.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import Enum
from typing import Any


class PmpathError(Exception):
    """Root of every error pmpath raises on purpose."""

    exit_code = 1


class Severity(Enum):
    """How much a finding matters, ordered: ``max(findings)`` severity is the worst one.

    ``warning`` findings leave the dossier valid (``--strict`` turns them into errors); ``error``
    findings make it invalid.
    """

    warning = "warning"
    error = "error"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]

    def __lt__(self, other: Severity) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank < other.rank

    def __le__(self, other: Severity) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank <= other.rank

    def __gt__(self, other: Severity) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank > other.rank

    def __ge__(self, other: Severity) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank >= other.rank


_SEVERITY_RANK = {Severity.warning: 0, Severity.error: 1}


def _one_line(text: str) -> str:
    """Findings print one per line: any control character inside a value is shown escaped."""
    out = []
    for ch in text:
        if ch in "\n\r\t" or ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 or ch in _BIDI:
            out.append(ch.encode("unicode_escape").decode("ascii"))
        else:
            out.append(ch)
    return "".join(out)


# Bidirectional embedding, override and isolate controls (Trojan Source, CVE-2021-42574).
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")


@dataclass(frozen=True)
class Finding:
    """One problem in a dossier: where it is, which field, what was found and what was expected.

    ``line`` and ``column`` are 1-based and ``None`` where the problem has no place in a file (a
    missing file, a property of the whole table).
    """

    path: str
    line: int | None
    field: str
    found: str
    expected: str
    severity: Severity = Severity.error
    column: int | None = None

    @property
    def message(self) -> str:
        if self.expected:
            return f"found {self.found}, expected {self.expected}"
        return f"found {self.found}"

    @property
    def sort_key(self) -> tuple[Any, ...]:
        return (self.path, self.line or 0, self.column or 0, self.field, self.found)

    def __str__(self) -> str:
        where = self.path
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        field = f" {self.field}:" if self.field else ""
        prefix = "warning: " if self.severity is Severity.warning else ""
        return _one_line(f"{prefix}{where}:{field} {self.message}")

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.path,
            "line": self.line,
            "column": self.column,
            "field": self.field,
            "found": self.found,
            "expected": self.expected,
            "severity": self.severity.value,
        }

    def as_error(self) -> Finding:
        """The same finding promoted to an error (``--strict``)."""
        return Finding(
            self.path, self.line, self.field, self.found, self.expected, Severity.error, self.column
        )


def findings_json(findings: list[Finding], *, valid: bool) -> str:
    """The machine-readable form of ``pmpath validate --format json``."""
    ordered = sorted(findings, key=lambda f: f.sort_key)
    return json.dumps(
        {"valid": valid, "findings": [f.to_json() for f in ordered]}, ensure_ascii=False
    )


class DossierError(PmpathError):
    """The dossier is invalid; carries every finding (errors and warnings), not only the first."""

    exit_code = 2

    def __init__(self, findings: list[Finding]):
        self.findings = sorted(findings, key=lambda f: f.sort_key)
        super().__init__("\n".join(str(f) for f in self.findings))

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.error]


class UsageError(PmpathError, ValueError):
    """A caller's mistake: arguments that cannot work (a refused output directory, a bad option)."""

    exit_code = 2


class AnalysisError(PmpathError):
    """A method could not run on valid input (too little data, a model that did not converge)."""

    exit_code = 1


class ConvergenceError(AnalysisError):
    """A model fit did not converge; the message says what to try next."""


class OutputError(PmpathError):
    """The output could not be written: disk full, read-only, permission denied, or locked."""

    exit_code = 3
