"""ExtractionWorker: the session's extraction on its own QThread.

The worker owns an :class:`~efex_gui.core.extraction.incremental.IncrementalExtractor`
(its recording and feature caches live on the worker thread and are touched by no other
thread) and runs one extraction at a time on a :class:`~efex_gui.app.worker.Worker`
(the app's one worker type) moved to its own QThread. Each run ends with exactly one of
``finished(ExtractionResult)``, ``failed(ExtractionError)`` or ``cancelled()``.
Cancellation is the task context, checked by the core between files and between
sweeps, so a run stops within one sweep's efel call. efel itself is serialised by the
lock in :mod:`efex_gui.core.features`, whatever thread calls it.
"""

from __future__ import annotations

from collections import deque
from functools import partial
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QThread, Signal

from efex_gui.app.worker import (
    ErrorReport,
    TaskContext,
    TaskProgress,
    TaskSignals,
    Worker,
)
from efex_gui.core.extraction.feature_cache import session_cache
from efex_gui.core.extraction.feature_store import open_default_store
from efex_gui.core.extraction.incremental import IncrementalExtractor

if TYPE_CHECKING:
    from collections.abc import Callable

    from efex_gui.core.extraction.feature_store import FeatureStore

#: ``done`` of ``total`` units of the current stage, and what is being done
ExtractionProgress = TaskProgress
#: a failed run or job: ``message`` for the user, ``details`` (the traceback)
ExtractionError = ErrorReport

_RUN, _JOB, _CLEAR = "run", "job", "clear"


class ExtractionWorker(TaskSignals):
    """Runs extractions on a dedicated QThread, one at a time.

    Its :class:`~efex_gui.app.worker.TaskSignals` tell the runs (not the side jobs).

    Parameters
    ----------
    parent : QObject, optional
        Qt parent.
    """

    # TaskSignals, for runs: finished(ExtractionResult), failed(ExtractionError)
    #: a side job (e.g. writing plots) ended (its name, its result)
    job_finished = Signal(str, object)
    #: a side job raised (ExtractionError)
    job_failed = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        # values also go to the persistent cache: a reopened session, a second
        # window or a later ``efex extract`` on the same data finds them there
        self.extractor = IncrementalExtractor(session_cache(open_default_store()))
        # a child: Qt deletes it with the worker, after _stop_thread has ended it
        self._thread = QThread(self)
        self._thread.setObjectName("efex-extraction")
        self._worker = Worker()
        self._worker.moveToThread(self._thread)
        # the worker ends its tasks in order, one terminal signal each: this queue
        # says what each one was
        self._queued: deque[tuple[str, str]] = deque()
        self._worker.started.connect(self._on_started)
        self._worker.progressed.connect(self.progressed)
        self._worker.finished.connect(self._on_finished)
        self._worker.failed.connect(self._on_failed)
        self._worker.cancelled.connect(self._on_cancelled)
        self._context: TaskContext | None = None
        self._contexts: list[TaskContext] = []
        self.destroyed.connect(partial(_stop_thread, self._thread, self._contexts))
        self._thread.start()

    @property
    def feature_store(self) -> FeatureStore | None:
        """The persistent cache of the worker thread, for its runs and side jobs."""
        return self.extractor.feature_cache.store

    def is_running(self) -> bool:
        """Whether a run was started and has not ended yet."""
        return self._context is not None

    def start(
        self,
        session: Any,
        overrides: dict[str, float] | None = None,
        preread: Any = None,
        *,
        check_files: bool = True,
    ) -> bool:
        """Start a run on ``session`` (a copy the worker may keep); False if busy.

        ``preread``: the recordings the browser read
        (``RecordingStore.entries_read``), used instead of reading their files again.
        ``check_files``: see :meth:`IncrementalExtractor.run`.
        """
        if self._context is not None:
            return False
        overrides = dict(overrides or {})
        self._context = TaskContext(self._worker, "Extraction")
        self._contexts[:] = [self._context]
        self._submit(
            _RUN,
            self._context,
            lambda context: self.extractor.run(
                session,
                overrides,
                progress=context.progress,
                cancel=context,
                preread=preread,
                check_files=check_files,
            ),
        )
        return True

    def cancel(self) -> None:
        """Ask the running run to stop at its next check (thread-safe)."""
        if self._context is not None:
            self._context.cancel()

    def run_job(self, name: str, fn: Callable[[], Any]) -> None:
        """Run ``fn()`` on the worker thread after any queued run (no cancel)."""
        self._submit(_JOB, TaskContext(self._worker, name), lambda _context: fn())

    def clear_caches(self) -> None:
        """Forget cached recordings and values (done on the worker thread)."""
        self._submit(
            _CLEAR,
            TaskContext(self._worker, "Clear caches"),
            lambda _context: self.extractor.clear(),
        )

    def stop(self, timeout_ms: int = 5000) -> bool:
        """Cancel, quit the thread and wait for it; True when it ended in time."""
        self.cancel()
        self._thread.quit()
        return bool(self._thread.wait(timeout_ms))

    def _submit(
        self, kind: str, context: TaskContext, fn: Callable[[TaskContext], Any]
    ) -> None:
        self._queued.append((kind, context.name))
        self._worker.submit(context, fn)

    def _on_started(self, name: str) -> None:
        if self._queued and self._queued[0][0] == _RUN:
            self.started.emit(name)

    def _on_finished(self, result: Any) -> None:
        kind, name = self._queued.popleft()
        if kind == _RUN:
            self._context = None
            self.finished.emit(result)
        elif kind == _JOB:
            self.job_finished.emit(name, result)

    def _on_failed(self, error: ErrorReport) -> None:
        kind, name = self._queued.popleft()
        if kind == _RUN:
            self._context = None
            self.failed.emit(error)
        else:  # a job (clearing the caches cannot fail short of a bug: said as one)
            self.job_failed.emit(
                ErrorReport(name, f"{name}: {error.message}", error.details)
            )

    def _on_cancelled(self) -> None:
        kind, _name = self._queued.popleft()
        if kind == _RUN:
            self._context = None
            self.cancelled.emit()


def _stop_thread(thread: QThread, contexts: list[TaskContext], *_args: Any) -> None:
    """End the worker's thread before Qt deletes it (a running QThread must not be).

    The run is cancelled (it stops within one sweep); a side job (cell summary, PDF
    report) cannot be and is waited for, however long it takes under load: Qt aborts
    the process when a running thread is deleted.
    """
    for context in contexts:
        context.cancel()
    thread.quit()
    thread.wait()
