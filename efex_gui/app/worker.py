"""One QObject worker living in one QThread: runs slow core work off the GUI thread.

The app's only worker type: the controller's reading tasks and the
:class:`~efex_gui.app.extraction_worker.ExtractionWorker` both run on a :class:`Worker`.

A task is a plain function ``fn(context) -> result`` that knows nothing of Qt: it
reports through the :class:`TaskContext` (``progress``, ``partial``) and checks
``context.cancelled`` between units of work. The worker turns that into signals,
throttled so a long task does not flood the event loop, and ends every task with
exactly one of ``finished(result)``, ``failed(ErrorReport)`` or ``cancelled()``.
"""

from __future__ import annotations

import threading
import time
import traceback
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from efex_gui.core.errors import Cancelled

if TYPE_CHECKING:
    from collections.abc import Callable

#: seconds between two partial/progress emissions
THROTTLE_S = 0.05


@dataclass(frozen=True)
class TaskProgress:
    """How far a task is: ``done`` of ``total`` units, and what it is doing."""

    name: str
    done: int
    total: int
    message: str = ""


@dataclass(frozen=True)
class ErrorReport:
    """A failed task: the message for the user and the traceback for a bug report."""

    name: str
    message: str
    details: str


class TaskContext:
    """What a task function sees: progress reporting, partial results, cancellation."""

    def __init__(self, worker: Worker, name: str) -> None:
        self._worker = worker
        self.name = name
        self._cancel = threading.Event()
        self._pending: list[Any] = []
        self._last_emit = 0.0
        self._progress: TaskProgress | None = None

    @property
    def cancelled(self) -> bool:
        """Whether the user asked to stop."""
        return self._cancel.is_set()

    def is_set(self) -> bool:
        """Whether the user asked to stop (the core's ``CancelToken`` protocol)."""
        return self._cancel.is_set()

    def cancel(self) -> None:
        """Ask the task to stop at its next check (thread-safe)."""
        self._cancel.set()

    def check(self) -> None:
        """Raise :class:`Cancelled` when cancellation was asked for."""
        if self._cancel.is_set():
            raise Cancelled(f"{self.name} was cancelled.")

    def progress(self, done: int, total: int, message: str = "") -> None:
        """Report progress.

        Emitted at most every ``THROTTLE_S`` seconds, and always at the end of a
        stage (``done >= total``).
        """
        self._progress = TaskProgress(self.name, done, total, message)
        if done >= total:
            self.flush()
        else:
            self._maybe_flush()

    def partial(self, item: Any) -> None:
        """Hand one partial result to the GUI (batched)."""
        self._pending.append(item)
        self._maybe_flush()

    def flush(self) -> None:
        """Emit what is pending now."""
        if self._pending:
            items, self._pending = self._pending, []
            self._worker.yielded.emit(items)
        if self._progress is not None:
            self._worker.progressed.emit(self._progress)
            self._progress = None
        self._last_emit = time.monotonic()

    def _maybe_flush(self) -> None:
        if time.monotonic() - self._last_emit >= THROTTLE_S:
            self.flush()


class TaskSignals(QObject):
    """What runs tasks: each task started ends with exactly one terminal signal.

    ``finished``, ``failed`` or ``cancelled``. :class:`Worker` emits them for each
    task; :class:`~efex_gui.app.extraction_worker.ExtractionWorker` for each run.
    """

    #: a task began (its name)
    started = Signal(str)
    #: progress of the running task (TaskProgress), throttled
    progressed = Signal(object)
    #: the task returned (its result)
    finished = Signal(object)
    #: the task raised (ErrorReport)
    failed = Signal(object)
    #: the task stopped because it was cancelled
    cancelled = Signal()


class Worker(TaskSignals):
    """Runs tasks, one at a time, in the thread it was moved to."""

    #: a batch of partial results (list), throttled
    yielded = Signal(object)
    #: internal: start a task in the worker's thread
    _start_requested = Signal(object, object)

    def __init__(self) -> None:
        super().__init__()
        self._start_requested.connect(self._run)

    def submit(self, context: TaskContext, fn: Callable[[TaskContext], Any]) -> None:
        """Queue ``fn`` to run in the worker's thread (call from the GUI thread)."""
        self._start_requested.emit(context, fn)

    @Slot(object, object)
    def _run(self, context: TaskContext, fn: Callable[[TaskContext], Any]) -> None:
        self.started.emit(context.name)
        try:
            result = fn(context)
        except Cancelled:
            context.flush()
            self.cancelled.emit()
        except Exception as exc:  # reported to the user, never swallowed
            context.flush()
            self.failed.emit(
                ErrorReport(
                    context.name, str(exc) or type(exc).__name__, traceback.format_exc()
                )
            )
        else:
            context.flush()
            self.finished.emit(result)


class WorkerThread:
    """A :class:`Worker` with its own QThread, started now and stopped by ``stop``."""

    def __init__(self) -> None:
        self.thread = QThread()
        self.thread.setObjectName("efex-worker")
        self.worker = Worker()
        self.worker.moveToThread(self.thread)
        self.thread.start()

    def stop(self, timeout_ms: int = 5000) -> bool:
        """Quit the thread and wait for it; True when it ended in time."""
        self.thread.quit()
        return bool(self.thread.wait(timeout_ms))
