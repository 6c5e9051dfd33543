"""The whole extraction, as BluePyEfe's ``extract`` module (spec §1-2).

:func:`extract_efeatures` validates its arguments, then takes the **targets branch**
(read → extract features → rheobase → group) or the **auto branch** (read → rheobase →
choose targets from the recordings → extract → group), and builds, writes, pickles and
plots the outputs. The stages live in :mod:`efex_gui.core.extraction.read_and_extract`
(reading, features), :mod:`efex_gui.core.rheobase.strategies`,
:mod:`efex_gui.core.extraction.grouping` and the two branches in
:mod:`efex_gui.core.extraction.run_branches`. BluePyEfe's signatures are spelled in the
façade :mod:`efex_gui.extract` only: here its ``create_feature_protocol_files`` is
:func:`~efex_gui.core.extraction.grouping.build_outputs` with an
:class:`~efex_gui.core.extraction.grouping.OutputSettings`, its
``extract_efeatures_per_cell`` :func:`per_cell_outputs` and its ``group_efeatures``
:func:`~efex_gui.core.extraction.grouping.group_by_target` with a
:class:`~efex_gui.core.extraction.grouping.GroupingSettings`.

Besides BluePyEfe's arguments, :func:`extract_efeatures` takes keyword-only ones:
``progress`` / ``cancel`` (see :mod:`efex_gui.core.extraction.read_and_extract`),
``strict`` (raise on an unreadable file instead of skipping it), and the compatibility
switches of ``docs/compatibility.md`` (``strict_targets``, ``nan_as_null``,
``per_cell_consistent``, ``fresh_auto_targets``), plus ``provenance`` and ``exclusions``
for the sidecar.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import fields, replace
from pathlib import Path
from typing import Any, cast

from efex_gui.core.errors import SettingsError, TargetError
from efex_gui.core.export.outputs import (
    cells_pickle_output_path,
    protocols_pickle_output_path,
    write_pickles,
    write_provenance,
)
from efex_gui.core.export.recipe import ARGUMENTS as RECIPE_ARGUMENTS
from efex_gui.core.export.recipe import build_recipe, recording_metadata
from efex_gui.core.extraction.argument_checks import (
    check_run_settings,
    check_target_values,
)
from efex_gui.core.extraction.cell_task import release_traces
from efex_gui.core.extraction.grouping import (
    GroupingSettings,
    OutputSettings,
    build_outputs,
    group_by_target,
    output_folder,
    validate_targets,
)
from efex_gui.core.extraction.protocol import check_protocol_mode
from efex_gui.core.extraction.read_and_extract import (
    DEFAULT_EFEL_SETTINGS,
    PRESET_PROTOCOLS_RHEOBASE,
    extract_efeatures_at_targets,
    read_recordings,
    skipped_files,
)
from efex_gui.core.extraction.request import (
    NO_EXTRAS,
    ExtractionRequest,
    Plotter,
    RunExtras,
    split_arguments,
)
from efex_gui.core.extraction.run_branches import (
    FilesMetadata,
    Mapper,
    RunOptions,
    Settings,
    _extract_auto_targets,
    _extract_with_targets,
    _read_extract,
    _read_extract_low_memory,
)
from efex_gui.core.importing.legacy_formats import convert_legacy_targets
from efex_gui.core.recordings.checks import collect_warnings
from efex_gui.core.rheobase.strategies import compute_rheobase

logger = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_EFEL_SETTINGS",
    "PRESET_PROTOCOLS_RHEOBASE",
    "ExtractionRequest",
    "Plotter",
    "RunExtras",
    "RunOptions",
    # BluePyEfe's private orchestration functions, importable from here as there
    "_extract_auto_targets",
    "_extract_with_targets",
    "_read_extract",
    "_read_extract_low_memory",
    "cells_pickle_output_path",
    "compute_rheobase",
    "convert_legacy_targets",
    "extract_efeatures",
    "extract_efeatures_at_targets",
    "per_cell_outputs",
    "protocols_pickle_output_path",
    "read_recordings",
    "run_extraction",
]


def per_cell_outputs(
    files_metadata: FilesMetadata,
    cells: list[Any],
    output_directory: str | Path,
    targets: list[dict[str, Any]],
    grouping: GroupingSettings,
    output: OutputSettings,
    write_files: bool = True,
) -> None:
    """Write each cell's own features, protocols and currents (spec §2.8).

    BluePyEfe's ``extract_efeatures_per_cell`` (the façade keeps its signature), which
    groups without the global efel settings and in relative mode (§9.1-13); a
    ``grouping`` with the run's settings makes the per-cell files consistent with the
    run that computed the values.
    """
    for cell_name in files_metadata:
        for cell in cells:
            if cell.name != cell_name:
                continue
            protocols = group_by_target([cell], targets, grouping)
            folder = Path(output_directory) / cell_name
            build_outputs([cell], protocols, output, folder if write_files else None)


def checked_arguments(
    files_metadata: FilesMetadata,
    targets: Any,
    auto_targets: Any,
    efel_settings: Settings,
    protocols_rheobase: list[str] | None,
    absolute_amplitude: bool,
    low_memory_mode: bool,
    plot: bool,
    map_function: Mapper,
    protocol_mode: str,
) -> tuple[Any, Any, Any]:
    """Validate and default the arguments as BluePyEfe does (spec §2.1 steps 1-7).

    Parameters
    ----------
    files_metadata, targets, auto_targets, efel_settings, protocols_rheobase
        As :func:`extract_efeatures`.
    absolute_amplitude, low_memory_mode, plot, map_function, protocol_mode
        As :func:`extract_efeatures`.

    Returns
    -------
    tuple
        ``(targets, efel_settings, protocols_rheobase)``: legacy targets converted,
        defaults filled in.

    Raises
    ------
    SettingsError, TargetError
        Impossible combinations, naming the argument or target.
    """
    if not files_metadata:
        raise SettingsError("Argument 'files_metadata' is empty")
    if efel_settings is None:
        logger.warning("efel_settings is None: using %s.", DEFAULT_EFEL_SETTINGS)
        efel_settings = DEFAULT_EFEL_SETTINGS.copy()
    if protocols_rheobase is None and not absolute_amplitude:
        logger.warning(
            "protocols_rheobase is None: using %s.", PRESET_PROTOCOLS_RHEOBASE
        )
        protocols_rheobase = PRESET_PROTOCOLS_RHEOBASE.copy()
    if low_memory_mode and map_function not in (map, None):
        logger.warning(
            "low_memory_mode is not compatible with map_function: "
            "the map function is ignored."
        )
    if low_memory_mode and plot:
        raise SettingsError("plot cannot be used in low_memory_mode mode.")
    if isinstance(targets, dict):
        logger.warning("Targets given in the legacy (dict) format: converting them.")
        targets = convert_legacy_targets(targets)
    if targets is not None and auto_targets is not None:
        raise SettingsError("Cannot specify both targets and auto_targets.")
    if absolute_amplitude and targets is None:
        raise TargetError(
            "absolute_amplitude=True needs explicit targets: automatic "
            "targets exist only for amplitudes relative to the rheobase."
        )
    if targets is not None:
        validate_targets(targets)  # before reading: fail fast, naming the target
        check_target_values(targets)
    check_protocol_mode(protocol_mode)
    return targets, efel_settings, protocols_rheobase


#: the former private name, kept for callers that used it
_checked_arguments = checked_arguments


def extract_efeatures(
    output_directory: str | Path | None,
    files_metadata: FilesMetadata,
    targets: list[dict[str, Any]] | dict[str, Any] | None = None,
    **kwargs: Any,
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Extract e-features: BluePyEfe's ``extract_efeatures`` (spec §2.1), by keyword.

    The keyword arguments are the fields of
    :class:`~efex_gui.core.extraction.request.ExtractionRequest` (BluePyEfe's
    parameters and defaults) and of
    :class:`~efex_gui.core.extraction.request.RunExtras` (efex_gui's additions); see
    :func:`run_extraction`.
    """
    request, extras = split_arguments({"targets": targets, **kwargs})
    return run_extraction(output_directory, files_metadata, request, extras)


def run_extraction(
    output_directory: str | Path | None,
    files_metadata: FilesMetadata,
    request: ExtractionRequest,
    extras: RunExtras = NO_EXTRAS,
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Run an extraction.

    Check the arguments, take the targets or the auto branch, then build, write,
    pickle, plot and record the outputs.

    Returns
    -------
    tuple of dict
        ``(efeatures, protocol_definitions, current)``.
    """
    r, e = request, extras
    given = _given_arguments({f.name: getattr(r, f.name) for f in fields(r)})
    if r.plot and e.plotter is None:
        raise SettingsError(
            "plot=True needs a plotter (the core draws nothing): call "
            "efex_gui.extract.extract_efeatures, which passes efex_gui.report's."
        )
    options = RunOptions(
        **{
            **vars(e),
            "extract_all_recordings": e.extract_all_recordings or r.plot,
            "rheobase_overrides": dict(e.rheobase_overrides or {}),
        },
        private_cells=not (r.plot or r.pickle_cells),
    )
    targets, efel_settings, protocols_rheobase = checked_arguments(
        files_metadata,
        r.targets,
        r.auto_targets,
        r.efel_settings,
        r.protocols_rheobase,
        r.absolute_amplitude,
        r.low_memory_mode,
        r.plot,
        r.map_function,
        r.protocol_mode,
    )
    check_run_settings(  # the rheobase settings matter in relative mode only
        threshold_nvalue_save=r.threshold_nvalue_save,
        default_std_value=r.default_std_value,
        efel_settings=efel_settings,
        rheobase_settings=r.rheobase_settings,
        rheobase_strategy=None if r.absolute_amplitude else r.rheobase_strategy,
    )
    r = replace(
        r,
        targets=targets,
        efel_settings=efel_settings,
        protocols_rheobase=protocols_rheobase,
    )
    if not r.absolute_amplitude and (targets is None or r.auto_targets is not None):
        cells, protocols, targets = _extract_auto_targets(
            files_metadata,
            protocols_rheobase,
            r.recording_reader,
            r.map_function,
            r.protocol_mode,
            efel_settings,
            r.auto_targets,
            r.rheobase_strategy,
            r.rheobase_settings,
            options,
        )
        if r.low_memory_mode:  # §9.1-15: BluePyEfe ignores it; numbers unchanged
            for cell in cells:
                release_traces(cell, keep_spikecount=not options.private_cells)
    else:
        # checked_arguments refused a targets branch without targets
        targets = cast("list[dict[str, Any]]", targets)
        cells, protocols = _extract_with_targets(
            files_metadata,
            targets,
            protocols_rheobase,
            r.absolute_amplitude,
            r.recording_reader,
            r.map_function,
            r.low_memory_mode,
            r.protocol_mode,
            efel_settings,
            r.rheobase_strategy,
            r.rheobase_settings,
            options,
        )
    output = OutputSettings(
        threshold_nvalue_save=r.threshold_nvalue_save,
        default_std_value=r.default_std_value,
        nan_as_null=options.nan_as_null,
    )
    outputs = build_outputs(
        cells, protocols, output, output_folder(output_directory, r.write_files)
    )
    _write_outputs(
        output_directory,
        files_metadata,
        cells,
        protocols,
        replace(r, targets=targets),
        e,
        options,
        given,
    )
    _finish(outputs, options, len(files_metadata))
    return outputs


def _given_arguments(arguments: dict[str, Any]) -> dict[str, Any]:
    """Return the arguments as the caller gave them (no defaults), for the recipe."""
    keep = {"targets", "auto_targets", *RECIPE_ARGUMENTS}
    return copy.deepcopy({k: v for k, v in arguments.items() if k in keep})


def _write_outputs(
    output_directory: str | Path | None,
    files_metadata: FilesMetadata,
    cells: list[Any],
    protocols: list[Any],
    r: ExtractionRequest,
    e: RunExtras,
    options: RunOptions,
    given: dict[str, Any],
) -> None:
    """Write the pickles, plots, per-cell outputs and provenance sidecar asked for.

    The sidecar holds the recipe: ``given`` is the arguments as the caller gave them.
    """
    settings = {
        "efel_settings": r.efel_settings,
        "protocols_rheobase": r.protocols_rheobase,
        "rheobase_strategy": r.rheobase_strategy,
        "rheobase_settings": r.rheobase_settings,
        "absolute_amplitude": r.absolute_amplitude,
        "protocol_mode": r.protocol_mode,
        "threshold_nvalue_save": r.threshold_nvalue_save,
        "default_std_value": r.default_std_value,
        "low_memory_mode": r.low_memory_mode,
    }
    if e.rheobase_overrides:
        settings["rheobase_overrides"] = dict(e.rheobase_overrides)
    targets = cast("list[dict[str, Any]]", r.targets)
    if r.pickle_cells:
        write_pickles(cells, protocols, _folder(output_directory))
    if r.plot and e.plotter is not None:
        e.plotter(cells, protocols, output_directory, r.map_function, r.efel_settings)
    if r.extract_per_cell and r.write_files:
        _per_cell(
            files_metadata,
            cells,
            _folder(output_directory),
            targets,
            settings,
            options,
        )
    if r.write_files and e.provenance:
        recipe = build_recipe(
            files_metadata,
            given,
            {
                "nan_as_null": e.nan_as_null,
                "per_cell_consistent": e.per_cell_consistent,
                "strict_targets": e.strict_targets,
                "consensus_timing": e.consensus_timing,
                "rheobase_overrides": dict(e.rheobase_overrides or {}),
            },
            r.recording_reader,
        )
        write_provenance(
            _folder(output_directory),
            settings=settings,
            targets=targets,
            files_metadata=files_metadata,
            exclusions=e.exclusions,
            switches=options.switches(),
            skipped_files=skipped_files(cells),
            warnings=collect_warnings(cells),
            recipe=recipe,
            recordings=recording_metadata(cells, recipe["data_root"]),
        )


def _folder(output_directory: str | Path | None) -> str | Path:
    """Return the output folder, refused when None (nothing can be written there)."""
    if output_directory is None:
        raise SettingsError(
            "output_directory is None: give the folder the files are written to."
        )
    return output_directory


def _per_cell(
    files_metadata: FilesMetadata,
    cells: list[Any],
    output_directory: str | Path,
    targets: list[dict[str, Any]],
    settings: dict[str, Any],
    options: RunOptions,
) -> None:
    """Per-cell outputs: BluePyEfe's (§2.8) or, with the switch, consistent ones."""
    consistent = options.per_cell_consistent
    grouping = GroupingSettings(
        absolute_amplitude=settings["absolute_amplitude"] if consistent else False,
        protocol_mode=settings["protocol_mode"],
        efel_settings=settings["efel_settings"] if consistent else None,
    )
    output = OutputSettings(
        threshold_nvalue_save=settings["threshold_nvalue_save"],
        default_std_value=settings["default_std_value"] if consistent else 1e-3,
        nan_as_null=options.nan_as_null,
    )
    per_cell_outputs(files_metadata, cells, output_directory, targets, grouping, output)


def _finish(outputs: tuple[Any, ...], options: RunOptions, n_cells: int) -> None:
    if not outputs[0] or not outputs[1]:
        logger.warning(
            "The output of the extraction is empty. Something went wrong. "
            "Please check that your targets, files_metadata and "
            "protocols_rheobase match each other."
        )
    if options.progress is not None:
        options.progress(2 * n_cells + 1, 2 * n_cells + 1)
