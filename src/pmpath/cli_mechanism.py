"""`pmpath mechanism`: sequence-level mechanism commands (the off-target search)."""

from __future__ import annotations

import typer

from pmpath.cli_offtarget import offtarget

__all__ = ["mechanism_app"]

mechanism_app = typer.Typer(
    name="mechanism",
    help="Mechanism from sequence: off-target search.",
    no_args_is_help=True,
)
mechanism_app.command("offtarget")(offtarget)
