"""The two branches of an extraction run (spec §2.12), and the run options.

* targets branch — :func:`_extract_with_targets`: read and extract the targeted
  features (normally through ``map_function``, or cell by cell in low-memory mode),
  then compute the rheobase, then group;
* auto branch — :func:`_extract_auto_targets`: read, compute the rheobase, let the
  :class:`~efex_gui.core.targets.auto.AutoTarget` objects choose protocols and
  amplitudes from the recordings, then extract and group.

:class:`RunOptions` carries the keyword-only extras of
:func:`efex_gui.core.extraction.pipeline.extract_efeatures` (progress, cancellation,
strictness, compatibility switches) through both branches.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from efex_gui.core.extraction.cell_task import CellTask
from efex_gui.core.extraction.grouping import GroupingSettings, group_by_target
from efex_gui.core.extraction.read_and_extract import (
    _mapped,
    cell_reader,
    extract_efeatures_at_targets,
    prepare_targets,
    read_recordings,
)
from efex_gui.core.extraction.request import Mapper, RunExtras, Settings
from efex_gui.core.rheobase.strategies import run_rheobase_settings
from efex_gui.core.targets.auto import AutoTarget, default_auto_targets

logger = logging.getLogger(__name__)

__all__ = [
    "FilesMetadata",
    "Mapper",
    "RunOptions",
    "Settings",
    "_extract_auto_targets",
    "_extract_with_targets",
    "_read_extract",
    "_read_extract_low_memory",
    "auto_rheobase_task",
    "choose_auto_targets",
]


@dataclass(frozen=True)
class RunOptions(RunExtras):
    """The :class:`RunExtras` of a run as the branches use them.

    Plus what the pipeline derives: ``extract_all_recordings`` is implied by
    ``plot``, and ``private_cells`` says that the caller never sees the cells (no
    plot, no pickle): their traces go as soon as their features are computed.
    """

    private_cells: bool = False

    def stage_progress(
        self, stage: int, n_cells: int
    ) -> Callable[[int, int], None] | None:
        """Progress callback of stage ``stage`` (0 read, 1 extract) on 2n+1 units."""
        if self.progress is None:
            return None
        total, offset, report = 2 * n_cells + 1, stage * n_cells, self.progress
        return lambda done, _total: report(offset + done, total)

    def map_stage(
        self, map_function: Mapper, task: CellTask, items: list[Any], stage: int
    ) -> list[Any]:
        """Map ``task`` over the cells ``items``: stage ``stage`` of the progress.

        Cancellable between cells.
        """
        progress = self.stage_progress(stage, len(items))
        return _mapped(map_function, task, items, progress, self.cancel)

    def cell_progress(self, n_cells: int) -> Callable[[int, int], None] | None:
        """Progress callback of a map doing both stages per cell (2 units a cell)."""
        if self.progress is None:
            return None
        total, report = 2 * n_cells + 1, self.progress

        def cells_done(done: int, _total: int) -> None:
            if done:  # the cell's reading unit, then its features unit
                report(2 * done - 1, total)
            report(2 * done, total)

        return cells_done

    def switches(self) -> dict[str, bool]:
        """Return the compatibility switches, for the provenance sidecar.

        Built from the fields, not ``dataclasses.asdict`` (which deep-copies the
        ``progress`` callback and fails on streams, locks or Qt objects).
        """
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return {
            k: v
            for k, v in values.items()
            if isinstance(v, bool) and k not in _INTERNAL
        }


_INTERNAL = ("private_cells", "provenance")  # not compatibility switches


FilesMetadata = Mapping[str, Mapping[str, list[dict[str, Any]]]]


def _read_extract(
    files_metadata: FilesMetadata,
    recording_reader: Any,
    map_function: Mapper,
    targets: list[dict[str, Any]],
    efel_settings: Settings,
) -> list[Any]:
    """BluePyEfe's stages (spec §2.12), both through ``map_function``; no rheobase.

    :func:`read_recordings` (every cell), then :func:`extract_efeatures_at_targets`
    (the features on every recording of a targeted protocol).
    """
    cells = read_recordings(
        files_metadata, recording_reader, map_function, efel_settings
    )
    return extract_efeatures_at_targets(cells, targets, map_function, efel_settings)


def _read_extract_low_memory(
    files_metadata: FilesMetadata,
    recording_reader: Any,
    targets: list[dict[str, Any]],
    efel_settings: Settings,
) -> list[Any]:
    """Cell by cell in this process, traces dropped after extraction (spec §2.12).

    BluePyEfe's stage: features on every recording of a targeted protocol, no
    rheobase; the recordings keep their spike counts but lose ``t``, ``voltage``,
    ``current`` and ``reader_data``.
    """
    task = _reading_task(
        targets,
        recording_reader,
        efel_settings,
        RunOptions(),
        rheobase=False,
        extract_all_recordings=True,
        drop=True,
    )
    return [task(cell_definition) for cell_definition in files_metadata.items()]


def _extract_with_targets(
    files_metadata: FilesMetadata,
    targets: list[dict[str, Any]],
    protocols_rheobase: list[str] | None,
    absolute_amplitude: bool,
    recording_reader: Any,
    map_function: Mapper,
    low_memory_mode: bool,
    protocol_mode: str,
    efel_settings: Settings,
    rheobase_strategy: str = "absolute",
    rheobase_settings: Settings = None,
    options: RunOptions | None = None,
) -> tuple[list[Any], list[Any]]:
    """Targets branch (spec §2.12): per cell read, rheobase, features; then grouping.

    BluePyEfe's numbers, computed in the order of
    :mod:`efex_gui.core.extraction.cell_task` (features only on the recordings a target
    window holds, unless ``options.extract_all_recordings``). ``low_memory_mode`` runs
    the cells one by one in this process (BluePyEfe ignores ``map_function`` there too)
    and drops their traces.
    """
    options = options or RunOptions()
    task = _reading_task(
        targets,
        recording_reader,
        efel_settings,
        options,
        protocols_rheobase=protocols_rheobase,
        rheobase_strategy=rheobase_strategy,
        rheobase_settings=rheobase_settings,
        rheobase_overrides=options.rheobase_overrides,
        absolute_amplitude=absolute_amplitude,
        extract_all_recordings=options.extract_all_recordings,
        drop=low_memory_mode or options.private_cells,
        keep_spikecount=not options.private_cells,
        store=options.feature_store,
    )
    items = list(files_metadata.items())
    cells = _mapped(
        map if low_memory_mode else map_function,
        task,
        items,
        options.cell_progress(len(items)),
        options.cancel,
    )
    grouping = GroupingSettings(
        absolute_amplitude,
        protocol_mode=protocol_mode,
        efel_settings=efel_settings,
        strict_targets=options.strict_targets,
    )
    protocols = group_by_target(cells, targets, grouping)
    return cells, protocols


def _reading_task(
    targets: list[dict[str, Any]],
    recording_reader: Any,
    efel_settings: Settings,
    options: RunOptions,
    **fields: Any,
) -> CellTask:
    """Prepare ``targets``; return a task that reads each cell and computes them.

    ``fields`` are the task's other attributes.
    """
    prepare_targets(targets, options.strict_targets)
    return CellTask.at_targets(
        targets,
        read=cell_reader(recording_reader, efel_settings, options),
        efel_settings=efel_settings,
        **fields,
    )


def _fresh(auto_targets: list[AutoTarget]) -> list[AutoTarget]:
    fresh = copy.deepcopy(auto_targets)
    for auto_target in fresh:
        auto_target.reset()
    return fresh


def auto_rheobase_task(
    protocols_rheobase: list[str] | None,
    rheobase_strategy: str,
    rheobase_settings: Settings,
    **fields: Any,
) -> CellTask:
    """Return the auto branch's first pass: each cell's rheobase (read by ``fields``).

    With the auto branch's strategy settings (``run_rheobase_settings``).
    """
    return CellTask(
        protocols_rheobase=protocols_rheobase,
        rheobase_strategy=rheobase_strategy,
        rheobase_settings=run_rheobase_settings(
            rheobase_strategy, rheobase_settings, auto=True
        ),
        **fields,
    )


def choose_auto_targets(
    cells: list[Any], auto_targets: list[AutoTarget], strict_targets: bool
) -> list[dict[str, Any]] | None:
    """Let the auto targets choose protocols and amplitudes from the cells' sweeps.

    Returns
    -------
    list of dict or None
        The prepared targets; None (with a warning) when no cell has a rheobase.
    """
    if not any(cell.rheobase for cell in cells):
        logger.warning("No cells with valid rheobase: the output will be empty.")
        return None
    recordings = [recording for cell in cells for recording in cell.recordings]
    targets: list[dict[str, Any]] = []
    for auto_target in auto_targets:
        auto_target.select_ecode_and_amplitude(recordings)
        targets += auto_target.generate_targets()
    prepare_targets(targets, strict_targets)
    return targets


def _extract_auto_targets(
    files_metadata: FilesMetadata,
    protocols_rheobase: list[str] | None,
    recording_reader: Any,
    map_function: Mapper,
    protocol_mode: str,
    efel_settings: Settings,
    auto_targets: list[AutoTarget] | None = None,
    rheobase_strategy: str = "flush",
    rheobase_settings: Settings = None,
    options: RunOptions | None = None,
) -> tuple[list[Any], list[Any], list[dict[str, Any]]]:
    """Auto branch: rheobase first, then targets chosen from the recordings (§2.12)."""
    options = options or RunOptions()
    if auto_targets is None:
        auto_targets = default_auto_targets()
    elif options.fresh_auto_targets:
        auto_targets = _fresh(auto_targets)
    items = list(files_metadata.items())
    first = auto_rheobase_task(
        protocols_rheobase,
        rheobase_strategy,
        rheobase_settings,
        read=cell_reader(recording_reader, efel_settings, options),
        rheobase_overrides=options.rheobase_overrides,
        store=options.feature_store,
    )
    cells = options.map_stage(map_function, first, items, 0)
    targets = choose_auto_targets(cells, auto_targets, options.strict_targets)
    if targets is None:
        return cells, [], []
    second = CellTask.at_targets(
        targets,
        efel_settings=efel_settings,
        extract_all_recordings=options.extract_all_recordings,
        drop=options.private_cells,
        keep_spikecount=False,
        store=options.feature_store,
    )
    cells = options.map_stage(map_function, second, cells, 1)
    grouping = GroupingSettings(
        protocol_mode=protocol_mode,
        efel_settings=efel_settings,
        strict_targets=options.strict_targets,
    )
    protocols = group_by_target(cells, targets, grouping)
    return cells, protocols, targets
