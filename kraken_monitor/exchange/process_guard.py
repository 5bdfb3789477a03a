"""Keep secrets out of core dumps: a live session makes this process non-dumpable before it loads a key."""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import sys

log = logging.getLogger(__name__)

_PR_SET_DUMPABLE = 4
_PR_GET_DUMPABLE = 3
_done: tuple[str, ...] | None = None


def disable_core_dumps() -> tuple[str, ...]:
    """Core size limit 0 (POSIX) and, on Linux, PR_SET_DUMPABLE 0 (no core even if a limit is raised later,
    no ptrace attach by other processes of the same user, /proc/<pid>/mem closed). Idempotent; returns what
    took effect. Windows has no per-process switch for Windows Error Reporting dumps: nothing is done there.
    """
    global _done
    if _done is not None:
        return _done
    done: list[str] = []
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        done.append("RLIMIT_CORE=0")
    except (ImportError, ValueError, OSError) as exc:
        log.warning("could not set the core size limit to 0: %s", exc)
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
            if libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0) == 0:
                done.append("PR_SET_DUMPABLE=0")
            else:
                log.warning("prctl(PR_SET_DUMPABLE, 0) failed: errno %d", ctypes.get_errno())
        except OSError as exc:
            log.warning("could not load libc for prctl: %s", exc)
    _done = tuple(done)
    log.info("core dumps disabled for the live session: %s", ", ".join(done) or "not supported here")
    return _done


def is_dumpable() -> bool | None:
    """Linux: whether this process may still dump core (None elsewhere). For tests and diagnostics."""
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    return bool(libc.prctl(_PR_GET_DUMPABLE, 0, 0, 0, 0))
