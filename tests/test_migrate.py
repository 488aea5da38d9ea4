"""`pmpath migrate`: an older dossier becomes a new directory in the current format; the old one is untouched."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from pmpath.cli import app
from pmpath.dossier import load_dossier
from pmpath.dossier.load import load_platform
from pmpath.dossier.migrate import STEPS, migrate_dossier
from pmpath.dossier.model import SCHEMA_VERSION
from pmpath.errors import DossierError
from pmpath.examples import example_path

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
    # platform.yaml, cohort.yaml and one case.yaml, once for each of the two steps
    assert len(report["changes"]) == 3 * (SCHEMA_VERSION - 1)
    assert runner.invoke(app, ["validate", str(new)]).exit_code == 0
    assert tree_digest(old) == before  # never in place
    # comments survive the line edit
    assert f"schema_version: {SCHEMA_VERSION}  # v1" in (new / "platform.yaml").read_text()


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


# --------------------------------------------------------------------------- version 2 -> 3

BAND_LINE = "    min_fraction_beyond_band: 0.75  # two thirds was too lax\n"
RATIO_LINE = "    max_rate_ratio: 0.5\n"


def version_2(tmp_path: Path, example: str = "abe-ucd") -> Path:
    """A bundled example (written by the dossier writer) set back to version 2, with the band rule."""
    old = tmp_path / "old"
    shutil.copytree(example_path(example), old)
    for path in old.rglob("*.yaml"):
        path.write_text(path.read_text().replace("schema_version: 3", "schema_version: 2"))
    platform = old / "platform.yaml"
    lines = platform.read_text().splitlines(keepends=True)
    at = lines.index("    prediction_level: 0.95\n") + 1
    lines[at:at] = ["    # share of post-dose visits beyond the band\n", BAND_LINE, RATIO_LINE]
    # a v2 plan knows nothing of v3's fields
    text = "".join(lines)
    text = text[: text.index("    decision: frequentist")]
    platform.write_text(text)
    return old


def test_the_v2_to_v3_step_is_registered() -> None:
    assert SCHEMA_VERSION == 3 and sorted(STEPS) == [1, 2]


def test_a_v2_plan_is_refused_then_migrated_without_the_band_rule(tmp_path: Path) -> None:
    old = version_2(tmp_path)
    before = tree_digest(old)
    refused = runner.invoke(app, ["validate", str(old)])
    assert refused.exit_code == 2 and "pmpath migrate" in refused.stderr
    new = tmp_path / "new"
    result = migrate_dossier(old, new)
    assert (result.from_version, result.to_version) == (2, 3)
    removal = [c for c in result.changes if "min_fraction_beyond_band" in c]
    assert (
        len(removal) == 1 and "no longer decides" in removal[0] and "band plot stays" in removal[0]
    )
    line = old.joinpath("platform.yaml").read_text().splitlines().index(BAND_LINE.rstrip("\n")) + 1
    assert removal[0].startswith(f"platform.yaml:{line}:")
    ratio = [c for c in result.changes if "max_rate_ratio" in c]
    assert len(ratio) == 1 and "one-sided confidence bound" in ratio[0]
    text = (new / "platform.yaml").read_text()
    assert "min_fraction_beyond_band" not in text and "max_rate_ratio" not in text
    assert "# share of post-dose visits beyond the band" in text  # comments are kept
    plan = yaml.safe_load(text)["analysis_plan"]["improvement"]
    assert plan["prediction_level"] == 0.95 and plan["min_post_dose_visits"] == 2
    assert sum("schema_version 3" in c for c in result.changes) == 6  # platform, cohort, 4 cases
    assert tree_digest(old) == before
    dossier = load_dossier(new)
    assert dossier.platform.schema_version == 3
    assert not hasattr(dossier.platform.analysis_plan.improvement, "min_fraction_beyond_band")


def test_a_v2_plan_without_the_band_rule_only_changes_version(tmp_path: Path) -> None:
    old = version_2(tmp_path)
    platform = old / "platform.yaml"
    platform.write_text(platform.read_text().replace(BAND_LINE, ""))
    result = migrate_dossier(old, tmp_path / "new")
    assert not [c for c in result.changes if "min_fraction_beyond_band" in c]
    assert load_platform(tmp_path / "new").schema_version == 3


def test_only_the_improvement_plans_band_rule_is_removed(tmp_path: Path) -> None:
    """A key of the same name elsewhere (a comment, another section) is not the plan's field."""
    old = version_2(tmp_path)
    platform = old / "platform.yaml"
    text = platform.read_text().replace(
        "  engagement:\n", "  # min_fraction_beyond_band: see improvement\n  engagement:\n"
    )
    platform.write_text(text)
    migrate_dossier(old, tmp_path / "new")
    migrated = (tmp_path / "new" / "platform.yaml").read_text()
    assert "  # min_fraction_beyond_band: see improvement\n" in migrated
    assert BAND_LINE not in migrated


def test_a_v3_plan_with_the_band_rule_is_a_finding_naming_the_way_out(tmp_path: Path) -> None:
    old = tmp_path / "v3"
    shutil.copytree(example_path("abe-ucd"), old)
    platform = old / "platform.yaml"
    lines = platform.read_text().splitlines(keepends=True)
    at = lines.index("    prediction_level: 0.95\n") + 1
    lines[at:at] = [BAND_LINE]
    platform.write_text("".join(lines))
    with pytest.raises(DossierError) as err:
        load_platform(old)
    [finding] = [f for f in err.value.findings if "min_fraction_beyond_band" in f.field]
    assert finding.line == at + 1
    assert "removed in schema version 3" in finding.found
    assert "pmpath migrate" in finding.expected


def test_a_band_rule_in_flow_style_is_named_for_the_sponsor_to_delete(tmp_path: Path) -> None:
    """The line editor keeps comments by editing block YAML only; flow style is said, not guessed."""
    old = version_2(tmp_path)
    platform = old / "platform.yaml"
    text = platform.read_text()
    start = text.index("  improvement:\n")
    platform.write_text(
        text[:start] + "  improvement: {alpha_one_sided: 0.025, min_fraction_beyond_band: 0.7}\n"
    )
    result = migrate_dossier(old, tmp_path / "new")
    [note] = [c for c in result.changes if "min_fraction_beyond_band" in c]
    assert "flow style" in note and "delete it by hand" in note
    with pytest.raises(DossierError) as err:
        load_platform(tmp_path / "new")
    assert any("removed in schema version 3" in f.found for f in err.value.findings)
