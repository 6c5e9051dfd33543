"""The extraction of a session, rerun cheaply after each edit (the GUI's pipeline).

:class:`IncrementalExtractor` runs the same stages as
:func:`efex_gui.core.extraction.pipeline.extract_efeatures` on a session (the arguments
are defaulted by the pipeline's own ``checked_arguments``; reading is the pipeline's
``read_recordings``; rheobase, grouping and the output dicts are
``compute_rheobase``, ``group_efeatures`` and ``create_feature_protocol_files``), with
two caches in between:

* recordings per files_metadata entry (keyed by the entry's absolute metadata, the
  file's size and modification time and the global efel settings), so an exclusion,
  a target change or a rheobase setting never re-reads a file;
* per-sweep efel values (:class:`~efex_gui.core.extraction.feature_cache.FeatureCache`),
so only
  features never computed on a sweep with the same settings reach efel.

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
from efex_gui.core.extraction.feature_cache import (
    FeatureCache,
    extract_efeatures_cached,
    settings_key,
    share_identity,
    sweep_identity,
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
from efex_gui.core.rheobase.strategies import compute_rheobase
from efex_gui.core.session.document import PATH_KEYS, Session
from efex_gui.core.session.exclusions import ExclusionKey, apply_exclusions
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


@dataclass
class _Plan:
    """One kept entry: where it is, its absolute metadata, the traces to drop."""

    ref: tuple[str, str, int]
    config: dict[str, Any]
    drop: set[int]


class IncrementalExtractor:
    """Runs a session's extraction, reusing recordings and efel values across runs.

    Parameters
    ----------
    feature_cache : FeatureCache, optional
        Shared per-sweep value cache (a new one by default).
    """

    def __init__(self, feature_cache: FeatureCache | None = None) -> None:
        self.feature_cache = feature_cache or FeatureCache()
        self._entries: dict[str, _Entry] = {}

    def clear(self) -> None:
        """Forget every cached recording and value."""
        self._entries.clear()
        self.feature_cache.clear()

    # --- planning and reading -----------------------------------------------------
    @staticmethod
    def _plan(session: Session) -> tuple[list[_Plan], dict[str, Any]]:
        """The entries to read (absolute metadata) and the kept ``files_metadata``."""
        kept, partial = apply_exclusions(session.files_metadata, session.exclusions)
        plans = []
        for cell, protocols in session.files_metadata.items():
            for protocol, entries in protocols.items():
                for position, config in enumerate(entries):
                    file = entry_file(config)
                    key = ExclusionKey(cell, protocol, file)
                    if session.exclusions.is_excluded(key):
                        continue
                    drop = partial.get((cell, protocol, file), set())
                    plans.append(
                        _Plan(
                            (cell, protocol, position), _absolute(session, config), drop
                        )
                    )
        return plans, kept

    def _read(
        self, plan: _Plan, efel_settings: Mapping[str, Any]
    ) -> tuple[_Entry, bool]:
        cell, protocol, _ = plan.ref
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

    def _build_cells(
        self,
        plans: list[_Plan],
        efel_settings: Mapping[str, Any],
        result: ExtractionResult,
        progress: Progress | None,
        cancel: Any,
        copies: list[tuple[Any, Any]],
    ) -> list[Any]:
        cells: dict[str, Any] = {}
        for done, plan in enumerate(plans):
            check_cancel(cancel, "the previous results are kept")
            if progress is not None:
                progress(done, len(plans), f"Reading {plan.ref[0]} / {plan.ref[1]}")
            entry, cached = self._read(plan, efel_settings)
            result.entries_cached += cached
            result.entries_read += not cached
            cell_name, protocol, position = plan.ref
            cell = cells.get(cell_name)
            if cell is None:
                cell = cells[cell_name] = Cell(cell_name)
                cell.skipped_files = []
            cell.skipped_files += entry.skipped
            for index, recording in enumerate(entry.recordings):
                if index in plan.drop:
                    continue
                fresh = _fresh_copy(recording)
                copies.append((recording, fresh))
                cell.recordings.append(fresh)
                result.refs[id(fresh)] = SweepRef(cell_name, protocol, position, index)
        return list(cells.values())

    # --- the run ----------------------------------------------------------------------
    def run(
        self,
        session: Session,
        rheobase_overrides: Mapping[str, float] | None = None,
        *,
        progress: Progress | None = None,
        cancel: Any = None,
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
        copies: list[tuple[Any, Any]] = []
        try:
            cells = self._build_cells(
                plans, efel_settings, result, progress, cancel, copies
            )
            result.cells = cells
            result.skipped = [
                (c.name, path, reason)
                for c in cells
                for path, reason in c.skipped_files
            ]
            self._branch(result, targets, efel_settings, progress, cancel)
        finally:
            _keep_spike_counts(copies)
        result.features, result.protocol_definitions, result.currents = (
            create_feature_protocol_files(
                cells,
                result.protocols,
                None,
                settings["threshold_nvalue_save"],
                False,
                default_std_value=settings["default_std_value"],
            )
        )
        result.seconds = time.perf_counter() - started
        return result

    def _branch(
        self,
        result: ExtractionResult,
        targets: list[dict[str, Any]] | None,
        efel_settings: dict[str, Any],
        progress: Progress | None,
        cancel: Any,
    ) -> None:
        """The targets branch or the auto branch of ``extract_efeatures`` (§2.12)."""
        settings, cells = result.settings, result.cells
        absolute = settings["absolute_amplitude"]
        if targets is None:
            strategy_settings = settings["rheobase_settings"]
            if strategy_settings is None and settings["rheobase_strategy"] == "flush":
                strategy_settings = {"upper_bound_spikecount": 4}
            self._rheobase(result, strategy_settings)
            if not any(cell.rheobase for cell in cells):
                logger.warning("No cells with valid rheobase: empty output.")
                return
            recordings = [rec for cell in cells for rec in cell.recordings]
            targets = []
            for auto_target in default_auto_targets():
                auto_target.select_ecode_and_amplitude(recordings)
                targets += auto_target.generate_targets()
        prepare_targets(targets, False)
        result.targets = targets
        result.stats = extract_efeatures_cached(
            cells,
            targets,
            efel_settings,
            self.feature_cache,
            cancel=cancel,
            progress=None
            if progress is None
            else (lambda d, t: progress(d, t, f"Features: sweep {d} of {t}")),
        )
        if not result.auto_targets and not absolute:
            self._rheobase(result, settings["rheobase_settings"])
        result.protocols = group_efeatures(
            cells, targets, absolute, True, settings["protocol_mode"], efel_settings
        )

    @staticmethod
    def _rheobase(result: ExtractionResult, strategy_settings: Any) -> None:
        settings = result.settings
        compute_rheobase(
            result.cells,
            settings["protocols_rheobase"],
            settings["rheobase_strategy"],
            strategy_settings,
        )
        result.computed_rheobase = {c.name: c.rheobase for c in result.cells}
        for cell in result.cells:
            if cell.name in result.rheobase_overrides:
                cell.rheobase = float(result.rheobase_overrides[cell.name])
                cell.compute_relative_amp()


def _fresh_copy(recording: Any) -> Any:
    """A shallow copy with BluePyEfe's run-dependent state reset.

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


def _absolute(session: Session, config: Mapping[str, Any]) -> dict[str, Any]:
    """One entry's metadata with absolute paths (a shallow copy: never mutated)."""
    out = dict(config)
    for key in PATH_KEYS:
        if out.get(key):
            out[key] = session.resolve(out[key])
    return out


def _keep_spike_counts(copies: list[tuple[Any, Any]]) -> None:
    """Give cached recordings the spike counts their run copies computed.

    Spike counts are computed on first use (``core.spikes``); a copy that resolved
    one hands it (and the warning that may come with it) to its cached original, so
    the next run's copies do not call efel for it again.
    """
    for original, fresh in copies:
        if getattr(original, "spikecount_pending", False) and not getattr(
            fresh, "spikecount_pending", True
        ):
            original.peak_time = fresh.peak_time
            original.warnings = list(fresh.warnings)
