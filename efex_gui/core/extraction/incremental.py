"""The extraction of a session, rerun cheaply after each edit (the GUI's pipeline).

:class:`IncrementalExtractor` runs the extraction of
:func:`efex_gui.core.extraction.pipeline.extract_efeatures` on a session, cell by cell
in the order of :mod:`efex_gui.core.extraction.cell_task` (read → rheobase → features on
the recordings a target window holds → drop the traces), with the same functions:
``checked_arguments``; ``read_entry`` in one ``shared_reads`` scope per cell (a file
listed under two protocols is read once); the steps of one
:class:`~efex_gui.core.extraction.cell_task.CellTask` (``compute_rheobase``,
``features``); the auto branch's ``auto_rheobase_task`` and ``choose_auto_targets``;
``group_efeatures`` and ``create_feature_protocol_files``. What it adds is three
caches:

* the recordings the browser already read (``preread``: the GUI hands over what its
  store holds, so no file is read twice), else recordings per files_metadata entry
  read here (keyed by the entry's absolute metadata, the file's size and
  modification time and the global efel settings), so an exclusion, a target change
  or a rheobase setting never re-reads a file;
* per-sweep efel values
  (:class:`~efex_gui.core.extraction.feature_cache.FeatureCache`, in memory and, when
  given a store, on disk: a reopened session or a second GUI finds its values there), so
  only features never computed on a sweep with the same settings reach efel.

Traces are dropped once a cell is done (memory stays flat with the number of
cells); a value not cached yet reads its file again
(:mod:`efex_gui.core.recordings.traces`).

Exclusions are applied the way ``Session.to_extract_kwargs`` applies them: excluded
entries are not read; single traces of an entry are dropped by their index in the
reader's list. Every run works on fresh shallow copies of the cached recordings, so a
run never touches the objects of an earlier result (the GUI may be drawing them), and
cancelling leaves the earlier result intact.

Qt-free: the GUI's extraction worker calls :meth:`IncrementalExtractor.run` on its
thread.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from efex_gui.core.errors import Cancelled, ECodeError
from efex_gui.core.extraction.cell_task import CellTask
from efex_gui.core.extraction.feature_cache import (
    FeatureCache,
    settings_key,
    share_identity,
    sweep_identity,
)
from efex_gui.core.extraction.grouping import OutputSettings, build_outputs
from efex_gui.core.extraction.pipeline import checked_arguments
from efex_gui.core.extraction.planning import (
    CellPlan,
    EntryPlan,
    PlanCache,
    file_stamp,
)
from efex_gui.core.extraction.read_and_extract import (
    prepare_targets,
    read_entry,
    read_plan,
)
from efex_gui.core.extraction.regrouping import GroupingCache, same_number
from efex_gui.core.extraction.result import ExtractionResult, SweepRef, inputs_signature
from efex_gui.core.extraction.run_branches import (
    auto_rheobase_task,
    choose_auto_targets,
)
from efex_gui.core.progress import LabelledProgress, check_cancel
from efex_gui.core.recordings.cell import Cell
from efex_gui.core.recordings.compact import SharedValues, compact_features
from efex_gui.core.recordings.ecodes import ecode_for_protocol
from efex_gui.core.recordings.traces import can_reload
from efex_gui.core.targets.auto import default_auto_targets

if TYPE_CHECKING:
    from efex_gui.core.session.document import Session

__all__ = ["ExtractionResult", "IncrementalExtractor", "SweepRef", "inputs_signature"]

Progress = LabelledProgress


@dataclass
class _Entry:
    recordings: list[Any]
    skipped: list[tuple[str, str]]
    #: the browser's recordings (its traces are its own business)
    borrowed: bool = False


@dataclass
class _DoneCell:
    """A cell processed by an earlier run (targets branch), reused when unchanged.

    ``refs`` and ``identities`` are aligned with ``cell.recordings`` (the copies),
    not dicts by ``id()``: one is kept per cell of the last run, and two dicts with
    an entry and an int key per sweep took 0.2 kB a sweep. The recordings copied
    are not kept: the browser may keep them frozen and give new, equal ones.
    """

    cell: Any
    #: each copy's entry and trace index
    refs: tuple[SweepRef, ...]
    computed_rheobase: Any
    #: the targets and settings it was computed with
    common: str = ""
    #: the identity (``sweep_identity``) of the recording each copy was made from
    identities: tuple[str, ...] = ()
    #: the stamps of the cell's files when it was computed (``EntryPlan.stamps``)
    stamps: str = ""

    def copies(self) -> dict[tuple[SweepRef, str], Any]:
        """Return ``{(sweep, identity of the recording copied): the copy}``."""
        return {
            (ref, identity): copy_
            for ref, identity, copy_ in zip(
                self.refs, self.identities, self.cell.recordings, strict=True
            )
        }


#: ``{(cell, protocol, position): (efel settings, recordings)}`` read by the browser
Preread = Mapping[tuple[str, str, int], tuple[Mapping[str, Any], list[Any]]]


class IncrementalExtractor:
    """Runs a session's extraction, reusing recordings and efel values across runs.

    Parameters
    ----------
    feature_cache : FeatureCache, optional
        Shared per-sweep value cache (a new in-memory one by default).
    """

    def __init__(self, feature_cache: FeatureCache | None = None) -> None:
        # not `or`: an empty cache is falsy (it has a length)
        self.feature_cache = FeatureCache() if feature_cache is None else feature_cache
        self._entries: dict[str, _Entry] = {}
        #: cells of the last run, by everything they depend on
        self._done: dict[Any, _DoneCell] = {}
        self.plans = PlanCache()
        #: the file stamps each plan (by generation) was last run with
        self._stamps: dict[int, str] = {}
        self.grouping = GroupingCache()
        #: (targets, settings) of the last run, and what checking them gave
        self._arguments: tuple[Any, dict[str, Any], tuple[Any, ...]] | None = None
        #: the objects the result's copies share for the values they have in common
        self.shared = SharedValues()

    def clear(self) -> None:
        """Forget every cached recording and value held in memory."""
        self._entries.clear()
        self._done.clear()
        self._stamps.clear()
        self.plans.clear()
        self.grouping.clear()
        self._arguments = None
        self.shared = SharedValues()
        self.feature_cache.clear()

    # --- reading ---------------------------------------------------------------------
    def _known(
        self,
        plan: EntryPlan,
        efel_settings: Mapping[str, Any],
        preread: Preread | None,
    ) -> tuple[_Entry | None, str]:
        """One entry's recordings if they need no read: the browser's, or cached.

        Returns them (None: to be read) and the key the entry is cached under
        (its metadata, its file's stamp and the efel settings; "" when borrowed).
        """
        cell, protocol, _ = plan.ref
        reused = _reuse(plan, efel_settings, (preread or {}).get(plan.ref))
        if reused is not None:
            return reused, ""
        key = json.dumps(
            [
                cell,
                protocol,
                plan.config,
                settings_key(efel_settings),
                file_stamp(plan.config),
            ],
            sort_keys=True,
            default=repr,
        )
        return self._entries.get(key), key

    def _read(
        self, plan: EntryPlan, efel_settings: Mapping[str, Any], key: str
    ) -> _Entry:
        """Read one entry (``read_entry``) and cache its recordings under ``key``."""
        cell, protocol, _ = plan.ref
        config = plan.config
        reading = Cell(cell)
        reading.skipped_files = []
        try:
            read_entry(
                reading, protocol, copy.deepcopy(config), None, dict(efel_settings)
            )
            entry = _Entry(reading.recordings, reading.skipped_files)
        except Cancelled:
            raise
        except Exception as exc:  # one bad file is reported, the run goes on
            label = config.get("filepath") or config.get("v_file") or "?"
            entry = _Entry([], [(str(label), f"{type(exc).__name__}: {exc}")])
        self._entries[key] = entry
        return entry

    def _build_cell(
        self,
        name: str,
        plans: list[EntryPlan],
        efel_settings: Mapping[str, Any],
        result: ExtractionResult,
        copies: list[tuple[Any, Any]],
        preread: Preread | None,
        sources: dict[int, Any],
    ) -> Any:
        """One cell's fresh recordings.

        ``copies`` gets (original read here, copy) pairs, ``sources`` maps each copy's
        id to the recording it copies (read here or borrowed). The entries to read
        are read in one ``shared_reads`` scope planned with them, as in
        ``extract_efeatures``: a file listed under two protocols is read once.
        """
        from efex_gui.core.readers import shared_reads  # h5py, neo, igor2: reading

        cell = Cell(name)
        cell.skipped_files = []
        known = [self._known(plan, efel_settings, preread) for plan in plans]
        unread = {key: p for p, (e, key) in zip(plans, known, strict=True) if e is None}
        with shared_reads() as shared:
            shared.expect(read_plan((p.ref[1], [p.config]) for p in unread.values()))
            for plan, (entry, key) in zip(plans, known, strict=True):
                cached = entry is not None or key in self._entries
                if entry is None:
                    entry = self._entries.get(key) or self._read(
                        plan, efel_settings, key
                    )
                result.entries_cached += cached
                result.entries_read += not cached
                cell.skipped_files += entry.skipped
                _, protocol, position = plan.ref
                for index, recording in enumerate(entry.recordings):
                    if index in plan.drop:
                        continue
                    fresh = _fresh_copy(recording)
                    copies.append((None if entry.borrowed else recording, fresh))
                    sources[id(fresh)] = recording
                    cell.recordings.append(fresh)
                    result.refs[fresh] = SweepRef(name, protocol, position, index)
        return cell

    def _checked(
        self, session: Session, settings: dict[str, Any], plans: Mapping[str, Any]
    ) -> tuple[Any, ...]:
        """``checked_arguments`` and ``prepare_targets`` on a copy of the targets.

        Returns ``(targets, efel settings, rheobase protocols, key)``, the key
        identifying the targets and settings. Reused while the session's targets and
        settings are equal to the last run's (no copy, no check: an exclusion costs
        nothing here).
        """
        last = self._arguments
        if last is not None and last[0] == session.targets and last[1] == settings:
            return last[2]
        targets, efel_settings, protocols_rheobase = checked_arguments(
            plans,
            copy.deepcopy(session.targets),
            None,
            settings["efel_settings"],
            settings["protocols_rheobase"],
            settings["absolute_amplitude"],
            False,
            False,
            map,
            settings["protocol_mode"],
        )
        if targets is not None:
            prepare_targets(targets, False)
        key = json.dumps(
            [targets, settings, efel_settings], sort_keys=True, default=repr
        )
        checked = (targets, efel_settings, protocols_rheobase, key)
        self._arguments = (copy.deepcopy(session.targets), settings, checked)
        return checked

    # --- the run ----------------------------------------------------------------------
    def run(
        self,
        session: Session,
        rheobase_overrides: Mapping[str, float] | None = None,
        *,
        progress: Progress | None = None,
        cancel: Any = None,
        preread: Preread | None = None,
        check_files: bool = True,
    ) -> ExtractionResult:
        """Extract the session's features, reusing what earlier runs computed.

        Parameters
        ----------
        session : Session
            The session (not modified; the caller may pass a copy).
        rheobase_overrides : mapping, optional
            ``{cell: rheobase in nA}`` replacing the computed rheobase of those cells
            (default: the session's ``rheobase_overrides``, which
            ``extract_efeatures`` honours as well).
        progress : callable, optional
            ``progress(done, total, message)``.
        cancel : object, optional
            Anything with ``is_set()``; checked between files and between sweeps.
        preread : mapping, optional
            Recordings already read (the GUI's browser), by ``(cell, protocol,
            position)`` with the efel settings of their spike counts; used instead
            of reading the file when they were read from the same metadata.
        check_files : bool
            Whether a cell that changed in nothing else is computed again when one
            of its files changed on disk (one ``stat`` per file per run). The GUI's
            automatic rerun after an edit passes False: its cost is then that of
            the cells the edit touched, whatever the number of cells.

        Returns
        -------
        ExtractionResult
            The cells, protocols and the three output dicts.

        Raises
        ------
        Cancelled
            When ``cancel`` was set; caches keep what was computed.
        SettingsError, TargetError
            Impossible settings or targets (as ``extract_efeatures``).
        """
        started = time.perf_counter()
        overrides = dict(
            session.rheobase_overrides
            if rheobase_overrides is None
            else rheobase_overrides
        )
        settings = asdict(session.settings)
        settings["protocols_rheobase"] = session.rheobase_protocols()
        plans = self.plans.plan(session)
        targets, efel_settings, protocols_rheobase, common = self._checked(
            session, settings, plans
        )
        result = ExtractionResult(
            cells=[],
            protocols=[],
            targets=[],
            auto_targets=targets is None,
            features={},
            protocol_definitions={},
            currents={},
            settings={
                **settings,
                "efel_settings": efel_settings,
                "protocols_rheobase": protocols_rheobase,
            },
            computed_rheobase={},
            rheobase_overrides=overrides,
            skipped=[],
            signature=inputs_signature(session, overrides),
        )
        run = _Run(self, result, efel_settings, plans, progress, cancel, preread)
        run.check_files = check_files
        try:
            if targets is None:
                run.auto_branch(session.auto_targets() or default_auto_targets())
            else:
                run.targets_branch(targets, common)
        finally:
            _keep_spike_counts(run.copies)
            for original, _ in run.copies:  # the extractor's own reads: numbers only
                if original is not None:
                    _drop(original)
        result.skipped = [
            (c.name, path, reason)
            for c in result.cells
            for path, reason in c.skipped_files
        ]
        if not run.grouped:  # no cell with a rheobase (automatic targets)
            result.features, result.protocol_definitions, result.currents = (
                build_outputs(
                    result.cells,
                    result.protocols,
                    OutputSettings(
                        threshold_nvalue_save=settings["threshold_nvalue_save"],
                        default_std_value=settings["default_std_value"],
                    ),
                )
            )
        result.seconds = time.perf_counter() - started
        return result


class _Run:
    """One run of :class:`IncrementalExtractor`: the two branches, cell by cell."""

    def __init__(
        self,
        extractor: IncrementalExtractor,
        result: ExtractionResult,
        efel_settings: dict[str, Any],
        plans: dict[str, CellPlan],
        progress: Progress | None,
        cancel: Any,
        preread: Preread | None,
    ) -> None:
        self.extractor, self.result = extractor, result
        self.efel_settings, self.plans = efel_settings, plans
        self.progress, self.cancel, self.preread = progress, cancel, preread
        self.copies: list[tuple[Any, Any]] = []
        #: ``{id(copy): the recording it copies}``, of the cell being computed
        self.sources: dict[int, Any] = {}
        self.n_read = self.n_features = 0
        #: the per-cell steps (rheobase, features) of the current pass
        self.task = CellTask()
        self.absolute = bool(result.settings["absolute_amplitude"])
        self.grouped = False
        self.check_files = True

    def _report(self, done: int, total: int, message: str) -> None:
        check_cancel(self.cancel, "the previous results are kept")
        if self.progress is not None:
            self.progress(done, total, message)

    def _cell(self, name: str) -> Any:
        """Read one cell (``Reading`` progress over every entry of the run)."""
        plans = self.plans[name].entries
        total = sum(len(p.entries) for p in self.plans.values())
        for plan in plans:
            self._report(self.n_read, total, f"Reading {name} / {plan.ref[1]}")
            self.n_read += 1
        # this cell's sources only: the browser's recordings, thawed for this run,
        # die with the cell instead of with the run (at 440 cells, held to the end
        # they were a second Recording per sweep, and the holes they left among
        # the result's objects kept the process 70 MB larger)
        self.sources = {}
        return self.extractor._build_cell(
            name,
            plans,
            self.efel_settings,
            self.result,
            self.copies,
            self.preread,
            self.sources,
        )

    def _features(self, cell: Any, done: set[int] | None = None) -> None:
        """Features of one cell (``Features`` progress in cells), traces dropped.

        Recordings whose id is in ``done`` already have their features.
        """
        total = len(self.plans)
        self._report(self.n_features, total, f"Features: cell {cell.name}")
        self.task.features(
            cell,
            self.extractor.feature_cache,
            done=done or (),
            stats=self.result.stats,
            cancel=self.cancel,
        )
        compact_features(cell.recordings)  # final: read from now on, never written
        self.extractor.shared.share_recordings(cell.recordings)
        self._drop(cell)
        self.n_features += 1
        self._report(self.n_features, total, f"Features: cell {cell.name}")

    def _drop(self, cell: Any) -> None:
        """Forget the traces of a cell's copies and of the originals read here."""
        for recording in cell.recordings:
            _drop(recording)
        for original, _ in self.copies:
            if original is not None:
                _drop(original)

    def targets_branch(self, targets: list[dict[str, Any]], common: str) -> None:
        """Per cell: read, rheobase, features, drop; then group (§2.12).

        ``targets`` are prepared; ``common`` identifies them and the settings.
        """
        self.result.targets = targets
        self.task = self._task(CellTask.at_targets, targets)
        done = self.extractor._done
        previous = {v.cell.name: v for v in done.values()}
        for name in self.plans:
            signature = self._signature(name, common)
            if signature in done:  # nothing this cell depends on changed
                self._reuse_cell(done[signature])
                continue
            cell = self._cell(name)
            self.result.cells.append(cell)
            if not self.absolute:
                self._rheobase(cell)
            stamps = signature[2]
            kept = self._keep_copies(cell, previous.get(name), common, stamps)
            self._features(cell, kept)
            done[signature] = _DoneCell(
                cell,
                tuple(self.result.refs[r] for r in cell.recordings),
                self.result.computed_rheobase.get(name),
                common,
                tuple(sweep_identity(self.sources[id(r)]) for r in cell.recordings),
                stamps,
            )
        shown = {id(cell) for cell in self.result.cells}  # alive: the result holds them
        self.extractor._done = {k: v for k, v in done.items() if id(v.cell) in shown}
        stamps = self.extractor._stamps
        self.extractor._stamps = {
            p.generation: stamps[p.generation]
            for p in self.plans.values()
            if p.generation in stamps
        }
        self._group(targets, common)

    def _keep_copies(
        self, cell: Any, previous: _DoneCell | None, common: str, stamps: str
    ) -> set[int]:
        """Put back the earlier run's copies of the sweeps this cell still has.

        When the cell was computed before with the same targets and settings and
        its rheobase is the same, a copy of the same recording is in the same
        state as the new copy will be (relative amplitudes, features): the earlier
        copy replaces it, so the windows it falls in see the same objects as before
        and are not recomputed (:class:`GroupingCache`). Returns the ids of the
        copies put back.
        """
        if (
            previous is None
            or previous.common != common
            or previous.stamps != stamps  # a file changed (and its samples may)
            or not same_number(previous.cell.rheobase, cell.rheobase)
        ):
            return set()
        earlier_copies = previous.copies()
        kept: set[int] = set()
        for position, fresh in enumerate(cell.recordings):
            source = self.sources[id(fresh)]
            ref = self.result.refs[fresh]
            copy_ = earlier_copies.get((ref, sweep_identity(source)))
            if copy_ is None or not _copies(copy_, source):
                continue
            cell.recordings[position] = copy_
            self.result.refs[copy_] = self.result.refs.pop(fresh)
            self.sources[id(copy_)] = source
            kept.add(id(copy_))
        return kept

    def _signature(self, name: str, common: str) -> tuple[Any, ...]:
        """Everything one cell's result depends on, in the targets branch.

        The plan's generation stands for its entries (a new plan, a new number);
        the files' stamps for their content.
        """
        plan = self.plans[name]
        override = self.result.rheobase_overrides.get(name)
        if not self.check_files:  # the stamps the plan had when it was last run
            stamps = self.extractor._stamps.get(plan.generation) or plan.stamps()
        else:
            stamps = plan.stamps()
        self.extractor._stamps[plan.generation] = stamps
        return (name, plan.generation, stamps, repr(override), common)

    def _reuse_cell(self, done: _DoneCell) -> None:
        """Reuse an earlier run's unchanged cell: shared, modified by neither run."""
        self.result.cells.append(done.cell)
        self.result.refs.update(zip(done.cell.recordings, done.refs, strict=True))
        self.result.computed_rheobase[done.cell.name] = done.computed_rheobase
        self.n_read += len(self.plans[done.cell.name].entries)
        self.n_features += 1
        self.result.entries_cached += len(self.plans[done.cell.name].entries)

    def auto_branch(self, auto_targets: list[Any]) -> None:
        """Rheobase of every cell, targets chosen by ``auto_targets``, features."""
        self.task = self._task(auto_rheobase_task)
        for name in self.plans:
            cell = self._cell(name)
            self.result.cells.append(cell)
            self._rheobase(cell)
            self._drop(cell)
        cells = self.result.cells
        targets = choose_auto_targets(cells, auto_targets, False)
        if targets is None:
            return
        self.result.targets = targets
        self.task = self._task(CellTask.at_targets, targets)
        for cell in cells:
            self._features(cell)
        key = json.dumps(
            [targets, self.result.settings, self.efel_settings],
            sort_keys=True,
            default=repr,
        )
        self._group(targets, key)

    def _group(self, targets: list[dict[str, Any]], key: str) -> None:
        """Group and build the output dicts, reusing the unchanged windows."""
        result = self.result
        (
            result.protocols,
            result.features,
            result.protocol_definitions,
            result.currents,
        ) = self.extractor.grouping.outputs(
            result.cells, targets, key, result.settings, self.efel_settings
        )
        self.grouped = True

    def _task(self, make: Callable[..., CellTask], *args: Any) -> CellTask:
        """Make the run's per-cell task with ``make``: its settings and caches."""
        settings = self.result.settings
        return make(
            *args,
            efel_settings=self.efel_settings,
            absolute_amplitude=self.absolute,
            protocols_rheobase=settings["protocols_rheobase"],
            rheobase_strategy=settings["rheobase_strategy"],
            rheobase_settings=settings["rheobase_settings"],
            rheobase_overrides=self.result.rheobase_overrides,
            store=self.extractor.feature_cache.store,
        )

    def _rheobase(self, cell: Any) -> None:
        """Give the cell its rheobase (override included); keep the strategy's."""
        self.result.computed_rheobase[cell.name] = self.task.compute_rheobase(cell)


def _drop(recording: Any) -> None:
    """Forget a recording's traces; a pending spike count is read again on demand.

    ``reader_data`` (the reader's raw arrays: a second copy of the traces) goes too,
    as in ``Recording.drop_traces``.
    """
    if can_reload(recording):
        recording.t = recording.voltage = recording.current = None
        recording.reader_data = None
        recording.own_window = None


def _reuse(
    plan: EntryPlan,
    efel_settings: Mapping[str, Any],
    read: tuple[Mapping[str, Any], list[Any]] | None,
) -> _Entry | None:
    """Return the browser's recordings of an entry, if still valid.

    Valid: the eCode, config and efel settings ``read_recordings`` would use now,
    spike counts done.
    """
    if read is None:
        return None
    settings, recordings = read
    _, protocol, _ = plan.ref
    expected = plan.config
    expected.setdefault("protocol_name", protocol)
    try:
        ecode = ecode_for_protocol(expected.get("ecode") or protocol)
    except ECodeError:  # read here: the entry is skipped with its reason
        return None
    # the browser applies an eCode override without writing it in the metadata
    bare = {k: v for k, v in expected.items() if k != "ecode"}
    if (
        not recordings
        or dict(settings) != dict(efel_settings)
        or any(
            r is None
            or type(r) is not ecode
            or r.config_data != (expected if "ecode" in r.config_data else bare)
            or r.spikecount_pending
            for r in recordings
        )
    ):
        return None
    return _Entry(list(recordings), [], borrowed=True)


#: what a copy takes from its recording, besides what ``sweep_identity`` digests
_COPIED_STATE = ("config_data", "files", "id", "repetition", "amp", "hypamp", "tend")


def _copies(copy_: Any, recording: Any) -> bool:
    """Whether ``copy_`` (an earlier run's) is a copy of a recording equal to this one.

    The recording may be another object, equal (the browser thaws a frozen cell
    into new recordings). The caller compared the identities (class, files, sweep,
    window, amplitude and threshold; the samples only when the recording had its
    traces: the browser's have not) and the files' stamps (unchanged files, the
    same samples); the rest of what a copy takes is compared here.
    """
    if type(copy_) is not type(recording):
        return False
    for name in _COPIED_STATE:
        mine, theirs = getattr(copy_, name, None), getattr(recording, name, None)
        if mine is theirs:
            continue
        if isinstance(mine, float | int) or isinstance(theirs, float | int):
            if not same_number(mine, theirs):
                return False
        elif mine != theirs:
            return False
    return True


def _fresh_copy(recording: Any) -> Any:
    """Make a shallow copy with BluePyEfe's run-dependent state reset.

    Traces are shared (never modified); features, relative amplitudes and warnings
    belong to the copy.
    """
    sweep_identity(recording)  # memoised on the cached original, shared by copies
    fresh = copy.copy(recording)
    # the browser's QC of the sweep (measures, its own step) is not the result's
    fresh.qc_measures = fresh.own_window = None
    fresh.efeatures = {}
    fresh.warnings = list(getattr(recording, "warnings", []))
    for name in fresh.__getstate__():  # (no state dict kept: ``extra_attributes``)
        if name.endswith("_rel"):
            setattr(fresh, name, None)
    share_identity(recording, fresh)
    return fresh


def _keep_spike_counts(copies: list[tuple[Any, Any]]) -> None:
    """Give cached recordings the spike counts their run copies computed.

    Spike counts are computed on first use (``core.spikes``); a copy that resolved
    one hands it (and the warning that may come with it) to its cached original, so
    the next run's copies do not call efel for it again.
    """
    for original, fresh in copies:
        if original is None:
            continue
        if getattr(original, "spikecount_pending", False) and not getattr(
            fresh, "spikecount_pending", True
        ):
            original.peak_time = fresh.peak_time
            original.warnings = list(fresh.warnings)
