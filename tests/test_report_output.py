"""The report folder writer: what it replaces, what it refuses, and how it fails.

Through the Python API (:func:`pmpath.report.output.report_directory`), with small stand-in
reports; the command line on the bundled example is in
``tests/issues/test_out_never_deletes_foreign_files.py``.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import stat
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from pmpath import atomic
from pmpath.dossier.fingerprint import dossier_fingerprint
from pmpath.errors import OutputError, UsageError
from pmpath.report import output
from pmpath.report.output import (
    MARKER_NAME,
    ReportMarker,
    check_report_destination,
    claim_report_destination,
    report_directory,
)


def tree(root: Path) -> dict[str, tuple]:
    """Everything below ``root``: path -> (kind, mode, content hash or link target)."""
    found: dict[str, tuple] = {}
    for here, dirs, files in os.walk(root):
        for name in dirs + files:
            full = Path(here, name)
            rel = full.relative_to(root).as_posix()
            st = full.lstat()
            if stat.S_ISLNK(st.st_mode):
                found[rel] = ("link", os.readlink(full))
            elif stat.S_ISDIR(st.st_mode):
                found[rel] = ("dir", stat.S_IMODE(st.st_mode))
            else:
                found[rel] = (
                    "file",
                    stat.S_IMODE(st.st_mode),
                    hashlib.sha256(full.read_bytes()).hexdigest(),
                )
    return found


def write(out: Path, files: dict[str, str], dossier_root: Path | None = None) -> None:
    """A stand-in report of ``files`` written through the writer under test."""
    with report_directory(out, dossier_root=dossier_root, dossier_fingerprint="f" * 64) as tmp:
        for rel, text in files.items():
            (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp / rel).write_text(text)


REPORT = {
    "index.html": "<p>new</p>",
    "assessment.json": '{"pmpath_version": "x"}',
    "plots/a.svg": "<svg/>",
}


def leftovers(parent: Path, name: str = "report") -> list[str]:
    """Hidden entries the writer may leave beside a report: temporary folders and lock files."""
    return sorted(p.name for p in parent.iterdir() if p.name.startswith(f".{name}."))


@pytest.fixture
def dossier(tmp_path: Path) -> Path:
    root = tmp_path / "dossier"
    (root / "patients" / "P01").mkdir(parents=True)
    (root / "platform.yaml").write_text("id: x\n")
    (root / "patients" / "P01" / "case.yaml").write_text("id: P01\n")
    return root


# --- the fingerprint ---------------------------------------------------------------------------


def test_fingerprint_is_the_sha256_of_the_sorted_sha256sum_listing(tmp_path: Path) -> None:
    """Checked against coreutils: ``sha256sum FILES | LC_ALL=C sort -k2 | sha256sum``."""
    files = {"platform.yaml": b"id: x\n", "b/z.csv": b"a,b\n1,2\n", "b/a b.txt": b"", "B.txt": b"!"}
    for rel, data in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(data)
    listing = subprocess.run(
        ["sha256sum", *files], cwd=tmp_path, capture_output=True, check=True
    ).stdout
    ordered = subprocess.run(
        ["sort", "-k2"], input=listing, capture_output=True, check=True, env={"LC_ALL": "C"}
    ).stdout
    expected = subprocess.run(["sha256sum"], input=ordered, capture_output=True, check=True)
    inputs = {rel: hashlib.sha256(data).hexdigest() for rel, data in files.items()}
    assert dossier_fingerprint(inputs) == expected.stdout.split()[0].decode()
    assert dossier_fingerprint(dict(reversed(list(inputs.items())))) == dossier_fingerprint(inputs)
    inputs["B.txt"] = hashlib.sha256(b"?").hexdigest()
    assert dossier_fingerprint(inputs) != expected.stdout.split()[0].decode()


# --- what is written -----------------------------------------------------------------------------


def test_a_new_report_carries_a_marker_listing_its_files(tmp_path: Path) -> None:
    out = tmp_path / "reports" / "report"  # the parent folder is made too
    write(out, REPORT)
    marker = json.loads((out / MARKER_NAME).read_text())
    assert marker["pmpath_version"] == __import__("pmpath").__version__
    assert marker["dossier_fingerprint"] == "f" * 64
    assert marker["files"] == ["assessment.json", "index.html", "plots/a.svg"]
    created = __import__("datetime").datetime.fromisoformat(marker["created"])
    assert created.utcoffset().total_seconds() == 0
    assert abs(time.time() - created.timestamp()) < 60
    assert leftovers(out.parent) == []


@pytest.mark.parametrize(
    ("umask", "folder", "file"), [(0o022, 0o755, 0o644), (0o077, 0o700, 0o600)]
)
def test_permissions_follow_the_umask(tmp_path: Path, umask: int, folder: int, file: int) -> None:
    """Today's bug: the report folder was 0700 whatever the umask (mkdtemp)."""
    previous = os.umask(umask)
    try:
        write(tmp_path / "report", REPORT)
        atomic.write_bytes(tmp_path / "single.json", b"{}")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "report").stat().st_mode) == folder
    assert stat.S_IMODE((tmp_path / "report" / "plots").stat().st_mode) == folder
    assert stat.S_IMODE((tmp_path / "report" / MARKER_NAME).stat().st_mode) == file
    assert stat.S_IMODE((tmp_path / "single.json").stat().st_mode) == file


@pytest.mark.parametrize(
    "previous",
    [
        pytest.param(None, id="absent"),
        pytest.param({}, id="empty folder"),
        pytest.param("marked", id="pmpath report"),
        pytest.param(
            {
                "index.html": "<p>old</p>",
                "assessment.json": '{"pmpath_version": "0.0.9"}',
                "plots/b.svg": "",
            },
            id="report of an earlier version",
        ),
    ],
)
def test_absent_empty_and_pmpath_reports_are_replaced(tmp_path: Path, previous) -> None:
    out = tmp_path / "report"
    if previous == "marked":
        write(out, {"index.html": "<p>old</p>", "old.txt": "x"})
    elif previous is not None:
        out.mkdir()
        for rel, text in previous.items():
            (out / rel).parent.mkdir(parents=True, exist_ok=True)
            (out / rel).write_text(text)
    write(out, REPORT)
    files = {k for k, v in tree(out).items() if v[0] == "file"}
    assert files == {*REPORT, MARKER_NAME}
    assert (out / "index.html").read_text() == "<p>new</p>"
    assert leftovers(tmp_path) == []


def test_os_metadata_in_a_report_does_not_stop_its_replacement(tmp_path: Path) -> None:
    out = tmp_path / "report"
    write(out, REPORT)
    (out / ".DS_Store").write_bytes(b"\0")
    write(out, REPORT)
    assert not (out / ".DS_Store").exists()


# --- what is refused -------------------------------------------------------------------------------


def _foreign_folder(out: Path) -> None:
    out.mkdir()
    (out / "thesis.tex").write_text("years of work")


def _plain_file(out: Path) -> None:
    out.write_text("a file")


def _symlink(out: Path) -> None:
    (out.parent / "elsewhere").mkdir()
    out.symlink_to(out.parent / "elsewhere")


def _report_with_added_file(out: Path) -> None:
    write(out, REPORT)
    (out / "plots" / "my-notes.txt").write_text("mine")


def _index_without_pmpath_json(out: Path) -> None:
    out.mkdir()
    (out / "index.html").write_text("<p>a web site</p>")
    (out / "assessment.json").write_text('{"author": "someone"}')


def _invalid_marker(out: Path) -> None:
    out.mkdir()
    (out / MARKER_NAME).write_text("not json")
    (out / "data.csv").write_text("1,2")


@pytest.mark.parametrize(
    ("make", "said"),
    [
        (_foreign_folder, "thesis.tex"),
        (_plain_file, "a file is there"),
        (_symlink, "symbolic link"),
        (_report_with_added_file, "plots/my-notes.txt"),
        (_index_without_pmpath_json, "no pmpath report marker"),
        (_invalid_marker, "no pmpath report marker"),
    ],
    ids=lambda v: getattr(v, "__name__", v).strip("_"),
)
def test_anything_else_is_refused_and_left_untouched(tmp_path: Path, make, said: str) -> None:
    out = tmp_path / "out"
    make(out)
    before = tree(tmp_path)
    with pytest.raises(UsageError) as refused:
        write(out, REPORT)
    message = str(refused.value)
    assert str(out) in message and said in message and "--out" in message
    assert "\n" not in message
    assert tree(tmp_path) == before


@pytest.mark.parametrize(
    "where",
    ["dossier", "dossier/..", "dossier/reports/today", "dossier/patients", "link-to-dossier"],
)
def test_the_dossier_its_parents_and_its_inside_are_refused(
    tmp_path: Path, dossier: Path, where: str
) -> None:
    (tmp_path / "link-to-dossier").symlink_to(dossier)
    before = tree(tmp_path)
    out = tmp_path / where
    with pytest.raises(UsageError) as refused:
        write(out, REPORT, dossier_root=dossier)
    assert str(out) in str(refused.value) and "dossier" in str(refused.value)
    assert tree(tmp_path) == before
    # symlinks resolved on either side
    with pytest.raises(UsageError, match="inside the dossier"):
        write(tmp_path / "link-to-dossier" / "report", REPORT, dossier_root=dossier)
    with pytest.raises(UsageError, match="holds the dossier"):
        write(tmp_path, REPORT, dossier_root=tmp_path / "link-to-dossier" / "patients")
    assert tree(tmp_path) == before


def test_a_report_beside_the_dossier_is_fine(tmp_path: Path, dossier: Path) -> None:
    write(tmp_path / "dossier-report", REPORT, dossier_root=dossier)
    assert (tmp_path / "dossier-report" / "index.html").is_file()


def test_out_below_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(UsageError, match="is a file"):
        check_report_destination(tmp_path / "file" / "report", None)


# --- failures while writing ----------------------------------------------------------------------


def _fail_fsync(monkeypatch, code: int) -> None:
    def fsync(fd: int) -> None:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(os, "fsync", fsync)


def _fail_mkdir(monkeypatch, code: int) -> None:
    real = os.mkdir

    def mkdir(path, *args, **kwargs):
        if ".pmpath-tmp-" in str(path):
            raise OSError(code, os.strerror(code), str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(os, "mkdir", mkdir)


def _fail_swap(monkeypatch, code: int) -> None:
    def renameat2(src, dst, flags):
        raise OSError(code, os.strerror(code), str(src), None, str(dst))

    monkeypatch.setattr(atomic, "renameat2", renameat2)


@pytest.mark.parametrize(
    ("inject", "code"),
    [
        (_fail_fsync, errno.ENOSPC),
        (_fail_mkdir, errno.EROFS),
        (_fail_swap, errno.EACCES),
        (None, errno.ENOSPC),  # raised while the report's own files are written
    ],
    ids=["fsync ENOSPC", "mkdir EROFS", "swap EACCES", "file write ENOSPC"],
)
def test_write_errors_keep_the_old_report_and_leave_nothing_behind(
    tmp_path: Path, monkeypatch, inject, code: int
) -> None:
    out = tmp_path / "report"
    write(out, {"index.html": "<p>old</p>"})
    before = tree(tmp_path)
    if inject is not None:
        inject(monkeypatch, code)
    with (
        pytest.raises(OutputError) as failed,
        report_directory(out, dossier_root=None, dossier_fingerprint=None) as tmp,
    ):
        (tmp / "index.html").write_text("<p>new</p>")
        if inject is None:
            raise OSError(code, os.strerror(code), str(tmp / "plots" / "a.svg"))
    monkeypatch.undo()
    message = str(failed.value)
    assert "\n" not in message
    assert str(out) in message and os.strerror(code) in message
    assert failed.value.exit_code == 3
    assert tree(tmp_path) == before  # old report intact, no temporary folder, no lock file


def test_a_failure_in_the_caller_keeps_the_old_report(tmp_path: Path) -> None:
    out = tmp_path / "report"
    write(out, {"index.html": "<p>old</p>"})
    before = tree(tmp_path)
    with (
        pytest.raises(RuntimeError),
        report_directory(out, dossier_root=None, dossier_fingerprint=None) as tmp,
    ):
        (tmp / "index.html").write_text("half")
        raise RuntimeError("analysis failed midway")
    assert tree(tmp_path) == before


def test_without_exchange_two_renames_are_used_with_a_warning(tmp_path: Path, monkeypatch) -> None:
    out = tmp_path / "report"
    write(out, {"index.html": "<p>old</p>"})

    def renameat2(src, dst, flags):
        raise OSError(errno.EINVAL, os.strerror(errno.EINVAL))

    monkeypatch.setattr(atomic, "renameat2", renameat2)
    with pytest.warns(RuntimeWarning, match="two renames"):
        write(out, REPORT)
    assert (out / "index.html").read_text() == "<p>new</p>"
    assert leftovers(tmp_path) == []


def test_exchange_swaps_two_folders_in_one_step(tmp_path: Path) -> None:
    """The kernel's renameat2(RENAME_EXCHANGE) itself, without the writer around it."""
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "from-a").write_text("a")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "from-b").write_text("b")
    atomic.renameat2(tmp_path / "a", tmp_path / "b", atomic.RENAME_EXCHANGE)
    assert [p.name for p in (tmp_path / "a").iterdir()] == ["from-b"]
    assert [p.name for p in (tmp_path / "b").iterdir()] == ["from-a"]
    with pytest.raises(FileExistsError):
        atomic.renameat2(tmp_path / "a", tmp_path / "b", atomic.RENAME_NOREPLACE)


# --- the lock and the leftovers of killed runs ---------------------------------------------------


def test_a_held_lock_stops_a_second_writer_at_once_naming_the_holder(tmp_path: Path) -> None:
    out = tmp_path / "report"
    write(out, {"index.html": "<p>old</p>"})
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import fcntl, os, sys, time
                fd = os.open({str(tmp_path / ".report.pmpath-lock")!r}, os.O_RDWR | os.O_CREAT)
                fcntl.flock(fd, fcntl.LOCK_EX)
                os.write(fd, str(os.getpid()).encode())
                print("locked", flush=True)
                time.sleep(60)
                """
            ),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        before = tree(tmp_path)
        started = time.monotonic()
        with pytest.raises(OutputError) as locked:
            write(out, REPORT)
        assert time.monotonic() - started < 2
        assert f"process {holder.pid}" in str(locked.value) and str(out) in str(locked.value)
        assert tree(tmp_path) == before  # the holder's lock file is not ours to remove
    finally:
        holder.kill()
        holder.wait()
    write(out, REPORT)  # the lock goes with its holder
    assert (out / "index.html").read_text() == "<p>new</p>"


def test_a_claim_holds_the_lock_for_the_whole_run(tmp_path: Path) -> None:
    out = tmp_path / "report"
    failures: list[BaseException] = []

    def other_thread() -> None:
        try:
            write(out, REPORT)
        except OutputError as exc:
            failures.append(exc)

    with claim_report_destination(out, None) as target:
        assert target == out.resolve()
        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join()
        write(out, {"index.html": "<p>mine</p>"})  # the claimant itself is not locked out
    assert len(failures) == 1 and f"process {os.getpid()}" in str(failures[0])
    assert (out / "index.html").read_text() == "<p>mine</p>"
    assert leftovers(tmp_path) == []


def test_a_claim_that_writes_nothing_leaves_no_folders(tmp_path: Path) -> None:
    with claim_report_destination(tmp_path / "a" / "b" / "report", None):
        assert (tmp_path / "a" / "b").is_dir()
    assert list(tmp_path.iterdir()) == []


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_temporary_folders_of_dead_runs_are_removed_and_nothing_else(tmp_path: Path) -> None:
    out = tmp_path / "report"
    dead, alive = _dead_pid(), os.getppid()
    stale = [tmp_path / f".report.pmpath-tmp-{dead}", tmp_path / f".report.pmpath-old-{dead}"]
    kept = [
        tmp_path / f".report.pmpath-tmp-{alive}",  # a live process's: not ours to judge
        tmp_path / f".other.pmpath-tmp-{dead}",  # another report's
        tmp_path / f".report.pmpath-tmp-{dead}-mine",  # not the pattern
    ]
    for folder in stale + kept:
        (folder / "plots").mkdir(parents=True)
        (folder / "plots" / "a.svg").write_text("half")
    write(out, REPORT)
    assert not any(p.exists() for p in stale)
    assert all(p.exists() for p in kept)


def test_the_swap_hook_waits_until_its_file_is_removed(tmp_path: Path, monkeypatch) -> None:
    flag = tmp_path / "paused"
    monkeypatch.setenv(output.TEST_HOOK_BEFORE_SWAP, str(flag))
    seen: list[bool] = []

    def release() -> None:
        while not flag.exists():
            time.sleep(0.01)
        seen.append((tmp_path / "report").exists())
        flag.unlink()

    thread = threading.Thread(target=release)
    thread.start()
    write(tmp_path / "report", REPORT)
    thread.join()
    assert seen == [False]  # paused before the swap: nothing at OUT yet
    assert (tmp_path / "report" / "index.html").is_file()


def test_marker_round_trip(tmp_path: Path) -> None:
    marker = ReportMarker("1.0", "2025-01-01T00:00:00+00:00", "a" * 64, ("index.html",))
    (tmp_path / MARKER_NAME).write_bytes(marker.to_json())
    assert ReportMarker.read(tmp_path) == marker


# --- plot workers end with their parent ---------------------------------------------------------


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


@pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="prctl(PR_SET_PDEATHSIG) is Linux's"
)
def test_pool_workers_die_with_a_killed_parent(tmp_path: Path) -> None:
    """Today's bug: after SIGKILL of assess, two plot workers lived on, re-parented to init."""
    script = textwrap.dedent(
        """
        import multiprocessing as mp, os, time
        from concurrent.futures import ProcessPoolExecutor
        from pmpath.report.workers import end_with_parent

        pool = ProcessPoolExecutor(
            2, mp_context=mp.get_context("fork"),
            initializer=end_with_parent, initargs=(os.getpid(),),
        )
        busy = [pool.submit(time.sleep, 60) for _ in range(2)]
        time.sleep(0.5)
        print(*[p.pid for p in pool._processes.values()], flush=True)
        time.sleep(60)
        """
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    workers = [int(p) for p in parent.stdout.readline().split()]
    assert len(workers) == 2 and all(_alive(p) for p in workers)
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 2
    while any(_alive(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not any(_alive(p) for p in workers)
