"""ExtractionController: targets, settings, runs, results and export of a session.

It sits beside part 1's :class:`~efex_gui.app.controller.SessionController`, listens
to its signals and owns everything about extraction:

* **targets, settings and rheobase overrides** live in the session
  (``session.targets``, ``session.settings``, ``session.rheobase_overrides``); edits
  are undoable commands on the session's undo stack (the
  :class:`~efex_gui.app.extraction_edits.ExtractionEdits` part), so they mark the
  session dirty and are saved with it (and ``efex extract session.json`` honours
  them);
* **runs** go to an :class:`~efex_gui.app.extraction_worker.ExtractionWorker` (its own
  thread, one run at a time); a cancelled or failed run leaves the last result as it
  was;
* **results** are an :class:`~efex_gui.core.extraction.incremental.ExtractionResult`;
they are
  *stale* when the session's inputs (files, metadata, exclusions, targets, settings,
  rheobase overrides) differ from those of the run. After an exclusion, a target or a
  rheobase change the controller reruns by itself: the caches make that a regrouping
  without efel (see :attr:`last_update_seconds`);
* the **target check** and the **rheobase review** come from
  :mod:`efex_gui.app.extraction_review`;
* **export** writes the result's three dicts (those ``extract_efeatures`` returns for
  the same session) and the provenance sidecar.

Widgets call the commands and redraw on the signals; they never touch the session.
"""

from __future__ import annotations

import copy
import logging
import time
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal

from efex_gui.app.extraction_edits import ExtractionEdits
from efex_gui.app.extraction_export import (
    PLOTS_JOB,
    existing_export,
    plots_job,
    write_export,
)
from efex_gui.app.extraction_review import (
    BrowsedCells,
    check_cells,
    error_rows,
    left_out_targets,
    review_rows,
    session_to_run,
    target_check,
)
from efex_gui.app.extraction_worker import ExtractionError, ExtractionWorker
from efex_gui.app.os_memory import give_back_free_memory
from efex_gui.core.extraction.incremental import ExtractionResult, inputs_signature
from efex_gui.core.extraction.result_store import (
    changed_files,
    load_result,
    results_path,
    save_result,
)
from efex_gui.core.rheobase.strategies import PRESET_PROTOCOLS_RHEOBASE
from efex_gui.core.targets.check import TargetCheck

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from efex_gui.core.rheobase.review import RheobaseRow
    from efex_gui.core.session.document import ExtractionSettings, Session

logger = logging.getLogger(__name__)

#: the side job that compares a restored result's file stamps with the disk
STAMPS_JOB = "Checking the files of the saved results"


class ExtractionController(ExtractionEdits, QObject):
    """Owns targets, settings, results and the extraction worker of a session.

    Parameters
    ----------
    session_controller : SessionController
        Part 1's controller (the session, its undo stack, the recordings read for
        browsing, the selection).
    parent : QObject, optional
        Qt parent.
    """

    #: the target list changed (list[dict] | None: automatic targets)
    targets_changed = Signal(object)
    #: the extraction settings changed (ExtractionSettings)
    settings_changed = Signal(object)
    #: per-cell rheobase overrides changed (dict[str, float])
    overrides_changed = Signal(object)
    #: the target check was recomputed (TargetCheck)
    check_changed = Signal(object)
    #: a new result is available, or none (ExtractionResult | None)
    results_changed = Signal(object)
    #: whether the shown result lags behind the session (bool)
    stale_changed = Signal(bool)
    #: a run started (no payload)
    run_started = Signal()
    #: progress of the running run (ExtractionProgress)
    run_progressed = Signal(object)
    #: the run failed; the previous result is kept (ExtractionError)
    run_failed = Signal(object)
    #: the run was cancelled; the previous result is kept
    run_cancelled = Signal()
    #: seconds from an edit to the updated result on screen (float)
    update_timed = Signal(float)
    #: files were written by an export (list[Path])
    exported = Signal(object)
    #: the worker is about to stop (window closed): side jobs stop too
    stopping = Signal()

    def __init__(self, session_controller: Any, parent: QObject | None = None) -> None:
        super().__init__(parent or session_controller)
        self.sc = session_controller
        self.worker = ExtractionWorker(self)
        self.result: ExtractionResult | None = None
        self.check: TargetCheck = TargetCheck()
        self.live_update = True
        self.last_update_seconds: float | None = None
        self._stale = False
        #: signature of the result saved with the session (None: none saved)
        self._saved_signature: str | None = None
        #: files changed on disk since the shown result (restored) was computed
        self.changed_files: list[str] = []
        #: whether the shown result was read back from beside the session file
        self.restored = False
        self._rerun = False
        #: runs leave out the target rows with errors (the person chose to)
        self._valid_only = False
        #: (signature the run stands for, or None) of the run in progress
        self._run_signature: str | None = None
        #: a run asked for while files were being read (it starts when they are)
        self._waiting_for_reads = False
        self._edit_started: float | None = None
        self._after_run: list[Callable[[ExtractionResult], None]] = []
        self._snapshots = _SessionSnapshots()
        #: the browser's cells for the check and the review, kept between changes
        self._browsed = BrowsedCells()
        self.worker.started.connect(lambda _name: self.run_started.emit())
        self.worker.progressed.connect(self.run_progressed)
        self.worker.finished.connect(self._on_finished)
        self.worker.failed.connect(self._on_failed)
        self.worker.cancelled.connect(self._on_cancelled)
        self.worker.job_failed.connect(self.run_failed)
        self.worker.job_finished.connect(self._on_job_finished)
        self._check_timer = QTimer(self, singleShot=True, interval=50)
        self._check_timer.timeout.connect(self._timed_check)
        self._rerun_timer = QTimer(self, singleShot=True, interval=0)
        self._rerun_timer.timeout.connect(self._auto_rerun)
        sc = session_controller
        sc.session_changed.connect(self._on_session_changed)
        # bound methods, not lambdas: Qt disconnects them when this object goes
        sc.exclusions_changed.connect(self._on_exclusions_changed)
        sc.metadata_changed.connect(self._on_metadata_changed)
        sc.entries_loaded.connect(self._on_entries_loaded)
        sc.rheobase_changed.connect(self._schedule_check)
        for signal in (sc.task_finished, sc.task_failed, sc.task_cancelled):
            signal.connect(self._on_reads_done)

    # --- state --------------------------------------------------------------------
    @property
    def session(self) -> Session:
        """The session being edited (part 1's controller owns it)."""
        session: Session = self.sc.session
        return session

    def protocols(self) -> list[str]:
        """Protocol names of the session's files, in order of appearance."""
        return self.session.protocol_names()

    def protocols_joined_by_ecode(self, settings: ExtractionSettings) -> list[str]:
        """Return the rheobase protocols that ``settings``' eCode rule adds.

        Those :meth:`Session.rheobase_protocols` gives besides the listed ones (the
        preset when none are): empty when ``match_protocols_by_ecode`` is off.
        """
        session = copy.copy(self.session)
        session.settings = settings
        listed = settings.protocols_rheobase
        known = set(PRESET_PROTOCOLS_RHEOBASE if listed is None else listed)
        return [p for p in session.rheobase_protocols() or () if p not in known]

    def cells(self) -> list[str]:
        """Cell names of the session."""
        return list(self.session.files_metadata)

    def is_running(self) -> bool:
        """Whether a run is in progress."""
        return self.worker.is_running()

    def is_stale(self) -> bool:
        """Whether the result (if any) lags behind the session."""
        return self._stale

    def has_unsaved_results(self) -> bool:
        """Whether the shown result is not the one saved with the session."""
        return self.result is not None and self.result.signature != (
            self._saved_signature
        )

    def save_results(self, session_path: str | Path) -> None:
        """Save the current result beside the session file at ``session_path``.

        Reopening the session shows it at once (see
        :mod:`~efex_gui.core.extraction.result_store`).
        """
        if self.result is not None:
            save_result(self.result, self.session, results_path(session_path))
            self._saved_signature = self.result.signature

    def _restore_results(self) -> None:
        """Show the result saved beside the session file, if there is one."""
        if self.session.path is not None:
            self.restore_results(results_path(self.session.path))

    def restore_results(self, path: str | Path, *, saved: bool = True) -> bool:
        """Show the result stored at ``path`` (False if there is none to show).

        ``saved``: it is the one saved with the session file (else, e.g. a crashed
        instance's autosaved result, it still needs saving).
        """
        stored = load_result(path, check_files=False)
        if stored is None:
            return False
        self.result = stored.result
        self.changed_files = []
        self.restored = True
        if saved:
            self._saved_signature = stored.result.signature
        self._update_stale()
        self.results_changed.emit(self.result)
        # thousands of stat() on a large session: on the worker thread, after the
        # result is on screen; it turns stale when they arrive (_on_job_finished)
        result, stamps = stored.result, stored.stamps
        self.worker.run_job(STAMPS_JOB, lambda: (result, changed_files(stamps)))
        return True

    def _on_job_finished(self, name: str, payload: Any) -> None:
        if name != STAMPS_JOB or payload[0] is not self.result:
            return  # another job, or a result replaced meanwhile
        self.changed_files = payload[1]
        if self.changed_files:
            was_stale = self._stale
            self._update_stale()
            if was_stale:  # stale already (inputs changed): the state says why now
                self.stale_changed.emit(True)

    def signature(self) -> str:
        """Digest of the current inputs (compared with the result's)."""
        return inputs_signature(self.session)

    # --- runs -----------------------------------------------------------------------
    def run(
        self,
        then: Callable[[ExtractionResult], None] | None = None,
        *,
        valid_only: bool = False,
    ) -> bool:
        """Start an extraction of the current session (False if one is running).

        Unlike the automatic rerun after an edit, it looks for files changed on
        disk since the last run. With ``valid_only`` this run and the updates after
        edits leave out the target rows with errors (:meth:`target_error_rows`); the
        result then stands for the whole target list (its signature is the
        session's), since those rows cannot give a value: it goes out of date only
        when an input changes.
        """
        self._edit_started = None  # asked for: not an update after an edit
        self.last_update_seconds = None
        self._valid_only = valid_only
        return self._start(then, check_files=True)

    def target_error_rows(self) -> list[int]:
        """Return the target rows a fresh target check finds impossible (errors)."""
        return error_rows(self.update_check(), len(self.session.targets or []))

    def left_out_targets(self) -> int:
        """Count the target rows the shown result left out (they had errors)."""
        return left_out_targets(self.session, self.result)

    def _start(
        self,
        then: Callable[[ExtractionResult], None] | None = None,
        *,
        check_files: bool = False,
    ) -> bool:
        if then is not None:
            self._after_run.append(then)
        if self.sc.is_busy():
            # Files are being read: each protocol's consensus stimulus window is
            # written into their metadata when its sweeps are read. Run once they are,
            # so the numbers use the windows the browser shows.
            self._waiting_for_reads = True
            return True
        self._waiting_for_reads = False
        rows = self.target_error_rows() if self._valid_only else []
        session, signature = session_to_run(self._snapshots.copy(self.session), rows)
        preread = self.sc.store.entries_read()  # never read a file twice
        if not self.worker.start(
            session, session.rheobase_overrides, preread, check_files=check_files
        ):
            self._rerun = True
            return False
        self._run_signature = signature
        self._rerun = False
        return True

    def _on_reads_done(self, *_args: Any) -> None:
        if self._waiting_for_reads and not self.sc.is_busy():
            self._start(check_files=True)

    def cancel(self) -> None:
        """Stop the running extraction; the last result stays."""
        self._waiting_for_reads = False
        self._rerun = False
        self._after_run.clear()
        self.worker.cancel()

    def _on_exclusions_changed(self, _exclusions: Any) -> None:
        self._on_edit(rerun=True)

    def _on_metadata_changed(self, _keys: Any) -> None:
        self._on_edit(rerun=False)

    def _schedule_check(self, *_args: Any) -> None:
        self._check_timer.start()

    def _on_entries_loaded(self, _keys: Any) -> None:
        """Check the targets again if the reads change the cells it looks at.

        It looks at the browser's recordings only without an up-to-date result and
        once every file is read (:func:`check_cells`): the batches of a background
        read (one every 0.4 s, a second-long check each on 44 cells) change nothing
        before. While a reading task runs not everything is read (its end is checked
        through ``rheobase_changed``): ``all_read`` walks every entry (O(cells) a batch,
        O(cells²) a reading).
        """
        if (
            (self.result is None or self._stale)
            and not self.sc.is_busy()
            and self._browsed.all_read(self.sc)
        ):
            self._check_timer.start()

    def _on_edit(self, rerun: bool) -> None:
        self._update_stale()
        self._check_timer.start()
        if rerun and self.live_update and self.result is not None and self._stale:
            self._edit_started = time.perf_counter()
            self._rerun_timer.start()
        elif not rerun:
            self._edit_started = None

    def _auto_rerun(self) -> None:
        if self.is_running():
            self._rerun = True
        elif self._stale:
            self._start()

    def _on_finished(self, result: ExtractionResult) -> None:
        if self._run_signature is not None:  # rows with errors were left out
            result.signature, self._run_signature = self._run_signature, None
        self.result = result
        self.changed_files = []
        self.restored = False
        self._update_stale()
        self.results_changed.emit(result)
        if result.entries_read or result.stats.computed:  # traces were read
            give_back_free_memory()  # (not after a rerun on what was read before)
        if self._edit_started is not None:
            # the views redraw in their slots, synchronously: this is on screen now
            self.last_update_seconds = time.perf_counter() - self._edit_started
            self._edit_started = None
            logger.info(
                "Results updated %.3f s after the edit (the run: %.3f s).",
                self.last_update_seconds,
                result.seconds,
            )
            self.update_timed.emit(self.last_update_seconds)
        self._check_timer.start()
        callbacks, self._after_run = self._after_run, []
        if self._stale and self._rerun and self.live_update:
            self._rerun_timer.start()
        elif not self._stale:
            for callback in callbacks:
                callback(result)

    def _on_failed(self, error: ExtractionError) -> None:
        self._run_signature = None
        self._after_run.clear()
        self._edit_started = None
        self.run_failed.emit(error)
        self._check_timer.start()

    def _on_cancelled(self) -> None:
        self._run_signature = None
        self._after_run.clear()
        self._edit_started = None
        self.run_cancelled.emit()
        self._check_timer.start()

    def _update_stale(self) -> None:
        stale = self.result is not None and (
            self.result.signature != self.signature() or bool(self.changed_files)
        )
        if stale != self._stale:
            self._stale = stale
            self.stale_changed.emit(stale)

    def _on_session_changed(self, _session: Session) -> None:
        self.cancel()
        self._rerun_timer.stop()
        self._edit_started = None
        self.last_update_seconds = None
        self._valid_only = False
        self.result = None
        self._stale = False
        self._saved_signature = None
        self.changed_files = []
        self.restored = False
        self.worker.clear_caches()
        self.results_changed.emit(None)
        self.stale_changed.emit(False)
        self._restore_results()
        self.targets_changed.emit(self.session.targets)
        self.settings_changed.emit(self.session.settings)
        self.overrides_changed.emit(self.overrides)
        self._check_timer.start()

    # --- target check and rheobase review -----------------------------------------
    def check_cells(self) -> list[Any] | None:
        """Return the cells for the target check and the rheobase review.

        See :func:`~efex_gui.app.extraction_review.check_cells`.
        """
        return check_cells(self.sc, self.result, self._stale, self._browsed)

    def _timed_check(self) -> None:
        if self._edit_started is not None or self._rerun_timer.isActive():
            return  # an update after an edit is running: plots first, check after
        self.update_check()

    def update_check(self) -> TargetCheck:
        """Recompute the target check and emit ``check_changed``."""
        self.check = target_check(self.session, self.check_cells(), self.result)
        self.check_changed.emit(self.check)
        return self.check

    def rheobase_rows(self) -> list[RheobaseRow]:
        """Per cell: sweeps, each strategy's rheobase, the override and the one used.

        On :meth:`check_cells`, with the session's current settings (those of the next
        run).
        """
        return review_rows(self.session, self.check_cells())

    # --- export ---------------------------------------------------------------------
    def existing_export(self, folder: str | Path) -> list[Path]:
        """List the export files already in ``folder``."""
        return existing_export(folder)

    def export(
        self, folder: str | Path, *, overwrite: bool = False, plots: bool = False
    ) -> list[Path]:
        """Write the current result into ``folder`` (see :func:`write_export`).

        With ``plots`` the PDF report is then written on the worker thread.

        Raises
        ------
        RuntimeError
            No result, or the result is stale (run the extraction first).
        FileExistsError
            ``folder`` already holds an export and ``overwrite`` is False.
        """
        result = self.result
        if result is None or self._stale:
            raise RuntimeError(
                "Run the extraction first: the results are not up to "
                "date with the session."
            )
        written = write_export(result, self.session, folder, overwrite=overwrite)
        if plots:
            self.worker.run_job(PLOTS_JOB, plots_job(result, folder))
        self.exported.emit(written)
        return written

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Cancel the run and the side jobs, and stop the worker thread."""
        self.stopping.emit()
        self.cancel()
        return self.worker.stop(timeout_ms)


class _SessionSnapshots:
    """Copies of the session for the worker, its large parts copied only on change.

    A run gets a session the GUI will not modify. files_metadata's entry dicts are
    shared, not copied: the GUI never changes one in place, it replaces it (an edit,
    a consensus window written in); its cells, protocols and lists are copied, once
    per change. A deep copy took 0.3 kB a sweep for as long as the session was open.
    The targets are deep-copied when they differ from the last copy, which is
    otherwise handed over again (the worker never modifies it); the rest is small
    and copied every time. An exclusion then costs a comparison, not a copy.
    """

    def __init__(self) -> None:
        self._metadata: Any = None
        self._targets: Any = None

    def copy(self, session: Session) -> Session:
        """Return a copy of ``session`` safe to hand to another thread."""
        if self._metadata is None or self._metadata != session.files_metadata:
            self._metadata = {
                cell: {name: list(entries) for name, entries in protocols.items()}
                for cell, protocols in session.files_metadata.items()
            }
        if self._targets is None or self._targets != session.targets:
            self._targets = copy.deepcopy(session.targets)
        snapshot = copy.copy(session)
        snapshot.files_metadata = self._metadata
        snapshot.targets = self._targets
        for name in ("ecode_overrides", "exclusions", "settings", "qc"):
            setattr(snapshot, name, copy.deepcopy(getattr(session, name)))
        snapshot.rheobase_overrides = dict(session.rheobase_overrides)
        return snapshot
