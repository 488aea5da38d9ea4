"""`pmpath postmarket monitor`: the plan, the event rows (good and bad), each look's statistic and boundary, the output files."""

from __future__ import annotations

import csv
import json
import math
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from pmpath.cli import app
from pmpath.errors import DossierError
from pmpath.postmarket import load_plan, monitor, read_events

FIXTURES = Path(__file__).parent / "fixtures" / "postmarket"
PLAN = FIXTURES / "MONITOR.yaml"
EVENTS = FIXTURES / "EVENTS.csv"

runner = CliRunner()


def _run(*args: str):
    return runner.invoke(app, ["postmarket", "monitor", *args], catch_exceptions=False)


def _tsv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def _llr(c: float, u: float) -> float:
    return c * math.log(c / u) - (c - u) if c > u else 0.0


def test_monitor_writes_every_output_and_finds_the_planted_signal(tmp_path):
    out = tmp_path / "OUT"
    result = _run("--plan", str(PLAN), "--events", str(EVENTS), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "GBS (Guillain-Barré syndrome): signal at look 2026-02-23" in result.stdout
    for name in ("monitor.tsv", "monitor.json", "import_log.tsv", "monitor.html"):
        assert (out / name).is_file()
    assert sorted(p.name for p in (out / "plots").iterdir()) == [
        "01-GBS.svg",
        "02-FSZ.svg",
        "03-ANA.svg",
    ]
    rows = _tsv(out / "monitor.tsv")
    gbs = [r for r in rows if r["event"] == "GBS"]
    # cumulative counts and the statistic, recomputed here from the event rows
    observed = [0, 1, 0, 2, 1, 3, 2, 2, 0]
    total = 0
    for i, (row, o) in enumerate(zip(gbs, observed, strict=True)):
        total += o
        expected = 0.5 * (i + 1)
        assert int(row["observed"]) == total and float(row["expected"]) == pytest.approx(expected)
        assert float(row["llr"]) == pytest.approx(_llr(total, expected), abs=1e-12)
        assert float(row["critical_value"]) == pytest.approx(3.467952, abs=1e-6)
    assert [r["status"] for r in gbs][-3:] == ["continue", "signal", "after signal"]
    assert [r["signal"] for r in gbs][-2:] == [
        "yes",
        "no",
    ]  # the last look is back below the boundary
    # the critical count is the fewest events that signal at the look
    for row in gbs:
        c, u = int(row["critical_count"]), float(row["expected"])
        assert _llr(c, u) >= 3.467952 - 1e-9 > _llr(c - 1, u)
    fsz = [r for r in rows if r["event"] == "FSZ"]
    assert [int(r["events"]) for r in fsz] == [5, 10, 15]
    assert [float(r["expected"]) for r in fsz] == [2.5, 5.0, 7.5]  # z = 1: half the events
    ana = [r for r in rows if r["event"] == "ANA"]
    assert [float(r["expected"]) for r in ana] == pytest.approx([2.0, 4.0])  # rate x person-time
    doc = json.loads((out / "monitor.json").read_text())
    assert [e["status"] for e in doc["events"]] == ["signal", "continuing", "continuing"]
    assert doc["events"][0]["signal_look"] == "2026-02-23"
    assert doc["events"][1]["design"]["alpha"] <= 0.05
    assert _tsv(out / "import_log.tsv") == []
    page = (out / "monitor.html").read_text()
    assert "Signal at look 2026-02-23" in page and 'src="plots/01-GBS.svg"' in page


def test_group_sequential_binomial_signals_and_ends(tmp_path):
    plan = tmp_path / "MONITOR.yaml"
    plan.write_text(
        "events:\n"
        "  - {code: X, label: Seizure, method: binomial, matching_ratio: 3.5, max_sample_size: 25,"
        " group_sizes: [5, 5, 5, 5, 5]}\n"
        "  - {code: Y, label: Rash, method: binomial, matching_ratio: 3.5, max_sample_size: 25,"
        " group_sizes: [5, 5, 5, 5, 5]}\n"
    )
    events = tmp_path / "EVENTS.csv"
    lines = ["event,look,cases,controls"]
    lines += [f"X,{k},{c},{5 - c}" for k, c in enumerate([1, 2, 4, 1], start=1)]
    lines += [f"Y,{k},1,4" for k in range(1, 6)]
    events.write_text("\n".join(lines) + "\n")
    data = read_events(events, load_plan(plan))
    result = monitor(load_plan(plan), data)
    x, y = result.events
    # X: 7 cases of 15 at look 3 reach 2.175208 >= 1.985199
    assert x.signal_look == "3" and x.status == "signal"
    assert x.looks[2].llr == pytest.approx(2.17520756, abs=1e-8)
    assert y.status == "ended" and y.looks[-1].status == "end"
    assert x.design.critical_value == pytest.approx(1.985199, abs=1e-6)


def _write_bad_events(path: Path) -> None:
    path.write_text(
        "event,look,observed,expected,cases,controls,person_time\n"
        "GBS,2026-01-05,0,0.5,,,\n"
        "GBS,2026-01-12,one,0.5,,,\n"  # line 3: not a count
        "GBS,2026-01-19,1,0.5,,,\n"
        "GBS,2026-01-19,1,0.5,,,\n"  # line 5: exact duplicate of line 4
        "XXX,2026-01-19,1,0.5,,,\n"  # line 6: unknown event
        "FSZ,1,,,3,2,\n"
        "FSZ,1,,,4,1,\n"  # line 8: conflicts with line 7: both left out
        "FSZ,2026-01-01,,,1,1,\n"  # line 9: a date among look numbers
        "ANA,1,2,,,,-3\n"  # line 10: negative person-time
        "ANA,2,1,,,\n"  # line 11: too few fields
        "GBS,soon,1,0.5,,,\n"  # line 12: bad look
    )


def test_bad_rows_are_logged_counted_and_strict_makes_them_an_error(tmp_path):
    events = tmp_path / "EVENTS.csv"
    _write_bad_events(events)
    strict = _run(
        "--plan", str(PLAN), "--events", str(events), "-o", str(tmp_path / "S"), "--strict"
    )
    assert strict.exit_code == 2 and "nothing was written" in strict.stderr
    assert not (tmp_path / "S").exists()
    out = tmp_path / "OUT"
    result = _run("--plan", str(PLAN), "--events", str(events), "-o", str(out))
    assert result.exit_code == 0  # as `signals`: the rows are warnings, --strict makes them errors
    log = _tsv(out / "import_log.tsv")
    by_line = {r["record"]: r for r in log}
    assert set(by_line) == {f"line {n}" for n in (3, 5, 6, 7, 8, 9, 10, 11, 12)}
    assert by_line["line 3"]["problem"].startswith("bad observed: found 'one'")
    assert by_line["line 3"]["example"] == "GBS,2026-01-12,one,0.5,,,"
    assert by_line["line 5"]["problem"] == "duplicated row: the same as line 4"
    assert by_line["line 6"]["problem"].startswith("unknown event")
    assert by_line["line 7"]["problem"].startswith("conflicting rows")
    assert by_line["line 8"]["problem"].startswith("conflicting rows")
    assert by_line["line 9"]["problem"].startswith("bad look: found a date")
    assert by_line["line 10"]["problem"].startswith("bad person_time")
    assert by_line["line 11"]["problem"].startswith("malformed row")
    assert all(r["source"] == "EVENTS.csv" for r in log)
    assert "warning: EVENTS.csv: 1 record: bad observed" in result.stderr
    assert "9 records left out" in result.stderr
    # the good rows are still monitored
    gbs = [r for r in _tsv(out / "monitor.tsv") if r["event"] == "GBS"]
    assert [r["look"] for r in gbs] == ["2026-01-05", "2026-01-19"]
    assert "9 records were left out" in (out / "monitor.html").read_text()


def test_missing_column_is_one_problem_and_its_events_have_no_looks(tmp_path):
    events = tmp_path / "EVENTS.csv"
    events.write_text("event,look,observed,expected,person_time\nGBS,1,1,0.5,\nANA,1,1,,20000\n")
    out = tmp_path / "OUT"
    result = _run("--plan", str(PLAN), "--events", str(events), "-o", str(out), "--format", "json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["ok"] is False
    problems = [p["problem"] for p in doc["import_problems"]]
    assert problems == ["missing column: 'cases'", "missing column: 'controls'"]
    assert [e["status"] for e in doc["events"]] == ["continuing", "no data", "continuing"]


@pytest.mark.parametrize(
    ("text", "field", "found"),
    [
        ("events:\n  - {code: A, label: a, method: poisson}\n", "max_sample_size", "nothing"),
        (
            "events:\n  - {code: A, label: a, method: poison, max_sample_size: 3}\n",
            "events.0",
            "unknown",
        ),
        (
            "events:\n  - {code: A, label: a, method: poisson, max_sample_size: 10, group_sizes: [5, 4]}\n",
            "events",
            "group_sizes summing to 9",
        ),
        (
            "alpha: 0.9\nevents:\n  - {code: A, label: a, method: poisson, max_sample_size: 3}\n",
            "alpha",
            "0.9",
        ),
        (
            "events:\n  - {code: A, label: a, method: poisson, max_sample_size: 3, colour: red}\n",
            "colour",
            "unknown field",
        ),
        (
            "events:\n  - {code: A, label: a, method: poisson, max_sample_size: 3}\n"
            "  - {code: A, label: b, method: poisson, max_sample_size: 3}\n",
            "",
            "event code 'A' twice",
        ),
    ],
)
def test_bad_plan_exits_2_naming_the_field_and_writes_nothing(tmp_path, text, field, found):
    plan = tmp_path / "MONITOR.yaml"
    plan.write_text(text)
    out = tmp_path / "OUT"
    result = _run("--plan", str(plan), "--events", str(EVENTS), "-o", str(out))
    assert result.exit_code == 2
    assert str(plan) in result.stderr and found in result.stderr
    assert field in result.stderr
    assert "Traceback" not in result.output
    assert not out.exists()


def test_load_plan_reports_the_line(tmp_path):
    plan = tmp_path / "MONITOR.yaml"
    plan.write_text(
        "title: t\nevents:\n  - code: A\n    label: a\n    method: binomial\n    max_sample_size: 10\n"
    )
    with pytest.raises(DossierError) as info:
        load_plan(plan)
    (finding,) = info.value.findings
    assert finding.line == 3 and finding.field.endswith("matching_ratio")


def test_an_impossible_design_exits_1(tmp_path):
    plan = tmp_path / "MONITOR.yaml"
    plan.write_text(
        "events:\n  - {code: A, label: a, method: binomial, matching_ratio: 1, max_sample_size: 3}\n"
    )
    events = tmp_path / "EVENTS.csv"
    events.write_text("event,look,cases,controls\nA,1,1,0\n")
    result = _run("--plan", str(plan), "--events", str(events), "-o", str(tmp_path / "OUT"))
    assert result.exit_code == 1
    assert "no critical value" in result.stderr


def test_output_folder_that_is_not_pmpaths_is_refused(tmp_path):
    out = tmp_path / "OUT"
    out.mkdir()
    (out / "mine.txt").write_text("keep me")
    result = _run("--plan", str(PLAN), "--events", str(EVENTS), "-o", str(out))
    assert result.exit_code == 2
    assert (out / "mine.txt").read_text() == "keep me"
    # and a second run into its own output replaces it
    shutil.rmtree(out)
    assert _run("--plan", str(PLAN), "--events", str(EVENTS), "-o", str(out)).exit_code == 0
    assert _run("--plan", str(PLAN), "--events", str(EVENTS), "-o", str(out)).exit_code == 0


_CELLS = st.sampled_from(["", "0", "-1", "1.5", "x", "2026-13-40", "GBS", "FSZ", "1e400", '"', "3"])


@pytest.mark.slow
@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_mutated_event_rows_never_give_a_traceback(tmp_path, data):
    """Deleted, duplicated and changed lines and cells: the outcome is exit 0 or exit 2, never a crash."""
    lines = EVENTS.read_text().splitlines()
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(lines) - 1))
        action = data.draw(st.sampled_from(["delete", "duplicate", "cell", "swap"]))
        if action == "delete" and len(lines) > 1:
            del lines[i]
        elif action == "duplicate":
            lines.insert(i, lines[i])
        elif action == "swap":
            j = data.draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        else:
            cells = lines[i].split(",")
            cells[data.draw(st.integers(0, len(cells) - 1))] = data.draw(_CELLS)
            lines[i] = ",".join(cells)
    events = tmp_path / f"EVENTS-{data.draw(st.integers(0, 10**9))}.csv"
    events.write_text("\n".join(lines) + "\n")
    out = tmp_path / f"OUT-{events.stem}"
    result = _run("--plan", str(PLAN), "--events", str(events), "-o", str(out))
    assert result.exit_code in (0, 2), result.output
    assert "internal error" not in result.stderr
