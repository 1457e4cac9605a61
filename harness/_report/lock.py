"""One run at a time per report folder: a lock file held for the whole session.

Two runs writing the same folder corrupt each other (one clears the other's allure results mid-run), so a
second run is stopped with a message instead. The lock is an advisory ``flock`` on ``.harness.lock``: the
operating system releases it when the process dies, so a killed run never leaves a stale lock behind.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO

from harness._errors import HarnessUsageError

LOCK_NAME = ".harness.lock"


class ReportDirLock:
    """Held by the process that writes a report folder (the controller under xdist)."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / LOCK_NAME
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        """Take the lock, or raise ``HarnessUsageError`` naming the run that holds it and the fix."""
        try:
            import fcntl
        except ImportError:  # not POSIX: no advisory locks; runs must keep their folders apart themselves
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise HarnessUsageError(
                f"another qa-harness run (pid {holder}) is writing reports to {self.path.parent}; "
                "wait for it, or give this run its own folder with --harness-report-dir"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._file = handle

    def release(self) -> None:
        """Let the next run in; safe to call twice."""
        if self._file is not None:
            self._file.close()  # closing the descriptor drops the flock
            self._file = None
