"""RecordingStore: reads entries on the worker thread and keeps what was read.

The store holds the Recordings built so far (derived state of the controller), reads
them as tasks of its :class:`~efex_gui.app.task_queue.TaskQueue` (one at a time on
the worker thread), and recomputes the rheobases when exclusions change. Full traces
are kept for the most recently used entries only; the others keep their amplitudes
and spike counts (``drop_traces``) and are read again when drawn.
"""

from __future__ import annotations

import itertools
import logging
from collections import OrderedDict
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

from PySide6.QtCore import QObject, Signal

from efex_gui.app.browsed_recordings import BrowsedRecordings
from efex_gui.app.entries_read import (
    WINDOW_KEYS,
    EntriesRead,
    read_with,
    window_read_with,
)
from efex_gui.app.os_memory import give_back_free_memory
from efex_gui.app.rheobases import compute_rheobases
from efex_gui.app.sweep_summary import (
    SweepSummary,
    flag_lines,
    number_or_none,
    sweep_status,
)
from efex_gui.app.task_queue import TaskQueue
from efex_gui.core.extraction.feature_store import open_default_store
from efex_gui.core.extraction.read_and_extract import read_plan
from efex_gui.core.extraction.spike_cache import spike_counts_cached
from efex_gui.core.readers import shared_reads
from efex_gui.core.recordings.compact import compact_for_browsing
from efex_gui.core.recordings.sweep_qc import (
    QCResult,
    evaluate_recordings,
    flagged,
)
from efex_gui.core.recordings.timing_consensus import SOURCE_KEY
from efex_gui.core.session.dataset import (
    Dataset,
    EntryKey,
    LoadedEntry,
    SweepKey,
    count_spikes_of,
    entry_order,
    load_entry,
)
from efex_gui.core.session.document import Session
from efex_gui.core.session.protocol_reading import (
    consensus_metadata,
    load_protocol_group,
    measure_entry,
    ramp_windows,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping

    from efex_gui.app.worker import TaskContext, WorkerThread
    from efex_gui.core.extraction.feature_store import FeatureStore
    from efex_gui.core.recordings.timing_consensus import ProtocolTiming
    from efex_gui.core.session.exclusions import Exclusions

logger = logging.getLogger(__name__)

#: entries whose full traces stay in memory
TRACE_CACHE_ENTRIES = 64
LOAD_TASK = "Reading recordings"


def _groups(jobs: list[Any]) -> list[list[Any]]:
    """Consecutive jobs of the same (cell, protocol), in order."""
    groups: list[list[Any]] = []
    for job in jobs:
        key = job[0]
        if groups and (groups[-1][0][0].cell, groups[-1][0][0].protocol) == (
            key.cell,
            key.protocol,
        ):
            groups[-1].append(job)
        else:
            groups.append([job])
    return groups


def _by_cell(groups: list[list[Any]]) -> list[list[list[Any]]]:
    """Consecutive groups of the same cell, in order."""
    cells: list[list[list[Any]]] = []
    for group in groups:
        if cells and cells[-1][0][0][0].cell == group[0][0].cell:
            cells[-1].append(group)
        else:
            cells.append([group])
    return cells


def _drop_read_traces(result: LoadedEntry) -> None:
    """Forget what a background read no longer needs, before it leaves the worker.

    The spike counts and QC measures are taken; the traces go (the browser reads them
    again when a sweep is drawn), so batches waiting for the GUI thread hold numbers,
    not samples: memory stays bounded however far the GUI thread lags behind.
    """
    for recording in result.recordings:
        if recording is not None:
            recording.drop_traces()
    result.raw = {}


class RecordingStore(TaskQueue):
    """Recordings read so far, the reading tasks, and the rheobases."""

    #: entries were read (list[EntryKey])
    loaded = Signal(object)
    #: rheobases recomputed (dict[str, float | None])
    rheobase_changed = Signal(object)
    #: QC flags recomputed (dict[SweepKey, list[QCResult]])
    qc_changed = Signal(object)

    def __init__(self, parent: QObject | None, worker: WorkerThread) -> None:
        super().__init__(parent, worker)
        self.dataset = Dataset({}, None)
        self.session = Session()
        #: what was read, by entry (the cells not in use kept frozen)
        self._recordings = BrowsedRecordings(self._on_thaw)
        #: raw traces of what could not be interpreted, kept for display only
        self._raw: dict[EntryKey, dict[int, Any]] = {}
        #: the fix an entry not interpreted needs (``LoadedEntry.fix``), of those
        #: that need one (a dict entry per entry read held None: 28 B a sweep)
        self._fix: dict[EntryKey, str] = {}
        #: the efel settings each entry's spike counts were made with
        self._read_settings: dict[EntryKey, Mapping[str, Any]] = {}
        #: the one read-only copy of the efel settings the entries share
        self._shared_settings: Mapping[str, Any] = MappingProxyType({})
        self._full: OrderedDict[EntryKey, None] = OrderedDict()
        self._generation: dict[EntryKey, int] = {}
        self._to_load: set[EntryKey] = set()
        self._in_flight: dict[EntryKey, tuple[int, int]] = {}
        #: bumped by reset(): results of an older session's reads are ignored
        self._epoch = 0
        #: per cell, the last change to what it shows (see :meth:`cell_generation`)
        self._cell_generations: dict[str, int] = {}
        self._changes = itertools.count(1)
        self._last_change = 0
        self.rheobases: dict[str, float | None] = {}
        #: the QC results that flag a sweep, of the sweeps read that are flagged (see
        #: :meth:`update_qc`; a sweep's every result: :meth:`qc_results`)
        self.qc: dict[SweepKey, tuple[QCResult, ...]] = {}
        #: every result of the last cell :meth:`qc_results` evaluated (None: none,
        #: or evaluated before the last :meth:`update_qc`)
        self._qc_cell: tuple[str, dict[SweepKey, list[QCResult]]] | None = None
        self._qc_evaluated = False
        #: consensus windows found, by (cell, protocol)
        self.timings: dict[tuple[str, str], ProtocolTiming] = {}
        #: the persistent cache of the spike counts (opened by the first read on the
        #: worker thread; False: disabled), apart from the extraction's connection
        self._spike_store: FeatureStore | Literal[False] | None = None
        #: what :meth:`entries_read` returns until the next read or freeze (None:
        #: make it), and the freezes it saw (it holds the cells then live)
        self._entries_read: EntriesRead | None = None
        self._snapshot_freezes = 0

    def reset(self, dataset: Dataset, session: Session) -> None:
        """Forget everything read: a new session was opened."""
        self.dataset, self.session = dataset, session
        self._recordings.strings = dataset.path_strings
        self._epoch += 1
        self._entries_read = None
        self._recordings.clear()
        self._raw.clear()
        self._fix.clear()
        self._read_settings.clear()
        self._full.clear()
        self._generation.clear()
        self._cell_generations.clear()  # (never numbers seen before: see below)
        self._last_change = next(self._changes)
        self._to_load.clear()
        self._in_flight.clear()
        self.drop_queued(LOAD_TASK)
        self.rheobases = {}
        self.qc, self._qc_cell, self._qc_evaluated = {}, None, False
        self.timings = {}

    def cancel(self) -> None:
        """Cancel the running task, the queued ones and the pending reads."""
        self._to_load.clear()
        self._in_flight.clear()
        super().cancel()

    # --- reading ----------------------------------------------------------------
    def load(self, keys: Iterable[EntryKey], force: bool = False) -> None:
        """Read entries on the worker thread (merged with pending requests).

        Entries already read are skipped unless ``force``; entries being read (for
        their current metadata) are never queued twice.
        """
        new = {
            k for k in keys
            if k not in self._to_load
            and self._in_flight.get(k) != self._stamp(k)
            and (force or not self.dataset.is_loaded(k))
        }  # fmt: skip
        if not new:
            return
        self._to_load |= new
        if self._current is None or self._current.name != LOAD_TASK:
            self._queue_load()

    def _queue_load(self) -> None:
        keys = sorted(self._to_load, key=entry_order)
        self._to_load.clear()
        for key in keys:
            self._in_flight[key] = self._stamp(key)
        # Configs are replaced, never changed in place, by metadata edits: the
        # worker copies them (a stale copy's result is dropped by its stamp).
        dataset = self.dataset
        jobs = [(k, dataset.config(k), self._stamp(k)) for k in keys]
        overrides = dict(self.session.ecode_overrides)
        settings = self.efel_settings()

        def read_all(context: TaskContext) -> int:
            done = 0
            for cell_groups in _by_cell(_groups(jobs)):
                # a file listed twice in a cell (SSCx's Step sweeps are IDrest's
                # files) is read once, kept until its second read, not longer
                with shared_reads() as shared:
                    shared.expect(  # as read: with its protocol_name (NWB keys)
                        read_plan(
                            (key.protocol, [dataset.absolute(c)])
                            for g in cell_groups
                            for key, c, _ in g
                        )
                    )
                    for group in cell_groups:
                        done += read_group(context, group)
                        key = group[0][0]
                        context.progress(
                            done, len(jobs), f"{key.cell} / {key.protocol}"
                        )
            return len(jobs)

        def read_group(context: TaskContext, group: list[Any]) -> int:
            configs = [(key, dataset.absolute(c)) for key, c, _ in group]
            results, timing = load_protocol_group(
                configs, overrides, settings, check=context.check, count_spikes=False
            )
            self._count_spikes(results)
            for result in results:
                _drop_read_traces(result)
            context.partial(
                [(r, job[2], timing) for r, job in zip(results, group, strict=True)]
            )
            return len(group)

        self.run_task(LOAD_TASK, read_all, self._on_read, self._on_load_done)

    def _count_spikes(self, results: list[LoadedEntry]) -> None:
        """Count the spikes of what was read: from the persistent cache if there.

        On the worker thread. A reopened session (or a second window on the same
        data) then shows every count without an efel call; new counts are stored.
        """
        if self._spike_store is None:  # (an empty store is falsy: it has a len)
            opened = open_default_store()
            self._spike_store = False if opened is None else opened
        store = None if self._spike_store is False else self._spike_store
        recordings = [r for res in results for r in res.recordings if r is not None]
        with spike_counts_cached(recordings, store):
            for result in results:
                count_spikes_of(result)

    def _on_read(self, batches: list[list[tuple[Any, ...]]]) -> None:
        items = [item for batch in batches for item in batch]
        for result, generation, _ in items:
            if self._in_flight.get(result.key) == generation:
                del self._in_flight[result.key]
        if not self._in_flight:  # a dict keeps its table: 28 B a sweep, once read
            self._in_flight = {}
        keys = [r.key for r, stamp, _ in items if self._stamp(r.key) == stamp]
        for result, generation, timing in items:
            if self._stamp(result.key) == generation:
                self._read_settings[result.key] = self._settings_read()
                self._store(result, keep_traces=False)
                self._keep_timing(result.key, timing)
        if keys:
            self.loaded.emit(keys)

    def _keep_timing(self, key: EntryKey, timing: ProtocolTiming | None) -> None:
        """Remember a protocol's consensus; write the entry's window in its metadata.

        Written only where the metadata has no window of its own, so that a re-read,
        an extraction and an exported files_metadata use the window the tree shows:
        the window the sweeps were read with (a Ramp's, found on its current before
        reading: the consensus, or the entry's own ramp), else the consensus applied
        to the sweeps after reading (steps).
        """
        if timing is not None:
            self.timings[(key.cell, key.protocol)] = timing
        config = self.dataset.config(key)
        if config.get("ton") is not None or config.get("toff") is not None:
            return
        recordings = self._recordings.live(key) or []
        written = window_read_with(recordings)
        if written is None and timing is not None and timing.found:
            written = consensus_metadata(timing)
            read_with(recordings, written)
        if written is not None:
            self.dataset.set_config(key, {**config, **written})

    def _on_load_done(self) -> None:
        self.update_rheobase(self.session)
        self.update_qc()
        give_back_free_memory()  # the traces read and dropped
        if self._to_load:
            self._queue_load()

    def efel_settings(self) -> dict[str, Any]:
        """Return the efel settings of the spike counts (BluePyEfe's if unset)."""
        if self.session.settings.efel_settings is not None:
            return dict(self.session.settings.efel_settings)
        from efex_gui.core.extraction.read_and_extract import DEFAULT_EFEL_SETTINGS

        return dict(DEFAULT_EFEL_SETTINGS)

    def _settings_read(self) -> Mapping[str, Any]:
        """Return the efel settings an entry read now is counted with (shared).

        One object for every entry read with the same settings: a dict per entry
        took 0.2 kB, and :meth:`entries_read` copied it again.
        """
        settings = self.efel_settings()
        if dict(self._shared_settings) != settings:
            self._shared_settings = MappingProxyType(settings)
        return self._shared_settings

    def _store(self, result: LoadedEntry, keep_traces: bool) -> None:
        key = result.key
        if result.fix is None:
            self._fix.pop(key, None)
        else:
            self._fix[key] = result.fix
        if keep_traces:
            self._raw[key] = result.raw
        else:
            self._raw.pop(key, None)
        if result.error is not None:
            self.dataset.set_failed(key, result.error)
            self._recordings.pop(key)
            self._entry_read_changed(key)
            return
        self.dataset.set_loaded(key, result.trace_names, result.trace_errors)
        compact_for_browsing(result.recordings)
        self._recordings.set(key, result.recordings, in_use=keep_traces)
        self._entry_read_changed(key)
        self._apply_rheobase(key.cell, result.recordings)
        if keep_traces:
            self._touch(key)
        else:
            for recording in result.recordings:
                if recording is not None and key not in self._full:
                    recording.drop_traces()

    def _touch(self, key: EntryKey) -> None:
        self._full[key] = None
        self._full.move_to_end(key)
        while len(self._full) > TRACE_CACHE_ENTRIES:
            old, _ = self._full.popitem(last=False)
            for recording in self._recordings.live(old) or ():
                if recording is not None:
                    recording.drop_traces()

    def _stamp(self, key: EntryKey) -> tuple[int, int]:
        """(session epoch, metadata generation) of an entry: a read's validity."""
        return self._epoch, self._generation.get(key, 0)

    def forget(self, key: EntryKey) -> None:
        """Drop what was read for an entry (its metadata changed)."""
        self._generation[key] = self._generation.get(key, 0) + 1
        self._recordings.pop(key)
        self._entry_read_changed(key)
        self._raw.pop(key, None)
        self._fix.pop(key, None)
        self._full.pop(key, None)
        self.dataset.forget(key)

    def raw_trace(self, sweep: SweepKey) -> tuple[Any | None, str | None]:
        """Return the raw trace of a sweep not interpreted, and its fix kind.

        Reads the entry now when it was read in the background (raw traces are only
        kept for what is displayed).
        """
        key = sweep.entry_key
        if key not in self._raw and self._fix.get(key) is not None:
            result = self._read_now(key, self.efel_settings())
            self._store(result, keep_traces=True)
        raw = self._raw.get(key, {})
        index = sweep.index if sweep.index is not None else 0
        return raw.get(index), self._fix.get(key)

    def _read_now(self, key: EntryKey, settings: Mapping[str, Any]) -> LoadedEntry:
        """Read one entry now, on the GUI thread (drawn before its background read).

        A Ramp entry without a window gets its ramp's first (``ramp_windows``, on
        the entry's own sweeps), written into its metadata as the background read
        would: without it the entry failed ("ton should be specified") and, being
        read, was never read again.
        """
        config = self.dataset.config(key)
        with shared_reads() as shared:  # the file read for its ramp is not read again
            if config.get("ton") is None and config.get("toff") is None:
                with shared.keeping():
                    found, timing = ramp_windows(
                        key.cell,
                        key.protocol,
                        [self.dataset.absolute(config)],
                        self.session.ecode_overrides,
                    )
                if timing is not None and found[0].get("ton") is not None:
                    window = {k: found[0][k] for k in (*WINDOW_KEYS, SOURCE_KEY)}
                    self.dataset.set_config(key, {**config, **window})
            return load_entry(
                self.dataset, key, self.session.ecode_overrides, dict(settings)
            )

    def normalize(self, sweep: SweepKey) -> SweepKey:
        """Return the key with ``index 0`` once the entry is read (None before)."""
        if sweep.index is None and self.dataset.state(sweep.entry_key).n_traces:
            return SweepKey(sweep.cell, sweep.protocol, sweep.entry, 0)
        return sweep

    def recordings_for(self, sweep: SweepKey) -> list[Any]:
        """Return recordings with full traces for ``sweep``, read now if needed."""
        key = sweep.entry_key
        recordings = self._recordings.get(key)
        if recordings is None or any(
            r is not None and r.voltage is None for r in recordings
        ):
            self._read_settings[key] = settings = self._settings_read()
            result = self._read_now(key, dict(settings))
            self._store(measure_entry(result), keep_traces=True)
            self.loaded.emit([key])
            recordings = self._recordings.get(key, [])
        else:
            self._touch(key)
        if sweep.index is None:
            return [r for r in recordings if r is not None]
        if sweep.index < len(recordings) and recordings[sweep.index] is not None:
            return [recordings[sweep.index]]
        return []

    def _entry_read_changed(self, key: EntryKey) -> None:
        """Make :meth:`entries_read` again: an entry was read or forgotten.

        The one handed to a running extraction is never changed.
        """
        self._entries_read = None
        self._cell_changed(key.cell)

    def cell_generation(self, cell: str) -> int:
        """Return a stamp of what the browser shows of ``cell``: equal, unchanged.

        It changes when an entry of the cell is read, read again or forgotten, when
        its rheobase changes (computed or overridden: its relative amplitudes
        follow), when its exclusions change, and for every cell when a session is
        opened. What is derived per cell from its sweeps read (the target check's
        :class:`~efex_gui.app.extraction_review.BrowsedCells`) is kept while the
        stamp is the same, instead of thawing a frozen cell again.

        0 for a cell unchanged since the session was opened (nothing read); the
        others count changes of every cell and session, so no number comes back.
        """
        return self._cell_generations.get(cell, 0)

    def generation(self) -> int:
        """Return a stamp of the whole store (any cell's change, a session opened)."""
        return self._last_change

    def _cell_changed(self, cell: str) -> None:
        self._last_change = self._cell_generations[cell] = next(self._changes)

    def entries_read(self) -> EntriesRead:
        """Return what was read, for the extraction (``IncrementalExtractor.preread``).

        ``{(cell, protocol, position): (efel settings of the spike counts,
        recordings)}``: a snapshot of the store's two tables, the Recordings shared
        (the extraction copies them before use and never changes them). The same
        until an entry is read or forgotten: every rerun after an exclusion asks.
        """
        recordings = self._recordings
        if self._entries_read is None or self._snapshot_freezes != recordings.freezes:
            self._entries_read = EntriesRead(recordings, self._read_settings)
            self._snapshot_freezes = recordings.freezes
        return self._entries_read

    def read_recordings(self) -> Iterator[tuple[SweepKey, Any]]:
        """``(sweep, Recording)`` of every sweep read so far, in tree order.

        The Recordings may have dropped their traces; no file is read. A frozen
        cell's are thawed for the caller, a cell at a time.
        """
        for cell in self.dataset.cells():
            yield from self.cell_recordings(cell)

    def cell_recordings(self, cell: str) -> list[tuple[SweepKey, Any]]:
        """``(sweep, Recording)`` of a cell's sweeps read, in tree order.

        A frozen cell's Recordings are thawed for the caller alone (new objects).
        """
        entries = self._recordings.cell_entries(cell)
        pairs: list[tuple[SweepKey, Any]] = []
        if not entries:
            return pairs
        for protocol in self.dataset.protocols(cell):
            for position in range(len(self.dataset.entries(cell, protocol))):
                recordings = entries.get(EntryKey(cell, protocol, position), ())
                pairs.extend(
                    (SweepKey(cell, protocol, position, index), recording)
                    for index, recording in enumerate(recordings)
                    if recording is not None
                )
        return pairs

    def _on_thaw(self, cell: str, entries: dict[EntryKey, list[Any]]) -> None:
        """Give thawed Recordings the cell's current rheobase."""
        for recordings in entries.values():
            self._apply_rheobase(cell, recordings)

    def recording(self, sweep: SweepKey) -> Any | None:
        """Return a read sweep's Recording, maybe without traces (no file access)."""
        recordings = self._recordings.get(sweep.entry_key)
        index = self.normalize(sweep).index
        if recordings is None or index is None or index >= len(recordings):
            return None
        return recordings[index]

    # --- QC -----------------------------------------------------------------------
    def update_qc(self) -> None:
        """Re-evaluate the QC flags of every sweep read (session's QC settings).

        Only the flags are kept, for the flagged sweeps (a few in a hundred): eleven
        results per sweep read, kept for every sweep, took 0.5 kB a sweep.
        """
        qc: dict[SweepKey, tuple[QCResult, ...]] = {}
        for cell in self.dataset.cells():
            pairs = self.cell_recordings(cell)
            if not pairs:
                continue
            for sweep, results in self._evaluate_qc(pairs).items():
                flags = tuple(flagged(results))
                if flags:
                    qc[sweep] = flags
        self.qc, self._qc_cell, self._qc_evaluated = qc, None, True
        self.qc_changed.emit(dict(qc))

    def qc_flags(self, sweep: SweepKey) -> tuple[QCResult, ...]:
        """Return the QC results that flag a read sweep (empty: none, or not read)."""
        return self.qc.get(self.normalize(sweep), ())

    def qc_results(self, sweep: SweepKey) -> list[QCResult]:
        """Return every QC result of a read sweep, flagged or not.

        Empty if the sweep is not read or the QC not evaluated yet. The sweep's cell
        is evaluated again when asked (the last one is kept): the flags of every
        sweep are in :attr:`qc`, the full results of one cell at a time here.
        """
        sweep = self.normalize(sweep)
        if not self._qc_evaluated:
            return []
        known = self._qc_cell
        if known is None or known[0] != sweep.cell:
            pairs = self.cell_recordings(sweep.cell)
            known = self._qc_cell = (sweep.cell, self._evaluate_qc(pairs))
        return known[1].get(sweep, [])

    def _evaluate_qc(
        self, pairs: list[tuple[SweepKey, Any]]
    ) -> dict[SweepKey, list[QCResult]]:
        """Every QC result of one cell's sweeps read (``(sweep, recording)`` pairs)."""
        results = evaluate_recordings([r for _, r in pairs], self.session.qc)
        return dict(zip([s for s, _ in pairs], results, strict=True))

    # --- summaries and rheobase ----------------------------------------------------
    def summary(self, sweep: SweepKey, exclusions: Exclusions) -> SweepSummary:
        """Name, amplitudes, spike count and status of one sweep."""
        key = sweep.entry_key
        config = self.dataset.config(key)
        state = self.dataset.state(key)
        file = str(config.get("filepath") or config.get("v_file") or "")
        sweep = self.normalize(sweep)
        if state.n_traces and state.n_traces > 1 and sweep.index is not None:
            name = state.trace_names[sweep.index]
        else:
            name = str(config.get("ordinal") or Path(file).stem)
        reason = exclusions.reason(self.dataset.exclusion_key(sweep))
        recording = self.recording(sweep)
        values: dict[str, Any] = {}
        if recording is not None:
            values = {
                "amp": number_or_none(recording.amp),
                "amp_rel": number_or_none(getattr(recording, "amp_rel", None)),
                "spikecount": recording.spikecount,
                "warnings": tuple(getattr(recording, "warnings", ())),
            }
        refused = self._fix.get(key) == "not_recording"  # read, not current clamp
        flags = flag_lines(self.qc_flags(sweep))
        status, why = sweep_status(state, sweep.index, reason, refused, flags)
        return SweepSummary(
            name, file, status=status, reason=why, flags=flags, **values
        )

    def update_rheobase(
        self, session: Session, cells: Iterable[str] | None = None
    ) -> None:
        """Recompute per-cell rheobases from the sweeps read and not excluded.

        Parameters
        ----------
        session : Session
            Its settings, exclusions and rheobase overrides are used.
        cells : iterable of str, optional
            Only these cells changed (an exclusion); None: every cell.
        """
        names = self.dataset.cells() if cells is None else list(dict.fromkeys(cells))
        rheobases: dict[str, float | None] = {}
        try:
            for cell in names:  # a cell at a time: a frozen one is thawed alone
                entries = self._recordings.cell_entries(cell)
                rheobases.update(
                    compute_rheobases(self.dataset, entries, session, {cell})
                )
        except Exception:  # a rheobase problem must not break browsing
            logger.exception("Rheobase computation failed")
            return
        old = self.rheobases
        if cells is None:
            self.rheobases = rheobases
        else:
            self.rheobases = {**self.rheobases, **rheobases}
        for cell in old.keys() | self.rheobases.keys():
            if old.get(cell) != self.rheobases.get(cell):
                self._cell_changed(cell)  # its relative amplitudes change
        for cell in names:  # the frozen ones get it when thawed
            for recordings in self._recordings.live_cell(cell).values():
                self._apply_rheobase(cell, recordings)
        self.rheobase_changed.emit(dict(self.rheobases))

    def exclusions_changed(self, session: Session, cells: Iterable[str]) -> None:
        """Follow a change of the exclusions of ``cells``: stamps, rheobases.

        Their stamps change (:meth:`cell_generation`: the sweeps excluded are not
        the same), and their rheobases are computed again (:meth:`update_rheobase`).
        """
        names = list(dict.fromkeys(cells))
        for cell in names:
            self._cell_changed(cell)
        self.update_rheobase(session, names)

    def _apply_rheobase(self, cell: str, recordings: list[Any]) -> None:
        rheobase = self.rheobases.get(cell)
        for recording in recordings:
            if recording is None:
                continue
            if rheobase not in (None, 0.0) and recording.amp is not None:
                recording.compute_relative_amp(rheobase)
            else:
                recording.amp_rel = None
