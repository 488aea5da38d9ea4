"""Converting a dossier of an older format version into the current one, into a new directory.

``pmpath migrate DIR --out NEW`` copies DIR to NEW and applies one step per version, in order;
DIR is never changed. Each step edits the YAML text line by line, so the sponsor's comments and
layout survive, and says what it changed. A later change of the format adds its step to
:data:`STEPS` and bumps :data:`pmpath.dossier.model.SCHEMA_VERSION`.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from pmpath.dossier.model import REMOVED_IN_V3, SCHEMA_VERSION
from pmpath.errors import DossierError, Finding, OutputError, UsageError

_VERSION_LINE = re.compile(r"^(schema_version:\s*)(\d+)(\s*(#.*)?)$", re.M)


@dataclass
class MigrationResult:
    """What a migration did: the versions it went through and every change, one line each."""

    source: Path
    out: Path
    from_version: int
    to_version: int
    changes: list[str] = field(default_factory=list)


def _yaml_files(root: Path) -> list[Path]:
    files = [root / "platform.yaml", root / "natural_history" / "cohort.yaml"]
    files += sorted((root / "patients").glob("*/case.yaml"))
    return [f for f in files if f.is_file()]


def _set_version(root: Path, version: int, changes: list[str]) -> None:
    for path in _yaml_files(root):
        text = path.read_text(encoding="utf-8-sig")
        new, n = _VERSION_LINE.subn(lambda m: f"{m[1]}{version}{m[3]}", text, count=1)
        if n == 0:
            new = f"schema_version: {version}\n" + text
        if new != text:
            path.write_text(new, encoding="utf-8")
            changes.append(f"{path.relative_to(root).as_posix()}: schema_version {version}")


def _v1_to_v2(root: Path, changes: list[str]) -> None:
    """Version 2 declares tables once; v1 dossiers are valid v2 dossiers but for the version.

    What v2 checks that v1 did not (unknown columns, duplicate rows and keys, dates as
    YYYY-MM-DD) is reported by ``pmpath validate`` on the migrated dossier, not changed here:
    pmpath never rewrites evidence.
    """
    _set_version(root, 2, changes)


_REMOVED_V3 = "min_fraction_beyond_band"


def _remove_improvement_key(text: str, key: str) -> tuple[str, int | None]:
    """``text`` without ``analysis_plan.improvement.<key>`` (its line and any continuation lines).

    Works on block-style YAML as pmpath writes it and sponsors edit it: the key is found by
    indentation under ``analysis_plan:`` then ``improvement:``. Returns the new text and the
    1-based line removed (None when the key is not there).
    """
    lines = text.splitlines(keepends=True)
    path: list[tuple[int, str]] = []  # (indent, key) of the mappings we are inside
    key_line = re.compile(r"^(\s*)([A-Za-z_][A-Za-z0-9_]*)\s*:(.*)$")
    for i, line in enumerate(lines):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        m = key_line.match(line.rstrip("\r\n"))
        if m is None:
            continue
        indent = len(m[1])
        while path and path[-1][0] >= indent:
            path.pop()
        if [k for _, k in path] == ["analysis_plan", "improvement"] and m[2] == key:
            end = i + 1
            while end < len(lines):  # a value continued on more-indented lines
                nxt = lines[end]
                if nxt.strip() and len(nxt) - len(nxt.lstrip()) <= indent:
                    break
                if not nxt.strip():
                    break
                end += 1
            return "".join(lines[:i] + lines[end:]), i + 1
        path.append((indent, m[2]))
    return text, None


def _v2_to_v3(root: Path, changes: list[str]) -> None:
    """Version 3 plans criterion 5 by estimands and a calibrated decision rule.

    ``analysis_plan.improvement.min_fraction_beyond_band`` is removed (the share of visits beyond
    the prediction band no longer decides; the band is still drawn) and so is ``max_rate_ratio``
    (the rate ratio is judged by its one-sided confidence bound against ``1 - mcid``). Every new
    field of v3 (``decision``, ``posterior_threshold``, ``prior``, ``endpoints``, an endpoint's
    ``category``/``citation``, the concomitant table's ``acts_on``) has a default, so nothing else
    is edited; ``pmpath validate`` on the migrated dossier says what else deserves a look.
    """
    path = root / "platform.yaml"
    if path.is_file():
        text = path.read_text(encoding="utf-8-sig")
        original = text
        for key, why in REMOVED_IN_V3.items():
            text, line = _remove_improvement_key(text, key)
            if line is not None:
                changes.append(
                    f"platform.yaml:{line}: removed analysis_plan.improvement.{key} "
                    f"(schema version 3: {why}"
                    + ("; the band plot stays)" if key == _REMOVED_V3 else ")")
                )
            elif _still_has_removed_key(text, key):
                changes.append(
                    f"platform.yaml: analysis_plan.improvement.{key} is written in flow "
                    "style ({...}) and was not removed: delete it by hand (schema version 3: "
                    f"{why})"
                )
        if text != original:
            path.write_text(text, encoding="utf-8")
    _set_version(root, 3, changes)


def _still_has_removed_key(text: str, key: str = _REMOVED_V3) -> bool:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return False  # validate reports the YAML itself
    plan = data.get("analysis_plan") if isinstance(data, dict) else None
    improvement = plan.get("improvement") if isinstance(plan, dict) else None
    return isinstance(improvement, dict) and key in improvement


STEPS: dict[int, Callable[[Path, list[str]], None]] = {1: _v1_to_v2, 2: _v2_to_v3}
"""From-version -> the step that converts a dossier of that version to the next one."""


def dossier_version(root: Path) -> int:
    path = Path(root) / "platform.yaml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise DossierError(
            [
                Finding(
                    "platform.yaml",
                    None,
                    "",
                    f"an unreadable file ({exc})",
                    "a dossier's platform.yaml",
                )
            ]
        ) from exc
    version = data.get("schema_version", 1) if isinstance(data, dict) else None
    if (
        not isinstance(version, int)
        or isinstance(version, bool)
        or not 1 <= version <= SCHEMA_VERSION
    ):
        raise DossierError(
            [
                Finding(
                    "platform.yaml",
                    None,
                    "schema_version",
                    repr(version),
                    f"a format version from 1 to {SCHEMA_VERSION}",
                )
            ]
        )
    return version


def migrate_dossier(source: str | Path, out: str | Path) -> MigrationResult:
    """Copy the dossier at ``source`` to ``out`` (which must not exist) in the current format."""
    source, out = Path(source), Path(out)
    if not (source / "platform.yaml").is_file():
        raise UsageError(f"{source}: not a dossier (no platform.yaml)")
    if out.exists() or out.is_symlink():
        raise UsageError(
            f"{out} already exists; migrate writes a new directory and never replaces one: choose another --out"
        )
    src_r, out_r = source.resolve(), out.absolute().resolve()
    if out_r == src_r or src_r in out_r.parents or out_r in src_r.parents:
        raise UsageError(f"{out}: the output may not be the dossier, inside it or above it")
    version = dossier_version(source)
    tmp = out.parent / f".{out.name}.pmpath-tmp-{os.getpid()}"
    result = MigrationResult(source, out, version, SCHEMA_VERSION)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(source, tmp, symlinks=True)
        for v in range(version, SCHEMA_VERSION):
            STEPS[v](tmp, result.changes)
        os.rename(tmp, out)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise OutputError(
            f"{out}: cannot write the migrated dossier ({exc.strerror or exc})"
        ) from exc
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return result
