"""Replacing a report folder safely: only a pmpath report is ever replaced, in one step, under a lock.

A run never deletes anything but a report it wrote itself. :func:`report_directory` writes a report
folder OUT so that:

- OUT is replaced only when it is absent, an empty folder, or a pmpath report: one with the marker
  ``.pmpath-report.json`` (and no files added since pmpath wrote it), or a report of earlier
  versions (``index.html`` beside an ``assessment.json`` holding ``pmpath_version``). Anything else,
  and an OUT equal to, above or inside the dossier, is refused with :class:`~pmpath.errors.UsageError`
  before anything is touched.
- The report is built in ``.<OUT>.pmpath-tmp-<pid>`` beside OUT, fsynced, and swapped in with one
  ``renameat2(RENAME_EXCHANGE)``: OUT is at every moment the complete old or the complete new report,
  even if the process is killed (see :func:`pmpath.atomic.swap_directory` for file systems that
  cannot exchange).
- A lock ``.<OUT>.pmpath-lock`` holding the writer's process id is held throughout; a second run
  into the same OUT fails at once with :class:`~pmpath.errors.OutputError` naming that process.
  Temporary folders left by killed runs are removed by the next run into the same OUT.
- Any ``OSError`` (disk full, read-only, permission denied) becomes one :class:`OutputError` line
  naming the path and the cause; the previous report is left as it was.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath

from pmpath import __version__, atomic
from pmpath.errors import OutputError, UsageError

try:
    import fcntl
except ImportError:  # not on Windows: runs there are not locked against each other
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "MARKER_NAME",
    "ReportMarker",
    "check_report_destination",
    "claim_report_destination",
    "report_directory",
]

MARKER_NAME = ".pmpath-report.json"

# Test-only: when this environment variable names a file, the writer creates that file and waits
# (until the file is removed, at most _HOOK_WAIT_S seconds) just before swapping the new report in,
# so a fault test can kill the process exactly there. Nothing else reads it; never set it in use.
TEST_HOOK_BEFORE_SWAP = "PMPATH_TEST_HOOK_BEFORE_SWAP"
_HOOK_WAIT_S = 30.0

# Files an operating system's file browser drops into any folder it shows; a report holding them
# is still only a report.
_OS_METADATA = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})

_SHOWN_ENTRIES = 5  # entries of a refused folder named in the message


@dataclass(frozen=True)
class ReportMarker:
    """The contents of ``.pmpath-report.json``: what says a folder is a report pmpath wrote.

    Attributes
    ----------
    pmpath_version
        The version that wrote the report.
    created
        When it was written, UTC, ISO 8601 (``2025-07-01T12:00:00+00:00``).
    dossier_fingerprint
        :func:`pmpath.dossier.fingerprint.dossier_fingerprint` of the dossier assessed.
    files
        Every file of the report (relative POSIX paths, sorted; the marker itself left out): a
        report holding anything else has had files added, and is not replaced.
    """

    pmpath_version: str
    created: str
    dossier_fingerprint: str | None
    files: tuple[str, ...] = ()

    def to_json(self) -> bytes:
        return (json.dumps({**asdict(self), "files": list(self.files)}, indent=2) + "\n").encode()

    @classmethod
    def read(cls, folder: Path) -> ReportMarker | None:
        """The marker of ``folder``; ``None`` if there is none or it is not a pmpath marker."""
        path = folder / MARKER_NAME
        if not path.is_file() or path.is_symlink():
            return None
        try:
            data = json.loads(path.read_bytes())
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or not isinstance(data.get("pmpath_version"), str):
            return None
        files = data.get("files", [])
        return cls(
            pmpath_version=data["pmpath_version"],
            created=str(data.get("created", "")),
            dossier_fingerprint=data.get("dossier_fingerprint"),
            files=tuple(str(f) for f in files) if isinstance(files, list) else (),
        )


# --- what may be replaced --------------------------------------------------------------------------


def check_report_destination(out: Path, dossier_root: Path | None) -> Path:
    """Check that a report may be written to ``out``; return where it would go (symlinks resolved).

    Call it before a long assessment to fail early; :func:`report_directory` checks again.

    Parameters
    ----------
    out
        The report folder asked for (``--out``).
    dossier_root
        The dossier's folder, or ``None`` for a report not read from a dossier on disk.

    Returns
    -------
    Path
        The absolute, symlink-free path of the report folder.

    Raises
    ------
    UsageError
        ``out`` is a symbolic link, the dossier itself, a folder holding the dossier, inside the
        dossier, below a file, or something other than an empty folder or a pmpath report.
    OutputError
        ``out`` cannot even be examined (permission denied on its parent).
    """
    target = _location(Path(out), dossier_root)
    refusal = _refusal(target, str(out))
    if refusal is not None:
        raise UsageError(refusal)
    return target


def _location(out: Path, dossier_root: Path | None) -> Path:
    shown = str(out)
    lead = f"cannot write the report to {shown}"
    if os.path.islink(out):
        raise UsageError(
            f"{lead}: it is a symbolic link (to {os.readlink(out)}); pmpath replaces only a real "
            "folder. Give the folder it points to as --out, or choose another --out"
        )
    try:
        target = out.resolve()
    except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop (Python 3.11)
        raise UsageError(f"{lead}: the path cannot be resolved ({exc})") from exc
    if target.parent == target:
        raise UsageError(f"{lead}: it is the root of the file system; choose another --out")
    if dossier_root is not None:
        try:
            dossier = Path(dossier_root).resolve()
        except (OSError, RuntimeError) as exc:
            raise UsageError(f"{lead}: the dossier path cannot be resolved ({exc})") from exc
        if target == dossier:
            why = "it is the dossier itself, which replacing it would delete"
        elif dossier.is_relative_to(target):
            why = f"it holds the dossier {dossier}, which replacing it would delete"
        elif target.is_relative_to(dossier):
            why = (
                f"it is inside the dossier {dossier}, which must stay as it was assessed (a report "
                "there would become one of its files)"
            )
        else:
            why = ""
        if why:
            raise UsageError(f"{lead}: {why}. Choose an --out outside the dossier")
    for ancestor in target.parents:
        if os.path.lexists(ancestor):
            if not ancestor.is_dir():
                raise UsageError(
                    f"{lead}: {ancestor} is a file, not a folder; choose another --out"
                )
            break
    return target


def _refusal(target: Path, shown: str) -> str | None:
    """Why ``target`` may not be replaced by a report, or ``None`` if it may."""
    lead = f"cannot write the report to {shown}"
    try:
        return _refusal_of(target, lead)
    except OSError as exc:
        raise _output_error(shown, exc) from exc


def _refusal_of(target: Path, lead: str) -> str | None:
    if not os.path.lexists(target):
        return None
    if target.is_symlink():
        return (
            f"{lead}: it is a symbolic link (to {os.readlink(target)}); pmpath replaces only a real "
            "folder. Choose another --out, or remove the link yourself"
        )
    if not target.is_dir():
        kind = "a file" if target.is_file() else "something other than a folder"
        return (
            f"{lead}: {kind} is there, not a report folder; pmpath replaces only its own reports. "
            "Choose another --out, or move or remove it yourself"
        )
    entries = sorted(os.listdir(target))
    if not entries:
        return None
    marker = ReportMarker.read(target)
    if marker is not None:
        added = _added_files(target, marker)
        if not added:
            return None
        return (
            f"{lead}: it is a pmpath report to which {len(added)} entr{'y' if len(added) == 1 else 'ies'} "
            f"{'was' if len(added) == 1 else 'were'} added ({_names(added)}), which replacing it "
            "would delete. Move them out of it, or choose another --out"
        )
    if _is_earlier_report(target):
        return None
    return (
        f"{lead}: it is a folder holding {len(entries)} entr{'y' if len(entries) == 1 else 'ies'} "
        f"({_names(entries)}) and no pmpath report marker ({MARKER_NAME}); pmpath replaces only "
        "its own reports. Choose another --out, or move or remove that folder yourself"
    )


def _names(entries: list[str]) -> str:
    shown = ", ".join(entries[:_SHOWN_ENTRIES])
    return shown + (", ..." if len(entries) > _SHOWN_ENTRIES else "")


def _report_files(folder: Path) -> tuple[list[str], list[str]]:
    """Relative POSIX paths of the files (and links) and of the folders below ``folder``."""
    files: list[str] = []
    folders: list[str] = []
    for here, dirs, names in os.walk(folder):
        rel = PurePosixPath(Path(here).relative_to(folder).as_posix())
        for d in list(dirs):
            if os.path.islink(os.path.join(here, d)):  # os.walk does not enter it: an entry
                dirs.remove(d)
                names.append(d)
            else:
                folders.append(str(rel / d))
        files += [str(rel / n) for n in names]
    files = [f.removeprefix("./") for f in files]
    folders = [f.removeprefix("./") for f in folders]
    return sorted(files), sorted(folders)


def _added_files(folder: Path, marker: ReportMarker) -> list[str]:
    """Entries of a marked report that pmpath did not write (empty for a marker without a list)."""
    if not marker.files:
        return []
    written = set(marker.files) | {MARKER_NAME}
    parents = {str(p) for f in written for p in PurePosixPath(f).parents if str(p) != "."}
    files, folders = _report_files(folder)
    added = [f for f in files if f not in written and PurePosixPath(f).name not in _OS_METADATA]
    added += [d for d in folders if d not in parents]
    # a folder that was added is named once, not with every file below it
    added_dirs = {d for d in added if d in folders}
    return sorted(
        a
        for a in added
        if not any(PurePosixPath(a).is_relative_to(d) and a != d for d in added_dirs)
    )


def _is_earlier_report(folder: Path) -> bool:
    """A report of pmpath versions before the marker: ``index.html`` and a pmpath ``assessment.json``."""
    index, data = folder / "index.html", folder / "assessment.json"
    if not (index.is_file() and data.is_file()) or index.is_symlink() or data.is_symlink():
        return False
    try:
        parsed = json.loads(data.read_bytes())
    except (OSError, ValueError):
        return False
    return isinstance(parsed, dict) and "pmpath_version" in parsed


# --- writing ---------------------------------------------------------------------------------------


@contextmanager
def claim_report_destination(out: Path, dossier_root: Path | None) -> Iterator[Path]:
    """Check ``out`` and hold its lock until the block ends, so a long run fails before it starts.

    :func:`report_directory` inside the block (same thread) uses this claim instead of locking
    again; without a claim it takes one itself. Parent folders created for the lock are removed
    again if no report was written.

    Yields
    ------
    Path
        Where the report will go (absolute, symlinks resolved).

    Raises
    ------
    UsageError
        ``out`` may not be replaced (see :func:`check_report_destination`).
    OutputError
        Another run holds the lock (the message names its process id), or the lock cannot be made.
    """
    shown = str(out)
    target = check_report_destination(Path(out), dossier_root)
    key = (target, threading.get_ident())
    if key in _claims:
        yield target
        return
    try:
        created = _make_folders(target.parent)
    except OSError as exc:
        raise _output_error(shown, exc) from exc
    try:
        with _ReportLock(target, shown):
            _claims.add(key)
            try:
                refusal = _refusal(target, shown)  # again, now that no other run can change it
                if refusal is not None:
                    raise UsageError(refusal)
                yield target
            finally:
                _claims.discard(key)
    finally:
        if not os.path.lexists(target):
            for folder in reversed(created):
                try:
                    os.rmdir(folder)
                except OSError:
                    break


_claims: set[tuple[Path, int]] = set()  # (report folder, thread) claimed by this process


def _make_folders(folder: Path) -> list[Path]:
    """``mkdir -p folder``; the folders created, outermost first."""
    missing = [folder, *folder.parents]
    missing = [f for f in missing if not os.path.lexists(f)][::-1]
    folder.mkdir(parents=True, exist_ok=True)
    return missing


@contextmanager
def report_directory(
    out: Path, *, dossier_root: Path | None, dossier_fingerprint: str | None
) -> Iterator[Path]:
    """Yield an empty folder to write a report into; on success it replaces ``out`` in one step.

    Parameters
    ----------
    out
        The report folder (``--out``); created with its parents if absent.
    dossier_root
        The assessed dossier's folder: ``out`` may not be it, hold it or lie inside it. ``None``
        only for a report not read from a dossier on disk.
    dossier_fingerprint
        Recorded in the report's marker.

    Yields
    ------
    Path
        ``.<out>.pmpath-tmp-<pid>`` beside ``out``; the marker is added after the caller is done.

    Raises
    ------
    UsageError
        ``out`` may not be replaced (see :func:`check_report_destination`); nothing is touched.
    OutputError
        Another run holds the lock, or the report could not be written (the message names the
        path and the cause); ``out`` is left as it was and the temporary folder removed.

    Examples
    --------
    >>> import tempfile
    >>> out = Path(tempfile.mkdtemp()) / "report"
    >>> with report_directory(out, dossier_root=None, dossier_fingerprint=None) as tmp:
    ...     _ = (tmp / "index.html").write_text("<p>hello</p>")
    >>> sorted(p.name for p in out.iterdir())
    ['.pmpath-report.json', 'index.html']
    """
    shown = str(out)
    with claim_report_destination(out, dossier_root) as target:
        tmp = target.parent / f".{target.name}.pmpath-tmp-{os.getpid()}"
        try:
            _remove_stale(target)
            os.mkdir(tmp, 0o777)  # the umask decides who may read the report
            yield tmp
            _write_marker(tmp, dossier_fingerprint)
            atomic.fsync_tree(tmp)
            _pause_before_swap()
            refusal = _refusal(target, shown)  # a program that ignores the lock may have been busy
            if refusal is not None:
                raise UsageError(refusal)
            old = atomic.swap_directory(
                tmp, target, target.parent / f".{target.name}.pmpath-old-{os.getpid()}"
            )
        except OSError as exc:
            _discard(tmp)
            raise _output_error(shown, exc) from exc
        except BaseException:
            _discard(tmp)
            raise
        # The new report is in place from here on: what fails now is worth a warning, not an error.
        try:
            atomic.fsync_directory(target.parent)
        except OSError as exc:
            warnings.warn(f"{shown}: report written but not synced to disk: {exc}", stacklevel=3)
        if old is not None:
            _remove_previous(old, target, shown)


def _write_marker(tmp: Path, fingerprint: str | None) -> None:
    files, _ = _report_files(tmp)
    marker = ReportMarker(
        pmpath_version=__version__,
        created=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        dossier_fingerprint=fingerprint,
        files=tuple(f for f in files if f != MARKER_NAME),
    )
    (tmp / MARKER_NAME).write_bytes(marker.to_json())


def _pause_before_swap() -> None:
    """Test-only (see TEST_HOOK_BEFORE_SWAP): say "about to swap" and wait for the test."""
    flag = os.environ.get(TEST_HOOK_BEFORE_SWAP)
    if not flag:
        return
    Path(flag).write_text(f"{os.getpid()}\n")
    deadline = time.monotonic() + _HOOK_WAIT_S
    while os.path.exists(flag) and time.monotonic() < deadline:
        time.sleep(0.02)


def _remove_previous(old: Path, target: Path, shown: str) -> None:
    """Delete the replaced report, unless something not pmpath's got into it at the last moment."""
    try:
        if _refusal_of(old, "") is not None:
            kept = target.parent / f"{target.name}.kept-{time.strftime('%Y%m%dT%H%M%S')}"
            os.rename(old, kept)
            warnings.warn(
                f"{shown}: files were added to the previous report while it was being replaced; "
                f"it is kept as {kept}",
                stacklevel=4,
            )
            return
    except OSError as exc:
        warnings.warn(f"{shown}: the previous report is left at {old}: {exc}", stacklevel=4)
        return
    failed: list[str] = []

    def note(_function: object, path: str, _exc: object) -> None:
        failed.append(path)

    if sys.version_info >= (3, 12):
        shutil.rmtree(old, onexc=note)
    else:
        shutil.rmtree(old, onerror=note)
    if failed:
        warnings.warn(
            f"{shown}: the previous report could not be removed completely ({failed[0]}); "
            "the next run into it will remove it",
            stacklevel=4,
        )


def _discard(tmp: Path) -> None:
    shutil.rmtree(tmp, ignore_errors=True)


def _remove_stale(target: Path) -> None:
    """Remove temporary folders of earlier runs into ``target`` whose process is gone.

    Called holding the lock, so no live run is writing them. Only folders named
    ``.<name>.pmpath-tmp-<pid>`` or ``.<name>.pmpath-old-<pid>`` are touched.
    """
    pattern = re.compile(rf"\.{re.escape(target.name)}\.pmpath-(?:tmp|old)-(\d+)")
    for name in os.listdir(target.parent):
        match = pattern.fullmatch(name)
        if match is None:
            continue
        path = target.parent / name
        pid = int(match.group(1))
        if path.is_dir() and not path.is_symlink() and (pid == os.getpid() or not _alive(pid)):
            shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    """Whether process ``pid`` exists and has not ended (a zombie has)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    except OverflowError:
        return False
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            state = fh.read().rsplit(b")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in (b"Z", b"X")


def _output_error(shown: str, exc: OSError) -> OutputError:
    cause = os.strerror(exc.errno) if exc.errno else str(exc)
    where = f" ({exc.filename})" if exc.filename else ""
    line = f"cannot write the report to {shown}: {cause}{where}; the previous report is unchanged"
    return OutputError(line.replace("\n", "\\n"))


class _ReportLock:
    """``.<name>.pmpath-lock`` beside the report, ``flock``ed and holding the writer's process id.

    The file is removed on release; a run that locked a file just removed by its holder notices (the
    path no longer names the file it locked) and tries again.
    """

    def __init__(self, target: Path, shown: str) -> None:
        self.path = target.parent / f".{target.name}.pmpath-lock"
        self.shown = shown
        self.fd: int | None = None

    def __enter__(self) -> _ReportLock:
        if fcntl is None:
            return self
        try:
            self.fd = self._acquire()
            os.ftruncate(self.fd, 0)
            os.write(self.fd, f"{os.getpid()}\n".encode())
        except OSError as exc:
            self._release()
            raise _output_error(self.shown, exc) from exc
        return self

    def _acquire(self) -> int:
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _holder(fd)
                os.close(fd)
                raise OutputError(
                    f"cannot write the report to {self.shown}: another pmpath run (process "
                    f"{holder}) is writing it, holding {self.path}; wait for it to finish, or "
                    "choose another --out"
                ) from None
            except BaseException:
                os.close(fd)
                raise
            try:
                same = os.path.samestat(os.fstat(fd), os.stat(self.path))
            except FileNotFoundError:
                same = False
            if same:
                return fd
            os.close(fd)  # locked a file its holder removed on release: lock the new one

    def _release(self) -> None:
        if self.fd is not None:
            with suppress(OSError):
                os.unlink(self.path)
            os.close(self.fd)
            self.fd = None

    def __exit__(self, *exc: object) -> None:
        self._release()


def _holder(fd: int) -> str:
    """The process id written in a lock file by its holder ("unknown" if not written yet)."""
    for _ in range(20):  # the holder writes it right after locking
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        if text.isdigit():
            return text
        time.sleep(0.01)
    return "unknown"
