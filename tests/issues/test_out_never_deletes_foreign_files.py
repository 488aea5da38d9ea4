"""Issue 5, section 1: a run never deletes anything but a report it wrote itself.

Invariants that once broke, each checked on the command line (``python -m pmpath assess``) with the
bundled ``abe-ucd`` example copied into a temporary folder:

- ``--out`` an existing folder of other files, a plain file, the dossier, the dossier's parent or a
  folder inside the dossier is refused with exit 2 and a message naming it; nothing changes (today
  the folder's contents, the dossier, or the dossier and its neighbours were deleted, exit 0).
- The previous report is replaced in one step: a kill at any moment, even at the swap itself,
  leaves OUT the complete old or the complete new report; the next run leaves no temporary
  folders; no worker process outlives a killed run (two plot workers did).
- A second run into the same OUT exits 3 at once naming the first one's process id (it died with a
  traceback and stranded two hidden folders).
- Disk full, read-only and permission denied: exit 3, one line naming the path and the cause, the
  previous report intact, nothing left behind.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import random
import shutil
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from pmpath.examples import example_path
from pmpath.report.output import MARKER_NAME, TEST_HOOK_BEFORE_SWAP, report_directory

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="the fault tests read /proc and use SIGKILL"
)

TIMEOUT_S = 300


def pmpath(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pmpath", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=TIMEOUT_S,
    )


def start(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "pmpath", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def tree(root: Path, *, skip: tuple[str, ...] = ()) -> dict[str, tuple]:
    """Everything below ``root``: path -> (kind, mode, content hash or link target)."""
    found: dict[str, tuple] = {}
    for here, dirs, files in os.walk(root):
        for name in dirs + files:
            full = Path(here, name)
            rel = full.relative_to(root).as_posix()
            if rel in skip:
                continue
            st = full.lstat()
            if stat.S_ISLNK(st.st_mode):
                found[rel] = ("link", os.readlink(full))
            elif stat.S_ISDIR(st.st_mode):
                found[rel] = ("dir", stat.S_IMODE(st.st_mode))
            else:
                digest = hashlib.sha256(full.read_bytes()).hexdigest()
                found[rel] = ("file", stat.S_IMODE(st.st_mode), digest)
    return found


def leftovers(parent: Path, name: str) -> list[str]:
    """What a run may leave beside OUT: ``.<name>.pmpath-tmp-*``, ``-old-*``, the lock file."""
    return sorted(p.name for p in parent.iterdir() if p.name.startswith(f".{name}.pmpath-"))


def one_line_naming(stderr: str, *parts: str) -> bool:
    return any(all(p in line for p in parts) for line in stderr.splitlines())


@pytest.fixture
def dossier(tmp_path: Path) -> Path:
    return Path(shutil.copytree(example_path("abe-ucd"), tmp_path / "abe-ucd"))


@pytest.fixture(scope="module")
def new_report(tmp_path_factory) -> tuple[dict[str, tuple], dict, float]:
    """The report of the example as a clean run writes it: its files (marker aside), marker, time."""
    base = tmp_path_factory.mktemp("reference")
    dossier = shutil.copytree(example_path("abe-ucd"), base / "abe-ucd")
    started = time.monotonic()
    done = pmpath("assess", str(dossier), "--out", str(base / "report"), "--quiet")
    elapsed = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    marker = json.loads((base / "report" / MARKER_NAME).read_text())
    return tree(base / "report", skip=(MARKER_NAME,)), marker, elapsed


def old_report(out: Path) -> dict[str, tuple]:
    """A small report pmpath wrote earlier (through the writer, so it carries a marker)."""
    with report_directory(out, dossier_root=None, dossier_fingerprint="0" * 64) as tmp:
        (tmp / "index.html").write_text("<p>the old report</p>")
        (tmp / "assessment.json").write_text('{"pmpath_version": "0.0.1"}')
        (tmp / "plots").mkdir()
        (tmp / "plots" / "old-only.svg").write_text("<svg/>")
    return tree(out)


def assert_complete_new(out: Path, new_report) -> None:
    files, reference_marker, _ = new_report
    assert tree(out, skip=(MARKER_NAME,)) == files
    marker = json.loads((out / MARKER_NAME).read_text())
    assert marker["dossier_fingerprint"] == reference_marker["dossier_fingerprint"]
    assert marker["files"] == sorted(k for k, v in files.items() if v[0] == "file")
    assessed = json.loads((out / "assessment.json").read_text())
    assert marker["pmpath_version"] == assessed["pmpath_version"]


def old_or_new(out: Path, before: dict[str, tuple], new_report) -> str:
    """``"old"`` if OUT is exactly ``before``, ``"new"`` if it is a complete new report; else fail."""
    if tree(out) == before:
        return "old"
    assert_complete_new(out, new_report)
    return "new"


# --- processes --------------------------------------------------------------------------------


def _processes() -> dict[int, tuple[int, str, str]]:
    """Live processes: pid -> (parent pid, state, command line)."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            head = Path(f"/proc/{entry}/stat").read_text()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        fields = head.rsplit(")", 1)[1].split()
        found[int(entry)] = (int(fields[1]), fields[0], cmdline)
    return found


def related(pid: int, out: Path) -> set[int]:
    """Live (not zombie) processes started by ``pid`` or running with ``out`` on their command line."""
    return {
        p
        for p, (parent, state, cmdline) in _processes().items()
        if state not in ("Z", "X") and p != pid and (parent == pid or str(out) in cmdline)
    }


def kill(proc: subprocess.Popen[str], out: Path) -> set[int]:
    """SIGKILL ``proc``; the processes it had started, which must end with it."""
    children = related(proc.pid, out)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=TIMEOUT_S)
    return children


def assert_no_processes_left(children: set[int], out: Path) -> None:
    deadline = time.monotonic() + 2.0
    live = set(children)
    while time.monotonic() < deadline:
        now = _processes()
        live = {p for p in children if p in now and now[p][1] not in ("Z", "X")}
        live |= related(-1, out)
        if not live:
            return
        time.sleep(0.02)
    raise AssertionError(f"processes still alive 2 s after their parent was killed: {sorted(live)}")


def wait_for(path: Path, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while not path.exists():
        if proc.poll() is not None:
            raise AssertionError(f"pmpath ended (exit {proc.returncode}): {proc.stderr.read()}")
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.005)


# --- refusals ----------------------------------------------------------------------------------


def _foreign_folder(tmp_path: Path, dossier: Path) -> Path:
    out = tmp_path / "my-files"
    out.mkdir()
    (out / "notes.txt").write_text("not a report")
    (out / "data").mkdir()
    (out / "data" / "table.csv").write_text("a,b\n1,2\n")
    return out


def _plain_file(tmp_path: Path, dossier: Path) -> Path:
    out = tmp_path / "report.html"
    out.write_text("<p>a file the user wrote</p>")
    return out


def _the_dossier(tmp_path: Path, dossier: Path) -> Path:
    return dossier


def _the_dossiers_parent(tmp_path: Path, dossier: Path) -> Path:
    (tmp_path / "neighbour.txt").write_text("a neighbour of the dossier")
    return tmp_path


def _inside_the_dossier(tmp_path: Path, dossier: Path) -> Path:
    return dossier / "patients" / "report"


@pytest.mark.parametrize(
    "place",
    [_foreign_folder, _plain_file, _the_dossier, _the_dossiers_parent, _inside_the_dossier],
    ids=lambda f: f.__name__.strip("_"),
)
def test_out_that_is_not_a_report_is_refused_and_nothing_changes(
    tmp_path: Path, dossier: Path, place
) -> None:
    """Only an absent OUT, an empty folder or a pmpath report is ever replaced."""
    out = place(tmp_path, dossier)
    before = tree(tmp_path)
    done = pmpath("assess", str(dossier), "--out", str(out))
    assert done.returncode == 2, done.stderr
    assert str(out) in done.stderr.replace("\n", "")
    assert "Traceback" not in done.stderr
    assert tree(tmp_path) == before


def test_an_earlier_report_is_replaced_and_so_is_our_own_twice(
    tmp_path: Path, dossier: Path, new_report
) -> None:
    """A report of today's versions (no marker) is recognised; ``make demo`` twice works."""
    out = tmp_path / "report"
    (out / "plots").mkdir(parents=True)
    (out / "index.html").write_text("<p>report of pmpath 0.1.0</p>")
    (out / "assessment.json").write_text('{"pmpath_version": "0.1.0", "patients": []}')
    (out / "plots" / "gone.svg").write_text("<svg/>")
    for _ in range(2):
        done = pmpath("assess", str(dossier), "--out", str(out), "--quiet")
        assert done.returncode == 0, done.stderr
        assert_complete_new(out, new_report)
        assert leftovers(tmp_path, "report") == []


@pytest.mark.slow
def test_demo_twice_into_the_same_folder(tmp_path: Path) -> None:
    """``make demo`` run twice must work: the second run replaces the first one's reports."""
    for _ in range(2):
        done = pmpath("demo", "--out", str(tmp_path / "demo-output"))
        assert done.returncode == 0, done.stderr
    for name in ("abe-ucd", "ssaso-cln"):
        assert (tmp_path / "demo-output" / name / MARKER_NAME).is_file()
        assert leftovers(tmp_path / "demo-output", name) == []


# --- write errors ------------------------------------------------------------------------------

# Runs the command line with one system call made to fail, as a full disk, a read-only file system
# or a permission check would (tests run as root, where chmod does not stop writes).
_INJECT = textwrap.dedent(
    """
    import os, pathlib, sys
    where, code = sys.argv.pop(1), int(sys.argv.pop(1))

    def fail(path=None):
        raise OSError(code, os.strerror(code), *([str(path)] if path is not None else []))

    if where == "fsync":
        os.fsync = lambda fd: fail()
    elif where == "mkdir":
        real_mkdir = os.mkdir
        os.mkdir = lambda p, *a, **k: fail(p) if ".pmpath-tmp-" in str(p) else real_mkdir(p, *a, **k)
    elif where == "write":
        real_write = pathlib.Path.write_bytes
        pathlib.Path.write_bytes = (
            lambda self, data: fail(self) if self.name == "assessment.json" else real_write(self, data)
        )
    from pmpath.cli import app
    app(prog_name="pmpath")
    """
)


@pytest.mark.parametrize(
    ("where", "code"),
    [("fsync", errno.ENOSPC), ("mkdir", errno.EROFS), ("write", errno.EACCES)],
    ids=["disk full", "read-only", "permission denied"],
)
def test_a_failed_write_keeps_the_old_report(
    tmp_path: Path, dossier: Path, where: str, code: int
) -> None:
    """Exit 3, one line naming the path and the cause, no traceback, the old report as it was."""
    out = tmp_path / "report"
    before = old_report(out)
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            _INJECT,
            where,
            str(code),
            "assess",
            str(dossier),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )
    assert done.returncode == 3, done.stderr
    assert one_line_naming(done.stderr, str(out), os.strerror(code)), done.stderr
    assert "Traceback" not in done.stderr
    assert tree(out) == before
    assert leftovers(tmp_path, "report") == []


# --- two runs, and kills -----------------------------------------------------------------------


def test_a_second_run_into_the_same_out_exits_3_naming_the_first(
    tmp_path: Path, dossier: Path, new_report
) -> None:
    """The first run, paused just before its swap, holds the lock; the second gives up at once."""
    out, flag = tmp_path / "report", tmp_path / "paused"
    first = start(
        "assess",
        str(dossier),
        "--out",
        str(out),
        env={**os.environ, TEST_HOOK_BEFORE_SWAP: str(flag)},
    )
    try:
        wait_for(flag, first)
        second = pmpath("assess", str(dossier), "--out", str(out))
        assert second.returncode == 3, second.stderr
        assert one_line_naming(second.stderr, str(out), f"process {first.pid}"), second.stderr
        assert "Traceback" not in second.stderr
        assert sorted(leftovers(tmp_path, "report")) == [
            ".report.pmpath-lock",
            f".report.pmpath-tmp-{first.pid}",
        ]  # the loser strands nothing
    finally:
        flag.unlink(missing_ok=True)
        first.wait(timeout=TIMEOUT_S)
    assert first.returncode == 0, first.stderr.read()
    assert_complete_new(out, new_report)
    assert leftovers(tmp_path, "report") == []


@pytest.mark.slow
def test_kill_at_the_swap_leaves_the_old_report_and_the_next_run_cleans_up(
    tmp_path: Path, dossier: Path, new_report
) -> None:
    """Killed exactly before the swap: OUT is the old report; the next run removes the leftovers."""
    out, flag = tmp_path / "report", tmp_path / "paused"
    before = old_report(out)
    run = start(
        "assess",
        str(dossier),
        "--out",
        str(out),
        env={**os.environ, TEST_HOOK_BEFORE_SWAP: str(flag)},
    )
    wait_for(flag, run)
    assert old_or_new(out, before, new_report) == "old"  # not yet swapped, never missing
    children = kill(run, out)
    assert_no_processes_left(children, out)
    assert old_or_new(out, before, new_report) == "old"
    assert (tmp_path / f".report.pmpath-tmp-{run.pid}").is_dir()  # what the killed run built
    again = pmpath("assess", str(dossier), "--out", str(out), "--quiet")
    assert again.returncode == 0, again.stderr
    assert_complete_new(out, new_report)
    assert leftovers(tmp_path, "report") == []


@pytest.mark.slow
def test_plot_workers_end_with_a_killed_run(tmp_path: Path, dossier: Path, new_report) -> None:
    """Killed while its plot workers draw: the workers end within two seconds, OUT is intact."""
    out = tmp_path / "report"
    before = old_report(out)
    run = start("assess", str(dossier), "--out", str(out))
    workers: set[int] = set()
    while run.poll() is None and len(workers) < 2:
        workers = {p for p, (parent, _, _) in _processes().items() if parent == run.pid}
        time.sleep(0.005)
    if run.poll() is not None:
        assert run.returncode == 0, run.stderr.read()
        pytest.skip("the run drew its plots without worker processes (one CPU?)")
    children = kill(run, out)
    assert_no_processes_left(children | workers, out)
    assert old_or_new(out, before, new_report) == "old"
    again = pmpath("assess", str(dossier), "--out", str(out), "--quiet")
    assert again.returncode == 0, again.stderr
    assert leftovers(tmp_path, "report") == []


@pytest.mark.slow
@pytest.mark.parametrize(
    ("phase", "seed"),
    [("anywhere", 1), ("anywhere", 2), ("writing", 3), ("writing", 4), ("writing", 5)],
)
def test_kill_at_a_random_moment_leaves_a_complete_report(
    tmp_path: Path, dossier: Path, new_report, phase: str, seed: int
) -> None:
    """SIGKILL anywhere in a run: OUT is the complete old or the complete new report, never a mix.

    "anywhere" kills at a random time in the run; "writing" at a random time after the report's
    temporary folder appears (drawing, fsync, swap, removing the old report), where a kill matters.
    """
    out = tmp_path / "report"
    before = old_report(out)
    _, _, duration = new_report
    rng = random.Random(seed)
    run = start("assess", str(dossier), "--out", str(out))
    if phase == "anywhere":
        time.sleep(rng.uniform(0.2, duration * 1.1))
    else:
        wait_for(tmp_path / f".report.pmpath-tmp-{run.pid}", run)
        time.sleep(rng.uniform(0.0, 0.35 * duration))
    children = kill(run, out)
    assert_no_processes_left(children, out)
    old_or_new(out, before, new_report)
    again = pmpath("assess", str(dossier), "--out", str(out), "--quiet")
    assert again.returncode == 0, again.stderr
    assert_complete_new(out, new_report)
    assert leftovers(tmp_path, "report") == []
