"""CellAnalysisController: the cell summary and curves of the latest extraction.

Each time the extraction controller publishes a result, the summary of its cells
(:func:`efex_gui.core.analysis.cell_summary.summarize_cells`) is computed as a side
job of the extraction worker (its thread, after any queued run: efel is called from
one thread), once no newer result came for ``SUMMARY_DELAY_MS`` (exclusion after
exclusion, each rerun starts at once and the summary waits), and
``summaries_changed`` carries the list of :class:`CellSummary`. The per-sweep efel
values are cached across runs, in memory and in the worker thread's persistent
feature store (a reopened session or a second window computes none again), and a cell
the extraction reused as it was (the same object: nothing it depends on changed) keeps
its summary, so after an exclusion only the touched cell is summarised again, from
cached values, reading no file. Curves, phase plots and aligned spikes are computed on
demand from the same cache (fast: numpy only).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal

from efex_gui.core.analysis.cell_summary import (
    CellSummary,
    SummaryContext,
    summarize_cells,
)
from efex_gui.core.analysis.curves import Curve, fi_curve, iv_curves
from efex_gui.core.analysis.protocol_map import MeasureProtocols
from efex_gui.core.analysis.summary_io import write_summary
from efex_gui.core.analysis.sweep_values import SweepValuesCache
from efex_gui.core.errors import Cancelled
from efex_gui.core.extraction.feature_cache import settings_key
from efex_gui.core.session.dataset import SweepKey

if TYPE_CHECKING:
    from pathlib import Path

    from efex_gui.core.extraction.result import ExtractionResult

logger = logging.getLogger(__name__)

__all__ = ["CELLS_JOB", "CellAnalysisController"]

#: the name of the extraction worker's side job that computes the summaries
CELLS_JOB = "Cell summary"
#: the summary of a new result starts once results stopped coming for this long: a
#: person excluding sweep after sweep gets each rerun at once, the summary after
SUMMARY_DELAY_MS = 600


class CellAnalysisController(QObject):
    """Owns the cell summaries of the latest extraction result.

    Parameters
    ----------
    extraction : ExtractionController
        Publishes the results (``results_changed``); its ``sc`` is the session
        controller that receives sweep selections.
    parent : QObject, optional
        Qt parent.
    """

    #: new summaries (list of CellSummary)
    summaries_changed = Signal(object)
    #: the summary is being computed (True) or done (False)
    busy_changed = Signal(bool)
    #: computing the summary failed (ExtractionError)
    failed = Signal(object)
    #: the cells the curves show changed (list of names; empty: every cell)
    curve_cells_changed = Signal(object)

    def __init__(self, extraction: Any, parent: QObject | None = None) -> None:
        super().__init__(parent or extraction)
        self.extraction = extraction
        self.sc = extraction.sc
        self.protocols = MeasureProtocols()
        self.cache = SweepValuesCache()
        self.result: ExtractionResult | None = None
        self.summaries: list[CellSummary] = []
        #: ``{id(cell): (cell, context key, summary)}`` of the shown result's cells
        self._summarised: dict[int, tuple[Any, str, CellSummary]] = {}
        #: the cells the curves show (empty: every cell); view state
        self.curve_cells: list[str] = []
        self._generation = 0
        self._pending = 0
        #: set to stop the summary being computed (a newer one is coming)
        self._cancel = threading.Event()
        self._delay = QTimer(self, singleShot=True, interval=SUMMARY_DELAY_MS)
        self._delay.timeout.connect(self.refresh)
        extraction.worker.job_finished.connect(self._on_job_finished)
        extraction.worker.job_failed.connect(self._on_job_failed)
        extraction.results_changed.connect(self._on_results)
        # an exclusion reruns the extraction on the same worker: the summary of the
        # result it replaces must not make it wait (its efel values stay cached)
        self.sc.exclusions_changed.connect(self._stop_summary)
        extraction.stopping.connect(self._stop_for_good)

    # --- computing ------------------------------------------------------------------
    def context(self) -> SummaryContext:
        """Return the summary context of the current result (its efel settings)."""
        settings = self.result.settings if self.result is not None else {}
        protocols = self.protocols
        if settings.get("match_protocols_by_ecode"):  # a lab's steps, by eCode
            session = self.sc.session
            protocols = protocols.with_lab_steps(
                session.protocol_names(), session.ecode_overrides
            )
        return SummaryContext(
            protocols=protocols,
            protocols_rheobase=list(settings.get("protocols_rheobase") or []),
            efel_settings=dict(settings.get("efel_settings") or {}),
            cache=self.cache,
        )

    def _on_results(self, result: ExtractionResult | None) -> None:
        self.result = result
        if result is None:  # a new, closed or replaced session: no cell to show
            self._generation += 1  # a summary still being computed is dropped
            self._delay.stop()
            if self._pending == 0:
                self.busy_changed.emit(False)
            self.summaries = []
            self._summarised = {}
            self.summaries_changed.emit([])
            return
        self._cancel.set()  # the summary of the result this one replaces
        self.busy_changed.emit(True)
        self._delay.start()

    def refresh(self) -> None:
        """Recompute the summaries of the current result (on the worker thread)."""
        self._delay.stop()
        if self.result is None:
            return
        self._generation += 1
        # on the worker thread: its own persistent store (values found there are
        # not computed again, e.g. after a reopen; new ones are written there)
        generation, cells, context = (
            self._generation,
            list(self.result.cells),
            replace(self.context(), store=self.extraction.worker.feature_store),
        )
        key = _context_key(context)
        reused: dict[int, CellSummary] = {}
        for cell in cells:
            known = self._summarised.get(id(cell))
            if known is not None and known[0] is cell and known[1] == key:
                reused[id(cell)] = known[2]
        todo = [cell for cell in cells if id(cell) not in reused]
        self._cancel.set()
        cancel = self._cancel = threading.Event()

        def job() -> tuple[int, list[tuple[Any, str, CellSummary]] | None]:
            try:
                summaries = summarize_cells(todo, context, cancel=cancel)
            except Cancelled:
                return generation, None
            fresh = dict(zip(map(id, todo), summaries, strict=True))
            return generation, [
                (cell, key, reused.get(id(cell)) or fresh[id(cell)]) for cell in cells
            ]

        self._pending += 1
        self.busy_changed.emit(True)
        self.extraction.worker.run_job(CELLS_JOB, job)

    def _stop_summary(self, *_args: Any) -> None:
        """Stop the summary being computed (between cells) when a rerun follows."""
        extraction = self.extraction
        if extraction.live_update and extraction.is_stale():
            self._cancel.set()

    def _stop_for_good(self) -> None:
        """Stop for good (the worker stops): no summary starts, the running one ends."""
        self._delay.stop()
        self._cancel.set()
        self._generation += 1

    def _task_done(self) -> None:
        self._pending = max(0, self._pending - 1)
        if self._pending == 0 and not self._delay.isActive():
            self.busy_changed.emit(False)

    def _on_job_finished(self, name: str, outcome: Any) -> None:
        if name != CELLS_JOB:
            return
        self._task_done()
        generation, summarised = outcome
        if generation == self._generation and summarised is not None:
            self._summarised = {id(entry[0]): entry for entry in summarised}
            self.summaries = [summary for _, _, summary in summarised]
            self.summaries_changed.emit(self.summaries)

    def _on_job_failed(self, error: Any) -> None:
        name = getattr(error, "name", None) or str(getattr(error, "message", ""))
        if not name.startswith(CELLS_JOB):
            return
        self._task_done()
        logger.error("Cell summary failed: %s\n%s", error.message, error.details)
        self.failed.emit(error)

    def set_protocols(self, protocols: MeasureProtocols) -> None:
        """Use another protocol mapping and recompute."""
        self.protocols = protocols
        self.refresh()

    def set_curve_cells(self, cells: list[str]) -> None:
        """Show the curves of ``cells`` (empty: every cell)."""
        if list(cells) != self.curve_cells:
            self.curve_cells = list(cells)
            self.curve_cells_changed.emit(list(cells))

    # --- reading ----------------------------------------------------------------------
    def summary(self, cell: str) -> CellSummary | None:
        """Return the summary of ``cell`` (None if absent)."""
        return next((s for s in self.summaries if s.cell == cell), None)

    def sweep_keys(self, recordings: Any) -> list[SweepKey]:
        """Return the browser addresses of the result's ``recordings``."""
        keys: list[SweepKey] = []
        if self.result is None:
            return keys
        for recording in recordings:
            ref = self.result.sweep_ref(recording)
            if ref is not None:
                keys.append(SweepKey(ref.cell, ref.protocol, ref.entry, ref.index))
        return keys

    def select_recordings(self, recordings: Any) -> None:
        """Select the sweeps of ``recordings`` in the browser and trace plot."""
        keys = self.sweep_keys(recordings)
        if keys:
            self.sc.select_sweeps(keys)

    def curves(self, cells: list[str] | None = None) -> dict[str, list[Curve]]:
        """``{"fi": [...], "iv_steady": [...], "iv_peak": [...]}`` of ``cells``."""
        out: dict[str, list[Curve]] = {"fi": [], "iv_steady": [], "iv_peak": []}
        if self.result is None:
            return out
        context = self.context()
        for cell in self.result.cells:
            if cells is not None and cell.name not in cells:
                continue
            out["fi"].append(fi_curve(cell, context))
            steady, peak = iv_curves(cell, context)
            out["iv_steady"].append(steady)
            out["iv_peak"].append(peak)
        return out

    def rheobases(self) -> dict[str, float | None]:
        """``{cell: rheobase (nA)}`` of the summaries."""
        return {s.cell: s.value("rheobase_nA") for s in self.summaries}

    def export(self, path: str | Path) -> Path:
        """Write the summaries (``.csv``, ``.json`` or ``.xlsx``)."""
        return write_summary(self.summaries, path)


def _context_key(context: SummaryContext) -> str:
    """Return what a summary depends on besides its cell (protocols, settings)."""
    return repr(
        (
            context.protocols,
            tuple(context.protocols_rheobase),
            settings_key(context.efel_settings),
        )
    )
