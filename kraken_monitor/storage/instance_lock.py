"""One kraken-monitor per journal: an OS file lock on `<journal>.lock`, holding the owner's pid.

Two instances on one journal journal every alert twice, interleave two paper accounts and, live, share
one key's private counter. The lock is the operating system's (fcntl.flock on Linux/macOS, msvcrt on
Windows): it goes away with the process, however it ends, so a crash never leaves a stale lock behind.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

_WINDOWS_LOCK_OFFSET = 4096


class JournalInUse(Exception):
    """Another process holds the journal's lock; `pid` is what it wrote (None if unreadable)."""

    def __init__(self, journal: Path, pid: int | None):
        self.journal = journal
        self.pid = pid
        who = f"pid {pid}" if pid is not None else "pid unknown"
        super().__init__(f"another kraken-monitor ({who}) is using {journal}")


def lock_path(journal: Path) -> Path:
    return journal.with_name(journal.name + ".lock")


def _try_lock(fd: int) -> bool:
    if sys.platform == "win32":
        import msvcrt

        try:
            # Lock one byte past the pid (Windows locks are mandatory: others must still read the pid).
            os.lseek(fd, _WINDOWS_LOCK_OFFSET, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _read_pid(path: Path) -> int | None:
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() else None


class InstanceLock:
    """Held for the life of a GUI or `watch` process; `acquire()` raises JournalInUse if taken."""

    def __init__(self, journal: Path | str):
        self.journal = Path(journal)
        self.path = lock_path(self.journal)
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> InstanceLock:
        if self._fd is not None:
            return self
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        if not _try_lock(fd):
            os.close(fd)
            raise JournalInUse(self.journal, _read_pid(self.path))
        # The pid goes in once the lock is ours, so it always names the holder.
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, f"{os.getpid()}\n".encode("ascii"))
        os.fsync(fd)
        self._fd = fd
        return self

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # closing the descriptor drops the lock; the file stays (harmless, reused)

    def __enter__(self) -> InstanceLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def holder(journal: Path | str) -> int | None:
    """The pid holding `journal`'s lock, or None when nobody does (probes without keeping the lock)."""
    probe = InstanceLock(journal)
    try:
        probe.acquire()
    except JournalInUse as exc:
        return exc.pid if exc.pid is not None else -1
    except OSError:
        return None
    probe.release()
    return None
