"""`python -m pmpath` runs the command line."""

from pmpath.cli import app

app(prog_name="pmpath")
