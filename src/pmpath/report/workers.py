"""Worker processes that end with their parent: a killed ``pmpath`` leaves no plot workers behind.

A process pool's workers outlive a parent killed by SIGKILL (nothing runs to stop them; they are
re-parented to init and wait forever). :func:`end_with_parent`, run as a pool's ``initializer``,
asks Linux to send the worker SIGKILL when its parent dies (``prctl(PR_SET_PDEATHSIG)``).
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

__all__ = ["end_with_parent"]

_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def end_with_parent(parent_pid: int) -> None:
    """In a worker: be killed when the parent process ends; exit at once if it already has.

    Parameters
    ----------
    parent_pid
        The process id of the parent, read in the parent (``os.getpid()``) when the pool is made.

    Notes
    -----
    Linux sends the signal when the *thread* that forked the worker ends, so the pool must be made
    and used from one thread that outlives it (as :class:`pmpath.report.plots.SvgDrawing` is).
    Elsewhere than Linux this does nothing.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, ctypes.c_ulong(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):  # no prctl here: the worker may outlive a killed parent
        pass
    # The parent may have died between the fork and the prctl call: then no signal will come.
    if os.getppid() != parent_pid:
        os._exit(1)
