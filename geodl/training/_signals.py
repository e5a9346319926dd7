"""Graceful stop on SIGTERM / SIGINT: finish the current step, checkpoint, exit.

Inside :class:`GracefulStop` the first SIGTERM or SIGINT only sets a flag; the training
loop sees it before its next step, writes a checkpoint and raises
:class:`TrainingInterrupted`. A second signal gets Python's default behaviour (an
immediate stop). The command line exits with ``128 + signal number`` (130 for Ctrl-C,
143 for SIGTERM), as a shell does for a process a signal ended.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any

from geodl.errors import GeoDLError

__all__ = ["GracefulStop", "TrainingInterrupted"]


class TrainingInterrupted(GeoDLError):
    """Training stopped on a signal after writing a checkpoint; resume with the same
    command.

    Attributes
    ----------
    signum : int
        The signal (``signal.SIGTERM``, ``signal.SIGINT``).
    exit_code : int
        ``128 + signum``.

    Examples
    --------
    >>> err = TrainingInterrupted(signal.SIGTERM, "checkpoint written")
    >>> err.exit_code, str(err)
    (143, 'training interrupted by SIGTERM: checkpoint written')
    """

    def __init__(self, signum: int, detail: str) -> None:
        name = signal.Signals(signum).name
        super().__init__(f"training interrupted by {name}: {detail}")
        self.signum = int(signum)
        self.exit_code = 128 + int(signum)


class GracefulStop:
    """Context manager turning SIGTERM / SIGINT into a flag (:attr:`signum`).

    Outside the main thread (where Python cannot install handlers) it does nothing and
    :attr:`signum` stays ``None``.

    Examples
    --------
    >>> import os
    >>> with GracefulStop() as stop:
    ...     os.kill(os.getpid(), signal.SIGTERM)
    ...     stop.requested
    True
    """

    SIGNALS = (signal.SIGTERM, signal.SIGINT)

    def __init__(self) -> None:
        self.signum: int | None = None
        self._old: dict[int, Any] = {}

    @property
    def requested(self) -> bool:
        """A signal arrived."""
        return self.signum is not None

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.signum = signum
        for sig, old in self._old.items():  # a second signal stops at once
            signal.signal(sig, old)

    def __enter__(self) -> GracefulStop:
        if threading.current_thread() is threading.main_thread():
            for sig in self.SIGNALS:
                self._old[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)
        self._old.clear()
