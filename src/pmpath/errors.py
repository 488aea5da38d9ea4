"""The exceptions pmpath raises: the user's input is wrong (DossierError) or a method could not run (AnalysisError)."""

from __future__ import annotations

from dataclasses import dataclass


class PmpathError(Exception):
    """Root of every error pmpath raises on purpose."""


@dataclass(frozen=True, order=True)
class Finding:
    """One problem in a dossier: where it is, which field, what was found and what was expected."""

    path: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else self.path
        field = f" {self.field}:" if self.field else ""
        return f"{where}:{field} {self.message}"


class DossierError(PmpathError):
    """The dossier is invalid; carries every finding, not only the first."""

    def __init__(self, findings: list[Finding]):
        self.findings = sorted(findings, key=lambda f: (f.path, f.line or 0, f.field, f.message))
        super().__init__("\n".join(str(f) for f in self.findings))


class AnalysisError(PmpathError):
    """A method could not run on valid input (too little data, a model that did not converge)."""


class ConvergenceError(AnalysisError):
    """A model fit did not converge; the message says what to try next."""
