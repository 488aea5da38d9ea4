"""Property: random mutations of a valid dossier never produce a traceback; the outcome is exit 0 or 2.

Mutations are the ones a tired person or a broken export makes: lines deleted, duplicated or
swapped, cells changed to other text or types, files renamed, truncated or filled with bytes. Each
mutated dossier is validated on the command line (in process); a few are also assessed.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from pmpath.cli import app

MINIMAL = Path(__file__).parent / "fixtures" / "minimal"
FILES = sorted(p.relative_to(MINIMAL).as_posix() for p in MINIMAL.rglob("*") if p.is_file())
runner = CliRunner()

CELLS = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", "NaN", "inf", "-1", "0", "1e23", "2025-02-30", "20250710", "true", "∞"]),
    st.integers(-(10**25), 10**25).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)

MUTATION = st.one_of(
    st.tuples(st.just("delete"), st.integers(0, 200)),
    st.tuples(st.just("duplicate"), st.integers(0, 200)),
    st.tuples(st.just("swap"), st.integers(0, 200), st.integers(0, 200)),
    st.tuples(st.just("cell"), st.integers(0, 200), st.integers(0, 12), CELLS),
    st.tuples(st.just("yaml_value"), st.integers(0, 200), CELLS),
    st.tuples(
        st.just("rename"), st.sampled_from(["case.yml", "x.csv", "Platform.yaml", ".hidden"])
    ),
    st.tuples(st.just("truncate"), st.integers(0, 400)),
    st.tuples(st.just("bytes"), st.binary(max_size=64)),
)


def mutate(root: Path, rel: str, mutation: tuple) -> None:
    path = root / rel
    kind = mutation[0]
    if kind == "rename":
        path.rename(path.with_name(mutation[1]))
        return
    raw = path.read_bytes()
    if kind == "truncate":
        path.write_bytes(raw[: mutation[1]])
        return
    if kind == "bytes":
        path.write_bytes(raw + mutation[1])
        return
    lines = raw.decode("utf-8", errors="surrogateescape").split("\n")
    n = len(lines)
    if kind == "delete":
        del lines[mutation[1] % n]
    elif kind == "duplicate":
        i = mutation[1] % n
        lines.insert(i, lines[i])
    elif kind == "swap":
        i, j = mutation[1] % n, mutation[2] % n
        lines[i], lines[j] = lines[j], lines[i]
    elif kind == "cell":
        i = mutation[1] % n
        cells = lines[i].split(",")
        cells[mutation[2] % len(cells)] = mutation[3].replace("\n", " ").replace(",", ";")
        lines[i] = ",".join(cells)
    elif kind == "yaml_value":
        i = mutation[1] % n
        if ":" in lines[i]:
            key = lines[i].split(":", 1)[0]
            lines[i] = f"{key}: {mutation[2]!r}".replace("\n", " ")
    path.write_bytes("\n".join(lines).encode("utf-8", errors="surrogateescape"))


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    mutations=st.lists(st.tuples(st.sampled_from(FILES), MUTATION), min_size=1, max_size=3),
    assess=st.booleans(),
)
def test_mutated_dossier_never_crashes(mutations, assess: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "dossier"
        shutil.copytree(MINIMAL, root)
        for rel, mutation in mutations:
            if (root / rel).is_file():
                mutate(root, rel, mutation)
        result = runner.invoke(app, ["validate", str(root)])
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            result.exception
        )
        assert result.exit_code in (0, 2), result.output
        assert "internal error" not in result.output and "Traceback" not in result.output
        if assess:
            out = Path(tmp) / "report"
            assessed = runner.invoke(app, ["assess", str(root), "--out", str(out), "-q"])
            assert assessed.exit_code in (0, 2), assessed.output
            assert "internal error" not in assessed.output
            assert out.exists() == (assessed.exit_code == 0)
