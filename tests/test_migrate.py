"""`pmpath migrate`: an older dossier becomes a new directory in the current format; the old one is untouched."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from pmpath.cli import app
from pmpath.dossier.model import SCHEMA_VERSION

MINIMAL = Path(__file__).parent / "fixtures" / "minimal"
runner = CliRunner()


def tree_digest(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        h.update(p.relative_to(root).as_posix().encode())
        if p.is_file():
            h.update(p.read_bytes())
    return h.hexdigest()


def version_1(tmp_path: Path) -> Path:
    old = tmp_path / "old"
    shutil.copytree(MINIMAL, old)
    for path in old.rglob("*.yaml"):
        text = path.read_text()
        path.write_text(
            text.replace(f"schema_version: {SCHEMA_VERSION}", "schema_version: 1  # v1")
        )
    return old


def test_version_1_is_refused_with_the_way_out_then_migrated(tmp_path: Path) -> None:
    old = version_1(tmp_path)
    before = tree_digest(old)
    refused = runner.invoke(app, ["validate", str(old)])
    assert refused.exit_code == 2 and "pmpath migrate" in refused.stderr
    new = tmp_path / "new"
    result = runner.invoke(app, ["migrate", str(old), "--out", str(new), "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["from_version"], report["to_version"]) == (1, SCHEMA_VERSION)
    assert len(report["changes"]) == 3  # platform.yaml, cohort.yaml, one case.yaml
    assert runner.invoke(app, ["validate", str(new)]).exit_code == 0
    assert tree_digest(old) == before  # never in place
    # comments survive the line edit
    assert "schema_version: 2  # v1" in (new / "platform.yaml").read_text()


def test_migrate_refuses_an_existing_output_or_one_inside_the_dossier(tmp_path: Path) -> None:
    old = version_1(tmp_path)
    before = tree_digest(old)
    (tmp_path / "taken").mkdir()
    for out in (tmp_path / "taken", old / "sub", old):
        result = runner.invoke(app, ["migrate", str(old), "--out", str(out)])
        assert result.exit_code == 2, (out, result.output)
        assert str(out) in result.stderr or "dossier" in result.stderr
    assert tree_digest(old) == before
    assert not list(tmp_path.glob(".*pmpath-tmp*"))
