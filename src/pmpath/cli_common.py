"""What every `pmpath` command shares: exit codes, output options, findings on stderr, the error guard.

Command groups in their own modules (``pmpath.cli_<group>``) import from here, never from
:mod:`pmpath.cli`, which imports them to register their sub-apps.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import os
import sys
import tempfile
import traceback
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from pmpath import __version__
from pmpath.errors import (
    AnalysisError,
    DossierError,
    Finding,
    OutputError,
    PmpathError,
    Severity,
    UsageError,
    findings_json,
)

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

EXIT_OK = 0
EXIT_ANALYSIS = 1
EXIT_INVALID = 2
EXIT_OUTPUT = 3


class Format(StrEnum):
    text = "text"
    json = "json"


Quiet = Annotated[
    bool, typer.Option("--quiet", "-q", help="Print only what was written, and errors.")
]
Verbose = Annotated[
    bool, typer.Option("--verbose", "-v", help="Also print each step and every warning in full.")
]
FormatOpt = Annotated[
    Format,
    typer.Option("--format", help="text for people, json (one object on stdout) for machines."),
]
Strict = Annotated[bool, typer.Option("--strict", help="Treat warnings as errors (exit 2).")]


# --------------------------------------------------------------------------- messages


def _line(text: str) -> None:
    """One line on stderr, never wrapped (grep and CI read these)."""
    sys.stderr.write(text.rstrip("\n") + "\n")
    sys.stderr.flush()


def _count_line(findings: list[Finding]) -> str:
    errors = sum(f.severity is Severity.error for f in findings)
    warnings = len(findings) - errors
    return f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}"


def print_findings(findings: list[Finding], *, quiet: bool = False) -> None:
    shown = [f for f in findings if not (quiet and f.severity is Severity.warning)]
    for f in sorted(shown, key=lambda f: f.sort_key):
        _line(str(f))
    if findings:
        _line(_count_line(findings))


def _crash_log(exc: BaseException) -> Path:
    base = os.environ.get("XDG_STATE_HOME")
    directory = Path(base) / "pmpath" if base else Path(tempfile.gettempdir()) / "pmpath"
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"crash-{stamp}.log"
    except OSError:
        path = Path(tempfile.gettempdir()) / f"pmpath-crash-{stamp}.log"
    text = (
        f"pmpath {__version__}, Python {sys.version.split()[0]}\n"
        f"argv: {sys.argv!r}\n\n"
        + "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    )
    with contextlib.suppress(OSError):
        path.write_text(text, encoding="utf-8")
    return path


def _json_error(kind: str, message: str, code: int) -> None:
    sys.stdout.write(
        json.dumps({"ok": False, "error": {"kind": kind, "message": message, "exit_code": code}})
        + "\n"
    )


def _guarded(fmt_param: str | None = "fmt"):
    """Map every way a command can fail to its exit code and one clear line; never a traceback."""

    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            as_json = fmt_param is not None and kwargs.get(fmt_param) == Format.json
            quiet = bool(kwargs.get("quiet", False))
            try:
                return fn(*args, **kwargs)
            except typer.Exit:
                raise
            except DossierError as exc:
                if as_json:
                    sys.stdout.write(findings_json(exc.findings, valid=False) + "\n")
                else:
                    print_findings(exc.findings, quiet=quiet)
                    _line("invalid dossier: nothing was written")
                raise typer.Exit(EXIT_INVALID) from None
            except (UsageError, AnalysisError, OutputError) as exc:
                code = exc.exit_code
                kind = {2: "invalid input", 1: "analysis could not run", 3: "cannot write output"}[
                    code
                ]
                if as_json:
                    _json_error(kind, str(exc), code)
                _line(f"{kind}: {exc}")
                raise typer.Exit(code) from None
            except OSError as exc:  # a write pmpath did not wrap: still one line, exit 3
                where = exc.filename or ""
                message = f"{where}: {exc.strerror or exc}" if where else str(exc)
                if as_json:
                    _json_error("cannot write output", message, EXIT_OUTPUT)
                _line(f"cannot write output: {message}")
                raise typer.Exit(EXIT_OUTPUT) from None
            except PmpathError as exc:
                _line(f"error: {exc}")
                raise typer.Exit(EXIT_ANALYSIS) from None
            except KeyboardInterrupt:
                _line("interrupted")
                raise typer.Exit(130) from None
            except Exception as exc:  # a bug: say so in one line, keep the traceback in a file
                path = _crash_log(exc)
                if as_json:
                    _json_error("internal error", f"{type(exc).__name__}; traceback in {path}", 1)
                _line(
                    f"internal error, please report ({type(exc).__name__}); the traceback is in {path}"
                )
                raise typer.Exit(EXIT_ANALYSIS) from None

        return wrapper

    return decorate


class _Steps:
    """Progress on stderr: a Rich bar on a terminal, plain lines otherwise (only for long steps)."""

    def __init__(self, quiet: bool, verbose: bool):
        self.quiet, self.verbose = quiet, verbose
        self.terminal = err.is_terminal

    def note(self, text: str) -> None:
        if self.quiet:
            return
        if self.terminal:
            err.print(f"[dim]{text}[/dim]", highlight=False, markup=True)
        else:
            _line(f"pmpath: {text}")

    def detail(self, text: str) -> None:
        if self.verbose:
            self.note(text)
