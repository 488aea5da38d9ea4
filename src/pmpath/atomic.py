"""Writing outputs so that nothing is ever half-written: build beside the target, fsync, then swap.

The file-system steps every writer shares: :func:`write_bytes` for one file, :func:`fsync_tree`
and :func:`fsync_directory` to make a finished tree durable, and :func:`swap_directory`, which puts
a finished directory in place of another in one step (Linux ``renameat2`` with
``RENAME_EXCHANGE``), so a reader or a crash never sees the target missing. What may be replaced
is decided by the caller: :mod:`pmpath.report.output` for report folders.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import os
import platform
import secrets
import shutil
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# renameat2(2) flags and the "current directory" file descriptor, from <linux/fs.h> and <fcntl.h>.
_AT_FDCWD = -100
RENAME_NOREPLACE = 1
RENAME_EXCHANGE = 2

# SYS_renameat2 where an old libc lacks the wrapper (glibc < 2.28, some musl builds).
_SYS_RENAMEAT2 = {
    "x86_64": 316,
    "amd64": 316,
    "aarch64": 276,
    "arm64": 276,
    "riscv64": 276,
    "i386": 353,
    "i686": 353,
    "armv7l": 382,
    "ppc64le": 357,
    "ppc64": 357,
    "s390x": 347,
}

# What a file system says when it cannot exchange or refuse-to-replace in one rename.
_UNSUPPORTED = frozenset({errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP})


def write_bytes(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically (readers see the old file or the new one, never a part).

    The file gets the permissions the umask allows (``0o666 & ~umask``), as ``open`` would give it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp, fd = _create_exclusive(path.parent, f".{path.name}.", ".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_directory(path.parent)


def _create_exclusive(parent: Path, prefix: str, suffix: str) -> tuple[Path, int]:
    # mkstemp would create the file 0600 whatever the umask; O_EXCL with 0666 lets the umask decide.
    while True:
        tmp = parent / f"{prefix}{secrets.token_hex(4)}{suffix}"
        try:
            return tmp, os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
        except FileExistsError:
            continue


def fsync_directory(path: Path) -> None:
    """Make the entries of directory ``path`` (names created, renamed or removed) durable."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(root: Path) -> None:
    """fsync every regular file and directory below ``root`` (and ``root`` itself), deepest first."""
    for here, _dirs, files in os.walk(root, topdown=False):
        for name in files:
            full = os.path.join(here, name)
            if os.path.islink(full):
                continue
            fd = os.open(full, os.O_RDONLY | os.O_CLOEXEC)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        fsync_directory(Path(here))


@functools.cache
def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


def renameat2(src: Path, dst: Path, flags: int) -> None:
    """Linux ``renameat2(AT_FDCWD, src, AT_FDCWD, dst, flags)``; raises ``OSError`` as the kernel says.

    ``ENOSYS`` where there is no such call (not Linux, or neither libc nor the syscall table has it).
    """
    libc = _libc()
    if libc is None:
        raise OSError(errno.ENOSYS, os.strerror(errno.ENOSYS), str(src), None, str(dst))
    s, d = os.fsencode(src), os.fsencode(dst)
    try:
        fn = libc.renameat2
    except AttributeError:
        number = _SYS_RENAMEAT2.get(platform.machine().lower())
        if number is None:
            raise OSError(
                errno.ENOSYS, os.strerror(errno.ENOSYS), str(src), None, str(dst)
            ) from None
        libc.syscall.restype = ctypes.c_long
        rc = libc.syscall(
            ctypes.c_long(number),
            ctypes.c_int(_AT_FDCWD),
            ctypes.c_char_p(s),
            ctypes.c_int(_AT_FDCWD),
            ctypes.c_char_p(d),
            ctypes.c_uint(flags),
        )
    else:
        fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
        fn.restype = ctypes.c_int
        rc = fn(_AT_FDCWD, s, _AT_FDCWD, d, flags)
    if rc != 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code), str(src), None, str(dst))


def swap_directory(new: Path, path: Path, aside: Path) -> Path | None:
    """Put the finished directory ``new`` at ``path`` in one step; return where the old ``path`` is now.

    When ``path`` exists the two are exchanged (``RENAME_EXCHANGE``): the previous content of
    ``path`` is then at ``new``'s name, and there is no moment without ``path``. When ``path`` is
    absent, ``new`` is renamed to it, refusing (``FileExistsError``) if something appeared there
    meanwhile. Where the file system cannot exchange, ``path`` is first renamed to ``aside`` and
    ``new`` to ``path``, with a warning: a crash between the two leaves no ``path``.

    Parameters
    ----------
    new
        A finished directory, on the same file system as ``path`` (beside it).
    path
        The directory to replace, or a name that does not exist yet.
    aside
        Where the previous ``path`` goes if the two renames are needed; must not exist.

    Returns
    -------
    Path | None
        The previous content of ``path`` (to be removed by the caller), or ``None`` if there was none.
    """
    if os.path.lexists(path):
        try:
            renameat2(new, path, RENAME_EXCHANGE)
            return new
        except OSError as exc:
            if exc.errno not in _UNSUPPORTED:
                raise
        warnings.warn(
            f"{path}: the file system cannot exchange two directories in one step; replacing the "
            "old one by two renames (a crash between them would leave no report there)",
            RuntimeWarning,
            stacklevel=2,
        )
        os.rename(path, aside)
        os.rename(new, path)
        return aside
    try:
        renameat2(new, path, RENAME_NOREPLACE)
    except OSError as exc:
        if exc.errno not in _UNSUPPORTED:
            raise
        if os.path.lexists(path):
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(path)) from None
        os.rename(new, path)
    return None


@contextmanager
def directory(path: Path) -> Iterator[Path]:
    """Yield a temporary directory beside ``path``; on success it replaces ``path`` whole.

    On an exception the temporary directory is removed and ``path`` is left as it was. Whatever is
    at ``path`` is replaced: the caller decides whether it may be (report folders go through
    :func:`pmpath.report.output.report_directory`, which refuses anything but a report).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    token = f"{os.getpid()}-{secrets.token_hex(4)}"
    tmp = path.parent / f".{path.name}.tmp-{token}"
    os.mkdir(tmp, 0o777)  # the umask decides who may read it (mkdtemp would make it 0700)
    try:
        yield tmp
        fsync_tree(tmp)
        old = swap_directory(tmp, path, path.parent / f".{path.name}.old-{token}")
        fsync_directory(path.parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
