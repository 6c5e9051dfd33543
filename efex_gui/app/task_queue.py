"""TaskQueue: one task at a time on the worker thread, the others queued.

The tasks of the session controller (reading recordings, the QC, exports) run on the
:class:`~efex_gui.app.worker.Worker` in the order asked; :class:`TaskQueue` says
when each starts, progresses and ends, and lets the user cancel.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from efex_gui.app.worker import ErrorReport, TaskContext, WorkerThread

if TYPE_CHECKING:
    from collections.abc import Callable


@dataclass
class _Task:
    name: str
    fn: Callable[[TaskContext], Any]
    on_partial: Callable[[list[Any]], None] | None
    on_done: Callable[[], None] | None
    context: TaskContext | None = None


class TaskQueue(QObject):
    """Tasks run one at a time on the worker, in the order asked.

    Parameters
    ----------
    parent : QObject or None
        Qt parent.
    worker : WorkerThread
        The thread whose worker runs the tasks.
    """

    task_started = Signal(str)
    task_progressed = Signal(object)
    task_finished = Signal(str)
    task_failed = Signal(object)
    task_cancelled = Signal()

    def __init__(self, parent: QObject | None, worker: WorkerThread) -> None:
        super().__init__(parent)
        self._worker = worker.worker
        self._worker.progressed.connect(self.task_progressed)
        self._worker.yielded.connect(self._on_yielded)
        # Bound methods of this GUI-thread object, never lambdas: a lambda would run
        # in the worker's thread (direct connection) and overtake queued results.
        self._worker.finished.connect(self._on_finished)
        self._worker.failed.connect(self._on_failed)
        self._worker.cancelled.connect(self._on_cancelled)
        self._queue: list[_Task] = []
        self._current: _Task | None = None

    def run_task(
        self,
        name: str,
        fn: Callable[[TaskContext], Any],
        on_partial: Callable[[list[Any]], None] | None = None,
        on_done: Callable[[], None] | None = None,
    ) -> TaskContext:
        """Queue ``fn(context)`` for the worker; it starts when the worker is free."""
        task = _Task(name, fn, on_partial, on_done)
        task.context = TaskContext(self._worker, name)
        self._queue.append(task)
        self._start_next()
        return task.context

    def is_busy(self) -> bool:
        """Whether a task is running or queued."""
        return self._current is not None or bool(self._queue)

    def cancel(self) -> None:
        """Cancel the running task and drop the queued ones."""
        self._queue.clear()
        if self._current is not None and self._current.context is not None:
            self._current.context.cancel()

    def drop_queued(self, name: str) -> None:
        """Drop the queued tasks called ``name`` (the running one goes on)."""
        self._queue = [t for t in self._queue if t.name != name]

    def _start_next(self) -> None:
        if self._current is not None or not self._queue:
            return
        self._current = self._queue.pop(0)
        assert self._current.context is not None
        self.task_started.emit(self._current.name)
        self._worker.submit(self._current.context, self._current.fn)

    def _on_yielded(self, items: list[Any]) -> None:
        if self._current is not None and self._current.on_partial is not None:
            self._current.on_partial(items)

    def _on_finished(self, _result: Any) -> None:
        self._on_task_end("finished")

    def _on_cancelled(self) -> None:
        self._on_task_end("cancelled")

    def _on_failed(self, report: ErrorReport) -> None:
        self.task_failed.emit(report)
        self._on_task_end(None)

    def _on_task_end(self, outcome: str | None) -> None:
        task, self._current = self._current, None
        if task is not None:
            if task.on_done is not None:
                task.on_done()
            if outcome == "finished":
                self.task_finished.emit(task.name)
            elif outcome == "cancelled":
                self.task_cancelled.emit()
        self._start_next()
