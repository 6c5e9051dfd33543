"""ExtractionWorker: the session's extraction on its own QThread.

The worker owns an :class:`~efex_gui.core.extraction.incremental.IncrementalExtractor`
(its recording and feature caches live on the worker thread and are touched by no other
thread) and runs one extraction at a time. Each run ends with exactly one of
``finished(ExtractionResult)``, ``failed(ExtractionError)`` or ``cancelled()``.
Cancellation is a ``threading.Event`` checked by the core between files and between
sweeps, so a run stops within one sweep's efel call. efel itself is serialised by the
lock in :mod:`efex_gui.core.features`, whatever thread calls it.
"""

from __future__ import annotations

import threading
import time
import traceback
from dataclasses import dataclass
from functools import partial
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from efex_gui.core.errors import Cancelled
from efex_gui.core.extraction.incremental import IncrementalExtractor

#: seconds between two progress emissions
THROTTLE_S = 0.05


@dataclass(frozen=True)
class ExtractionProgress:
    """``done`` of ``total`` units of the current stage, and what is being done."""

    done: int
    total: int
    message: str = ""


@dataclass(frozen=True)
class ExtractionError:
    """A failed run: the message for the user and the traceback for a bug report."""

    message: str
    details: str


class _Runner(QObject):
    """Lives in the worker thread; runs the requests it receives."""

    started = Signal(str)
    progressed = Signal(object)
    finished = Signal(object)
    failed = Signal(object)
    cancelled = Signal()
    job_finished = Signal(str, object)
    job_failed = Signal(object)

    def __init__(self, extractor: IncrementalExtractor) -> None:
        super().__init__()
        self.extractor = extractor
        self._last = 0.0

    @Slot(object, object, object)
    def run(self, session: Any, overrides: Any, cancel: threading.Event) -> None:
        self.started.emit("Extraction")
        try:
            result = self.extractor.run(
                session, overrides, progress=self._progress, cancel=cancel
            )
        except Cancelled:
            self.cancelled.emit()
        except Exception as exc:  # shown to the user, never swallowed
            self.failed.emit(
                ExtractionError(str(exc) or type(exc).__name__, traceback.format_exc())
            )
        else:
            self.finished.emit(result)

    @Slot()
    def clear(self) -> None:
        self.extractor.clear()

    @Slot(str, object)
    def job(self, name: str, fn: Any) -> None:
        try:
            result = fn()
        except Exception as exc:  # shown to the user, never swallowed
            self.job_failed.emit(
                ExtractionError(
                    f"{name}: {exc}" if str(exc) else name, traceback.format_exc()
                )
            )
        else:
            self.job_finished.emit(name, result)

    def _progress(self, done: int, total: int, message: str) -> None:
        now = time.monotonic()
        if now - self._last >= THROTTLE_S or done >= total:
            self._last = now
            self.progressed.emit(ExtractionProgress(done, total, message))


class ExtractionWorker(QObject):
    """Runs extractions on a dedicated QThread, one at a time.

    Parameters
    ----------
    parent : QObject, optional
        Qt parent.
    """

    #: a run began (its name)
    started = Signal(str)
    #: progress of the running run (ExtractionProgress), throttled
    progressed = Signal(object)
    #: the run completed (ExtractionResult)
    finished = Signal(object)
    #: the run raised (ExtractionError)
    failed = Signal(object)
    #: the run stopped because it was cancelled
    cancelled = Signal()
    #: a side job (e.g. writing plots) ended (its name, its result)
    job_finished = Signal(str, object)
    #: a side job raised (ExtractionError)
    job_failed = Signal(object)
    #: internal: hand a request to the runner's thread
    _requested = Signal(object, object, object)
    _clear_requested = Signal()
    _job_requested = Signal(str, object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.extractor = IncrementalExtractor()
        # a child: Qt deletes it with the worker, after _stop_thread has ended it
        self._thread = QThread(self)
        self._thread.setObjectName("efex-extraction")
        self._runner = _Runner(self.extractor)
        self._runner.moveToThread(self._thread)
        self._requested.connect(self._runner.run)
        self._clear_requested.connect(self._runner.clear)
        self._job_requested.connect(self._runner.job)
        self._runner.job_finished.connect(self.job_finished)
        self._runner.job_failed.connect(self.job_failed)
        self._runner.started.connect(self.started)
        self._runner.progressed.connect(self.progressed)
        self._runner.finished.connect(self._on_finished)
        self._runner.failed.connect(self._on_failed)
        self._runner.cancelled.connect(self._on_cancelled)
        self._cancel: threading.Event | None = None
        self._events: list[threading.Event] = []
        self.destroyed.connect(partial(_stop_thread, self._thread, self._events))
        self._thread.start()

    def is_running(self) -> bool:
        """Whether a run was started and has not ended yet."""
        return self._cancel is not None

    def start(self, session: Any, overrides: dict[str, float] | None = None) -> bool:
        """Start a run on ``session`` (a copy the worker may keep); False if busy."""
        if self._cancel is not None:
            return False
        self._cancel = threading.Event()
        self._events[:] = [self._cancel]
        self._requested.emit(session, dict(overrides or {}), self._cancel)
        return True

    def cancel(self) -> None:
        """Ask the running run to stop at its next check (thread-safe)."""
        if self._cancel is not None:
            self._cancel.set()

    def run_job(self, name: str, fn: Any) -> None:
        """Run ``fn()`` on the worker thread after any queued run (no cancel)."""
        self._job_requested.emit(name, fn)

    def clear_caches(self) -> None:
        """Forget cached recordings and values (done on the worker thread)."""
        self._clear_requested.emit()

    def stop(self, timeout_ms: int = 5000) -> bool:
        """Cancel, quit the thread and wait for it; True when it ended in time."""
        self.cancel()
        self._thread.quit()
        return bool(self._thread.wait(timeout_ms))

    def _on_finished(self, result: Any) -> None:
        self._cancel = None
        self.finished.emit(result)

    def _on_failed(self, error: ExtractionError) -> None:
        self._cancel = None
        self.failed.emit(error)

    def _on_cancelled(self) -> None:
        self._cancel = None
        self.cancelled.emit()


def _stop_thread(thread: QThread, events: list[threading.Event], *_args: Any) -> None:
    """End the worker's thread before Qt deletes it (a running QThread must not be)."""
    for event in events:
        event.set()
    thread.quit()
    thread.wait(10000)
