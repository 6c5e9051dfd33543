"""Stages 1-2 of the pipeline: reading recordings and computing their features.

:func:`read_recordings` and :func:`extract_efeatures_at_targets` are BluePyEfe's (spec
§2.2-2.3), with its positional parameters and defaults, plus efex_gui's
:class:`~efex_gui.core.extraction.request.RunExtras` (``options``), of which they use:

* ``progress`` — ``callable(done, total)``, called in the calling process;
* ``cancel`` — an object with ``is_set()``; checked between cells, raises
  :class:`~efex_gui.core.errors.Cancelled`;
* ``strict`` — by default a file that cannot be read (any :class:`EfexError` but an
  unknown eCode) is skipped with a warning and listed in ``cell.skipped_files`` as
  ``(path, reason)``; ``strict=True`` raises as BluePyEfe does.

Parallelism is across cells through ``map_function`` (``map`` or e.g.
``multiprocessing.Pool(2).map``); the per-cell workers are module-level functions so
cells can be pickled to and from worker processes.
:mod:`efex_gui.core.extraction.pipeline` chains the stages.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import TYPE_CHECKING, Any

from efex_gui.core.errors import ECodeError, EfexError, TargetError
from efex_gui.core.extraction.feature_cache import extract_cell_features, target_groups
from efex_gui.core.extraction.grouping import validate_targets
from efex_gui.core.extraction.request import NO_EXTRAS, RunExtras
from efex_gui.core.progress import Progress as _Progress
from efex_gui.core.progress import check_cancel
from efex_gui.core.recordings.cell import Cell
from efex_gui.core.rheobase.strategies import (
    PRESET_PROTOCOLS_RHEOBASE,
    compute_rheobase,
)
from efex_gui.core.session.exclusions import reader_for_cell

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence

logger = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_EFEL_SETTINGS",
    "PRESET_PROTOCOLS_RHEOBASE",
    "check_cancel",
    "extract_efeatures_at_targets",
    "prepare_targets",
    "read_entry",
    "read_plan",
    "read_recordings",
    "skipped_files",
]

DEFAULT_EFEL_SETTINGS: dict[str, Any] = {
    "strict_stiminterval": True,
    "Threshold": -20.0,
    "interp_step": 0.025,
}

Progress = _Progress | None


def _report(progress: Progress, done: int, total: int) -> None:
    if progress is not None:
        progress(done, total)


def _mapped(
    map_function: Callable[..., Iterable[Any]] | None,
    func: Callable[[Any], Any],
    items: list[Any],
    progress: Progress,
    cancel: Any,
) -> list[Any]:
    """``list(map_function(func, items))`` with progress and cancellation per item."""
    check_cancel(cancel)
    _report(progress, 0, len(items))
    results = []
    # None is accepted as the built-in map (BluePyEfe calls None and fails).
    for done, result in enumerate((map_function or map)(func, items), start=1):
        results.append(result)
        _report(progress, done, len(items))
        check_cancel(cancel)
    return results


def _file_label(config: Mapping[str, Any]) -> str:
    return str(
        config.get("filepath")
        or config.get("v_file")
        or config.get("i_file")
        or "<no file>"
    )


def read_entry(
    cell: Any,
    protocol_name: str,
    config: dict[str, Any],
    recording_reader: Any,
    efel_settings: Any,
) -> None:
    """Read one files_metadata entry into ``cell``, skipping it if it cannot be read.

    The reading step of every extraction: :func:`_create_cell` reads a cell's
    entries with it, the GUI's incremental runner the entries it has not cached.
    A file that cannot be read (an :class:`EfexError` but an unknown eCode) leaves
    no partial recordings, is listed in ``cell.skipped_files`` and logged.

    Parameters
    ----------
    cell : Cell
        Gets the entry's recordings (or its ``skipped_files`` line).
    protocol_name : str
        The protocol key.
    config : dict
        The entry's metadata (gets a ``protocol_name`` key).
    recording_reader : callable, optional
        The user's reader.
    efel_settings : mapping, optional
        Global efel settings (the deferred spike count).
    """
    before = len(cell.recordings)
    try:
        cell.read_recordings([config], protocol_name, recording_reader, efel_settings)
    except ECodeError:
        raise
    except EfexError as exc:
        del cell.recordings[before:]
        cell.skipped_files.append((_file_label(config), str(exc)))
        logger.warning(
            "Cell %s, protocol %s: skipped %s: %s",
            cell.name,
            protocol_name,
            _file_label(config),
            exc,
        )


def _create_cell(
    cell_definition: tuple[str, Mapping[str, list[dict[str, Any]]]],
    recording_reader: Any = None,
    efel_settings: Mapping[str, Any] | None = None,
    strict: bool = False,
    consensus_timing: bool = False,
) -> Any:
    """Read every file of one cell (module-level: picklable for process pools).

    The cell is read in one :func:`~efex_gui.core.readers.shared_reads` scope
    planned with its entries (:func:`read_plan`): a file listed under several
    protocols is read once, and kept no longer than its last read. With
    ``consensus_timing`` each Step protocol's sweeps share their consensus window
    (:func:`efex_gui.core.recordings.timing_consensus.apply_consensus`), and the
    entries of a Ramp protocol without a window get theirs from their currents
    first (:func:`~efex_gui.core.session.protocol_reading.cell_ramp_windows`: a
    folder import's), the files it reads kept for their read with the window.
    """
    from efex_gui.core.readers import shared_reads  # h5py, neo, igor2: when reading

    cell_name, protocols = cell_definition
    # a trace excluded in another cell reading the same file stays in this one
    recording_reader = reader_for_cell(recording_reader, cell_name)
    cell = Cell(name=cell_name)
    cell.skipped_files = []
    with shared_reads() as shared:
        if consensus_timing:
            from efex_gui.core.session.protocol_reading import cell_ramp_windows

            with shared.keeping():
                protocols = cell_ramp_windows(cell_name, protocols, recording_reader)
        shared.expect(read_plan(protocols.items()))
        for protocol_name, protocol_data in protocols.items():
            if strict:
                cell.read_recordings(
                    protocol_data, protocol_name, recording_reader, efel_settings
                )
                continue
            for config in protocol_data:
                read_entry(cell, protocol_name, config, recording_reader, efel_settings)
    if consensus_timing:
        from efex_gui.core.recordings.timing_consensus import apply_consensus

        timings = apply_consensus(cell_name, cell.recordings, efel_settings)
        cell.protocol_timings = timings
    return cell


def read_plan(
    entries: Iterable[tuple[str, Iterable[Mapping[str, Any]]]],
) -> list[dict[str, Any]]:
    """Return the metadata a cell's entries are read with, for ``SharedReads.expect``.

    Parameters
    ----------
    entries : iterable of (str, iterable of dict)
        ``(protocol name, its files_metadata entries)``, in reading order.

    Returns
    -------
    list of dict
        Each entry as :meth:`~efex_gui.core.recordings.cell.Cell.read_recordings`
        reads it (with its ``protocol_name``).
    """
    return [
        {"protocol_name": protocol, **config}
        for protocol, configs in entries
        for config in configs
    ]


def cell_reader(
    recording_reader: Callable[..., Any] | None,
    efel_settings: Mapping[str, Any] | None,
    options: RunExtras = NO_EXTRAS,
) -> Callable[[tuple[str, Mapping[str, Any]]], Any]:
    """Return the picklable function that reads one cell ``(name, protocols)``.

    :func:`_create_cell` with the run's ``strict`` and ``consensus_timing``.
    """
    return partial(
        _create_cell,
        recording_reader=recording_reader,
        efel_settings=efel_settings,
        strict=options.strict,
        consensus_timing=options.consensus_timing,
    )


def read_recordings(
    files_metadata: Mapping[str, Mapping[str, list[dict[str, Any]]]],
    recording_reader: Callable[..., Any] | None = None,
    map_function: Callable[..., Iterable[Any]] | None = map,
    efel_settings: Mapping[str, Any] | None = None,
    options: RunExtras = NO_EXTRAS,
) -> list[Any]:
    """Read the recordings of every cell (spec §2.2).

    Parameters
    ----------
    files_metadata : dict
        ``{cell_id: {protocol_name: [file_metadata, ...]}}``.
    recording_reader : callable, optional
        Custom reader ``reader(file_metadata) -> list of trace dicts``.
    map_function : callable
        ``map``-like function; parallelism is across cells.
    efel_settings : dict, optional
        efel settings for the spike count done while reading (feeds the rheobase).
    options : RunExtras
        Its ``progress``, ``cancel``, ``strict`` (see the module docstring) and
        ``consensus_timing`` (each Step protocol's sweeps share their consensus
        window: not BluePyEfe's per-sweep detection; a Ramp protocol's entries
        without a window get one from their currents; docs/compatibility.md).

    Returns
    -------
    list of Cell
        In ``files_metadata`` order.
    """
    func = cell_reader(recording_reader, efel_settings, options)
    items = list(files_metadata.items())
    return _mapped(map_function, func, items, options.progress, options.cancel)


def skipped_files(cells: Iterable[Any]) -> list[tuple[str, str, str]]:
    """Return ``(cell, path, reason)`` for every file skipped while reading."""
    return [
        (cell.name, path, reason)
        for cell in cells
        for path, reason in getattr(cell, "skipped_files", [])
    ]


def _check_name_collisions(
    groups: list[tuple[dict[str, Any], str, list[str], list[str]]], strict: bool
) -> None:
    """§9.1-8: one output name computed with two different settings on a protocol."""
    owner: dict[tuple[str, str], dict[str, Any]] = {}
    for settings, protocol, _, names in groups:
        for name in names:
            first = owner.setdefault((protocol, name), settings)
            if first is settings or first == settings:
                continue
            message = (
                f"Feature {name!r} of protocol {protocol!r} is requested with "
                f"different efel settings ({first} and {settings}): the values of the "
                "last settings are reported for both. Give them distinct "
                "'efeature_name's."
            )
            if strict:
                raise TargetError(message)
            logger.warning(message)


def _extract_efeatures_cell(
    cell: Any,
    targets: Sequence[Mapping[str, Any]],
    efel_settings: Mapping[str, Any] | None = None,
) -> Any:
    """Compute the targeted features on one cell (module-level: picklable).

    BluePyEfe's: on every recording of a targeted protocol.
    """
    return extract_cell_features(cell, target_groups(targets), efel_settings)


def prepare_targets(targets: list[dict[str, Any]], strict_targets: bool) -> None:
    """Validate targets and complete them in place as the extraction uses them.

    Adds ``location="soma"`` and ``efel_settings={}`` where missing, then checks that
    no output name of a protocol is requested with two different settings.

    Parameters
    ----------
    targets : list of dict
        The target dicts (mutated).
    strict_targets : bool
        Raise :class:`TargetError` on such a name collision instead of warning.

    Raises
    ------
    TargetError
        An impossible target, or a collision with ``strict_targets``.
    """
    validate_targets(targets)
    for target in targets:
        if "location" not in target:
            target["location"] = "soma"
        if "efel_settings" not in target:
            target["efel_settings"] = {}
    _check_name_collisions(target_groups(targets), strict_targets)


#: the former private name, kept for callers that used it
_prepare_targets = prepare_targets


def extract_efeatures_at_targets(
    cells: list[Any],
    targets: list[dict[str, Any]],
    map_function: Callable[..., Iterable[Any]] | None = map,
    efel_settings: Mapping[str, Any] | None = None,
    options: RunExtras = NO_EXTRAS,
) -> list[Any]:
    """Compute the targets' features on every recording of their protocols (§2.3).

    Parameters
    ----------
    cells : list of Cell
        The cells read by :func:`read_recordings`.
    targets : list of dict
        Target dicts; ``location`` and ``efel_settings`` are added when missing.
    map_function : callable
        ``map``-like function, across cells.
    efel_settings : dict, optional
        Global efel settings (target-level settings win).
    options : RunExtras
        Its ``progress``, ``cancel`` (see the module docstring) and
        ``strict_targets``: raise :class:`TargetError` when one output name of a
        protocol is requested with two different settings (BluePyEfe overwrites
        silently, §9.1-8).

    Returns
    -------
    list of Cell
        The cells with ``recording.efeatures`` filled (new objects with a process pool).
    """
    prepare_targets(targets, options.strict_targets)
    func = partial(
        _extract_efeatures_cell, targets=targets, efel_settings=efel_settings
    )
    return _mapped(map_function, func, list(cells), options.progress, options.cancel)


def rheobase_inputs(config: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Return a run's efel settings and rheobase protocols (defaults when None).

    Parameters
    ----------
    config : Mapping
        ``extract_efeatures`` keyword arguments.

    Returns
    -------
    tuple of (dict, list of str)
        ``efel_settings`` (else :data:`DEFAULT_EFEL_SETTINGS`) and
        ``protocols_rheobase`` (else :data:`PRESET_PROTOCOLS_RHEOBASE`).
    """
    efel_settings = config.get("efel_settings")
    if efel_settings is None:
        efel_settings = dict(DEFAULT_EFEL_SETTINGS)
    protocols = config.get("protocols_rheobase")
    if protocols is None:
        protocols = list(PRESET_PROTOCOLS_RHEOBASE)
    return efel_settings, protocols


def read_with_rheobase(
    config: Mapping[str, Any],
    map_function: Callable[..., Iterable[Any]] | None = map,
    *,
    progress: Progress = None,
    strict: bool = False,
) -> tuple[list[Any], list[str]]:
    """Read a run's recordings and give each cell its rheobase, as the run would.

    Parameters
    ----------
    config : Mapping
        ``extract_efeatures`` keyword arguments: ``files_metadata`` and, optional,
        ``efel_settings``, ``protocols_rheobase``, ``rheobase_strategy``,
        ``rheobase_settings``, ``rheobase_overrides``, ``recording_reader`` and
        ``consensus_timing`` (BluePyEfe's defaults when absent or None).
    map_function : callable, optional
        How the cells are read (``map`` by default).
    progress : Progress, optional
        Told as each cell is read.
    strict : bool
        Refuse files that cannot be read instead of skipping them.

    Returns
    -------
    tuple of (list of Cell, list of str)
        The cells with their rheobase, and the rheobase protocols used.
    """
    efel_settings, protocols = rheobase_inputs(config)
    options = RunExtras(
        progress=progress,
        strict=strict,
        consensus_timing=bool(config.get("consensus_timing", False)),
    )
    cells = read_recordings(
        config["files_metadata"],
        config.get("recording_reader"),
        map_function,
        efel_settings,
        options,
    )
    compute_rheobase(
        cells,
        protocols,
        config.get("rheobase_strategy", "absolute"),
        config.get("rheobase_settings"),
        rheobase_overrides=config.get("rheobase_overrides"),
    )
    return cells, protocols
