"""The extraction of a session, rerun cheaply after each edit (the GUI's pipeline).

:class:`IncrementalExtractor` runs the extraction of
:func:`efex_gui.core.extraction.pipeline.extract_efeatures` on a session, cell by cell
in the order of :mod:`efex_gui.core.extraction.cell_task` (read → rheobase → features on
the recordings a target window holds → drop the traces), with the same stage functions
(``checked_arguments``, ``read_recordings``, ``compute_rheobase``,
``extract_cell_features``, ``group_efeatures``, ``create_feature_protocol_files``) and
three caches:

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
import logging
import os
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from efex_gui.core.errors import Cancelled
from efex_gui.core.extraction.cell_task import (
    amplitude_windows,
    extract_cell_features,
    matched_recordings,
)
from efex_gui.core.extraction.feature_cache import (
    FeatureCache,
    settings_key,
    share_identity,
    sweep_identity,
    target_groups,
)
from efex_gui.core.extraction.grouping import (
    create_feature_protocol_files,
    group_efeatures,
)
from efex_gui.core.extraction.pipeline import checked_arguments
from efex_gui.core.extraction.read_and_extract import prepare_targets, read_recordings
from efex_gui.core.extraction.result import ExtractionResult, SweepRef, inputs_signature
from efex_gui.core.importing.file_names import entry_file
from efex_gui.core.progress import LabelledProgress, check_cancel
from efex_gui.core.recordings.cell import Cell
from efex_gui.core.recordings.ecodes import ecode_for_protocol
from efex_gui.core.recordings.traces import can_reload
from efex_gui.core.rheobase.strategies import compute_rheobase
from efex_gui.core.session.document import PATH_KEYS, Session
from efex_gui.core.session.exclusions import ExclusionKey
from efex_gui.core.targets.auto import default_auto_targets

logger = logging.getLogger(__name__)

__all__ = ["ExtractionResult", "IncrementalExtractor", "SweepRef", "inputs_signature"]

Progress = LabelledProgress


def _file_stamp(config: Mapping[str, Any]) -> list[Any]:
    stamp: list[tuple[Any, int | None, int | None]] = []
    for key in PATH_KEYS:
        if config.get(key):
            try:
                stat = os.stat(config[key])
                stamp.append((config[key], stat.st_size, stat.st_mtime_ns))
            except OSError:
                stamp.append((config[key], None, None))
    return stamp


@dataclass
class _Entry:
    recordings: list[Any]
    skipped: list[tuple[str, str]]
    #: the browser's recordings (its traces are its own business)
    borrowed: bool = False


@dataclass
class _Plan:
    """One kept entry: where it is, its absolute metadata, the traces to drop."""

    ref: tuple[str, str, int]
    config: dict[str, Any]
    drop: set[int]


@dataclass
class _DoneCell:
    """A cell processed by an earlier run (targets branch), reused when unchanged."""

    cell: Any
    refs: dict[int, SweepRef]
    computed_rheobase: Any


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
        self._done: dict[str, _DoneCell] = {}

    def clear(self) -> None:
        """Forget every cached recording and value held in memory."""
        self._entries.clear()
        self._done.clear()
        self.feature_cache.clear()

    # --- planning and reading -----------------------------------------------------
    @staticmethod
    def _plan(session: Session) -> tuple[dict[str, list[_Plan]], dict[str, Any]]:
        """Plan the entries to read per cell (absolute metadata), and the kept cells.

        Exclusions as ``apply_exclusions`` applies them (excluded entries left out,
        excluded traces of an entry dropped by index), without its deep copy.
        """
        exclusions = session.exclusions
        partial: dict[tuple[str, str | None, str | None], set[int]] = {}
        for k in exclusions.reasons:
            if k.index is not None:
                partial.setdefault((k.cell, k.protocol, k.file), set()).add(
                    int(k.index)
                )
        resolved: dict[str, str] = {}
        plans: dict[str, list[_Plan]] = {}
        for cell, protocols in session.files_metadata.items():
            for protocol, entries in protocols.items():
                for position, config in enumerate(entries):
                    file = entry_file(config)
                    if exclusions.is_excluded(ExclusionKey(cell, protocol, file)):
                        continue
                    drop = partial.get((cell, protocol, file), set())
                    plans.setdefault(cell, []).append(
                        _Plan(
                            (cell, protocol, position),
                            _absolute(session, config, resolved),
                            drop,
                        )
                    )
        return plans, dict.fromkeys(plans, True)  # only its emptiness is used

    def _read(
        self, plan: _Plan, efel_settings: Mapping[str, Any], preread: Preread | None
    ) -> tuple[_Entry, bool]:
        cell, protocol, _ = plan.ref
        reused = _reuse(plan, efel_settings, (preread or {}).get(plan.ref))
        if reused is not None:
            return reused, True
        key = json.dumps(
            [
                cell,
                protocol,
                plan.config,
                settings_key(efel_settings),
                _file_stamp(plan.config),
            ],
            sort_keys=True,
            default=repr,
        )
        if key in self._entries:
            return self._entries[key], True
        try:
            (read,) = read_recordings(
                {cell: {protocol: [copy.deepcopy(plan.config)]}},
                None,
                map,
                dict(efel_settings),
            )
            entry = _Entry(read.recordings, list(read.skipped_files))
        except Cancelled:
            raise
        except Exception as exc:  # one bad file is reported, the run goes on
            label = plan.config.get("filepath") or plan.config.get("v_file") or "?"
            entry = _Entry([], [(str(label), f"{type(exc).__name__}: {exc}")])
        self._entries[key] = entry
        return entry, False

    def _build_cell(
        self,
        name: str,
        plans: list[_Plan],
        efel_settings: Mapping[str, Any],
        result: ExtractionResult,
        copies: list[tuple[Any, Any]],
        preread: Preread | None,
    ) -> Any:
        """One cell's fresh recordings; ``copies`` gets (original, copy) pairs."""
        cell = Cell(name)
        cell.skipped_files = []
        for plan in plans:
            entry, cached = self._read(plan, efel_settings, preread)
            result.entries_cached += cached
            result.entries_read += not cached
            cell.skipped_files += entry.skipped
            _, protocol, position = plan.ref
            for index, recording in enumerate(entry.recordings):
                if index in plan.drop:
                    continue
                fresh = _fresh_copy(recording)
                copies.append((None if entry.borrowed else recording, fresh))
                cell.recordings.append(fresh)
                result.refs[id(fresh)] = SweepRef(name, protocol, position, index)
        return cell

    # --- the run ----------------------------------------------------------------------
    def run(
        self,
        session: Session,
        rheobase_overrides: Mapping[str, float] | None = None,
        *,
        progress: Progress | None = None,
        cancel: Any = None,
        preread: Preread | None = None,
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
        plans, files_metadata = self._plan(session)
        targets, efel_settings, protocols_rheobase = checked_arguments(
            files_metadata,
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
        try:
            if targets is None:
                run.auto_branch()
            else:
                run.targets_branch(targets)
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
        result.features, result.protocol_definitions, result.currents = (
            create_feature_protocol_files(
                result.cells,
                result.protocols,
                None,
                settings["threshold_nvalue_save"],
                False,
                default_std_value=settings["default_std_value"],
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
        plans: dict[str, list[_Plan]],
        progress: Progress | None,
        cancel: Any,
        preread: Preread | None,
    ) -> None:
        self.extractor, self.result = extractor, result
        self.efel_settings, self.plans = efel_settings, plans
        self.progress, self.cancel, self.preread = progress, cancel, preread
        self.copies: list[tuple[Any, Any]] = []
        self.n_read = self.n_features = 0
        self.windows: list[tuple[str, Any, Any]] | None = None
        self.groups: list[Any] | None = None
        self.absolute = bool(result.settings["absolute_amplitude"])

    def _report(self, done: int, total: int, message: str) -> None:
        check_cancel(self.cancel, "the previous results are kept")
        if self.progress is not None:
            self.progress(done, total, message)

    def _cell(self, name: str) -> Any:
        """Read one cell (``Reading`` progress over every entry of the run)."""
        plans = self.plans[name]
        total = sum(len(p) for p in self.plans.values())
        for plan in plans:
            self._report(self.n_read, total, f"Reading {name} / {plan.ref[1]}")
            self.n_read += 1
        return self.extractor._build_cell(
            name, plans, self.efel_settings, self.result, self.copies, self.preread
        )

    def _features(self, cell: Any, targets: list[dict[str, Any]]) -> None:
        """Features of one cell (``Features`` progress in cells), traces dropped."""
        total = len(self.plans)
        self._report(self.n_features, total, f"Features: cell {cell.name}")
        if self.windows is None:
            self.windows = amplitude_windows(targets)
            self.groups = target_groups(targets)
        chosen = matched_recordings(cell, self.windows, self.absolute)
        extract_cell_features(
            cell,
            self.groups or [],
            self.efel_settings,
            chosen,
            cache=self.extractor.feature_cache,
            stats=self.result.stats,
            cancel=self.cancel,
        )
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

    def targets_branch(self, targets: list[dict[str, Any]]) -> None:
        """Per cell: read, rheobase, features, drop; then group (§2.12)."""
        prepare_targets(targets, False)
        self.result.targets = targets
        settings = self.result.settings
        common = json.dumps(
            [targets, settings, self.efel_settings], sort_keys=True, default=repr
        )
        done = self.extractor._done
        for name in self.plans:
            signature = self._signature(name, common)
            if signature in done:  # nothing this cell depends on changed
                self._reuse_cell(done[signature])
                continue
            cell = self._cell(name)
            self.result.cells.append(cell)
            if not self.absolute:
                self._rheobase(cell, settings["rheobase_settings"])
            self._features(cell, targets)
            done[signature] = _DoneCell(
                cell,
                {k: v for k, v in self.result.refs.items() if v.cell == name},
                self.result.computed_rheobase.get(name),
            )
        self.extractor._done = {
            k: v for k, v in done.items() if any(c is v.cell for c in self.result.cells)
        }
        self._group(targets)

    def _signature(self, name: str, common: str) -> str:
        """Everything one cell's result depends on, in the targets branch."""
        plans = [
            [p.ref, p.config, sorted(p.drop), _file_stamp(p.config)]
            for p in self.plans[name]
        ]
        override = self.result.rheobase_overrides.get(name)
        return json.dumps([name, plans, override, common], sort_keys=True, default=repr)

    def _reuse_cell(self, done: _DoneCell) -> None:
        """Reuse an earlier run's unchanged cell: shared, modified by neither run."""
        self.result.cells.append(done.cell)
        self.result.refs.update(done.refs)
        self.result.computed_rheobase[done.cell.name] = done.computed_rheobase
        self.n_read += len(self.plans[done.cell.name])
        self.n_features += 1
        self.result.entries_cached += len(self.plans[done.cell.name])

    def auto_branch(self) -> None:
        """Rheobase of every cell, targets chosen from the recordings, features."""
        settings = self.result.settings
        strategy_settings = settings["rheobase_settings"]
        if strategy_settings is None and settings["rheobase_strategy"] == "flush":
            strategy_settings = {"upper_bound_spikecount": 4}
        for name in self.plans:
            cell = self._cell(name)
            self.result.cells.append(cell)
            self._rheobase(cell, strategy_settings)
            self._drop(cell)
        cells = self.result.cells
        if not any(cell.rheobase for cell in cells):
            logger.warning("No cells with valid rheobase: empty output.")
            return
        recordings = [rec for cell in cells for rec in cell.recordings]
        targets: list[dict[str, Any]] = []
        for auto_target in default_auto_targets():
            auto_target.select_ecode_and_amplitude(recordings)
            targets += auto_target.generate_targets()
        prepare_targets(targets, False)
        self.result.targets = targets
        for cell in cells:
            self._features(cell, targets)
        self._group(targets)

    def _group(self, targets: list[dict[str, Any]]) -> None:
        self.result.protocols = group_efeatures(
            self.result.cells,
            targets,
            self.absolute,
            True,
            self.result.settings["protocol_mode"],
            self.efel_settings,
        )

    def _rheobase(self, cell: Any, strategy_settings: Any) -> None:
        settings, result = self.result.settings, self.result
        compute_rheobase(
            [cell],
            settings["protocols_rheobase"],
            settings["rheobase_strategy"],
            strategy_settings,
        )
        result.computed_rheobase[cell.name] = cell.rheobase
        if cell.name in result.rheobase_overrides:
            cell.rheobase = float(result.rheobase_overrides[cell.name])
            cell.compute_relative_amp()


def _drop(recording: Any) -> None:
    """Forget a recording's traces; a pending spike count is read again on demand.

    ``reader_data`` (the reader's raw arrays: a second copy of the traces) goes too,
    as in ``Recording.drop_traces``.
    """
    if can_reload(recording):
        recording.t = recording.voltage = recording.current = None
        recording.reader_data = None


def _reuse(
    plan: _Plan,
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
    expected = {**plan.config}
    expected.setdefault("protocol_name", protocol)
    ecode = ecode_for_protocol(plan.config.get("ecode") or protocol)
    if (
        not recordings
        or dict(settings) != dict(efel_settings)
        or any(
            r is None
            or type(r) is not ecode
            or r.config_data != expected
            or r.spikecount_pending
            for r in recordings
        )
    ):
        return None
    return _Entry(list(recordings), [], borrowed=True)


def _fresh_copy(recording: Any) -> Any:
    """Make a shallow copy with BluePyEfe's run-dependent state reset.

    Traces are shared (never modified); features, relative amplitudes and warnings
    belong to the copy.
    """
    sweep_identity(recording)  # memoised on the cached original, shared by copies
    fresh = copy.copy(recording)
    fresh.efeatures = {}
    fresh.warnings = list(getattr(recording, "warnings", []))
    for name in vars(fresh):
        if name.endswith("_rel"):
            setattr(fresh, name, None)
    share_identity(recording, fresh)
    return fresh


def _absolute(
    session: Session, config: Mapping[str, Any], resolved: dict[str, str]
) -> dict[str, Any]:
    """One entry's metadata with absolute paths (a shallow copy: never mutated)."""
    out = dict(config)
    for key in PATH_KEYS:
        path = out.get(key)
        if path:
            if path not in resolved:
                resolved[path] = session.resolve(path)
            out[key] = resolved[path]
    return out


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
