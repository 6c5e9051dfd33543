"""Efeature extraction functions: a drop-in for ``bluepyefe.extract``.

Every public function of ``bluepyefe.extract`` (BluePyEfe 2.3.x) is here with the same
name, parameters, defaults and return values; on the same inputs the numbers are the
same (within 1e-9 relative). Replace ``from bluepyefe.extract import ...`` with
``from efex_gui.extract import ...``.

The functions call :mod:`efex_gui.core.extraction.pipeline`, the same code the ``efex``
CLI and the GUI run. Differences from BluePyEfe are deliberate and listed, with the test
that pins each one, in ``docs/compatibility.md`` (e.g. an unreadable file is skipped
with a warning instead of stopping the run; ``protocol_mode="lnmc"`` raises a clear
error before reading). Importing this module never imports Qt or matplotlib;
``plot=True`` loads matplotlib on demand.

Every public name of ``bluepyefe.extract`` 2.3.63 is here, including :class:`Cell`, the
four ``compute_rheobase_*`` strategies and the two ``plot_all_recordings*`` functions
(``tests/test_extract.py`` compares the list with BluePyEfe's module). Also here:
:func:`default_auto_targets`, :class:`AutoTarget`, :func:`translate_legacy_config`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from efex_gui.core.export.outputs import build_current_dict, save_outputs
from efex_gui.core.extraction import pipeline as _pipeline
from efex_gui.core.extraction.grouping import (
    GroupingSettings,
    OutputSettings,
    build_outputs,
    build_protocols,
    group_by_target,
    output_folder,
)
from efex_gui.core.extraction.protocol import Protocol
from efex_gui.core.extraction.read_and_extract import (
    DEFAULT_EFEL_SETTINGS,
    PRESET_PROTOCOLS_RHEOBASE,
)
from efex_gui.core.extraction.request import ExtractionRequest, Plotter, RunExtras
from efex_gui.core.importing.legacy_formats import translate_legacy_config
from efex_gui.core.recordings.cell import Cell
from efex_gui.core.rheobase.strategies import (
    compute_rheobase_absolute,
    compute_rheobase_flush,
    compute_rheobase_interpolation,
    compute_rheobase_majority_bin,
)
from efex_gui.core.targets.auto import AutoTarget, default_auto_targets
from efex_gui.core.targets.target import EFeatureTarget

__all__ = [
    "DEFAULT_EFEL_SETTINGS",
    "PRESET_PROTOCOLS_RHEOBASE",
    "AutoTarget",
    "Cell",
    "EFeatureTarget",
    "Protocol",
    "cells_pickle_output_path",
    "compute_rheobase",
    "compute_rheobase_absolute",
    "compute_rheobase_flush",
    "compute_rheobase_interpolation",
    "compute_rheobase_majority_bin",
    "convert_legacy_targets",
    "create_feature_protocol_files",
    "default_auto_targets",
    "extract_efeatures",
    "extract_efeatures_at_targets",
    "extract_efeatures_per_cell",
    "group_efeatures",
    "plot_all_recordings",
    "plot_all_recordings_efeatures",
    "plot_recordings",
    "protocols_pickle_output_path",
    "read_recordings",
    "translate_legacy_config",
]

logger = logging.getLogger(__name__)

FilesMetadata = Mapping[str, Mapping[str, list[dict[str, Any]]]]
Mapper = Callable[..., Iterable[Any]] | None
Reader = Callable[[dict[str, Any]], list[dict[str, Any]]] | None
Settings = Mapping[str, Any] | None


def cells_pickle_output_path(output_directory: str | Path) -> Path:
    """Return the cells.pkl output file path.

    Parameters
    ----------
    output_directory : Path
        The output directory.
    """
    return _pipeline.cells_pickle_output_path(output_directory)


def protocols_pickle_output_path(output_directory: str | Path) -> Path:
    """Return the protocols.pkl output file path.

    Parameters
    ----------
    output_directory : Path
        The output directory.
    """
    return _pipeline.protocols_pickle_output_path(output_directory)


def read_recordings(
    files_metadata: FilesMetadata,
    recording_reader: Reader = None,
    map_function: Mapper = map,
    efel_settings: Settings = None,
) -> list[Any]:
    """Read recordings from a group of files, identified by cell id and protocol name.

    Parameters
    ----------
    files_metadata : dict
        ``{cell_id: {protocol_name: [file_metadata, ...]}}``; one file may appear
        under several protocols (e.g. NWB).
    recording_reader : callable, optional
        Custom reader; its needs must match the metadata.
    map_function : callable
        Function used to map (parallelise) the reading, across cells.
    efel_settings : dict, optional
        eFEL settings ``{setting_name: setting_value}`` for the spike count.

    Returns
    -------
    list of Cell
        The cells, in ``files_metadata`` order. Files that cannot be read are skipped
        with a warning and listed in ``cell.skipped_files``.
    """
    return _pipeline.read_recordings(
        files_metadata, recording_reader, map_function, efel_settings
    )


def extract_efeatures_at_targets(
    cells: list[Any],
    targets: list[dict[str, Any]],
    map_function: Mapper = map,
    efel_settings: Settings = None,
) -> list[Any]:
    """Extract the targets' efeatures from all recordings of their protocols.

    Parameters
    ----------
    cells : list of Cell
        Cells containing the recordings.
    targets : list of dict
        ``[{"efeature", "protocol", "amplitude", "tolerance", "efel_settings"}, ...]``.
    map_function : callable
        Function used to map (parallelise) the extraction, across cells.
    efel_settings : dict, optional
        Global eFEL settings; settings given in the targets have priority.

    Returns
    -------
    list of Cell
    """
    return _pipeline.extract_efeatures_at_targets(
        cells, targets, map_function, efel_settings
    )


def compute_rheobase(
    cells: list[Any],
    protocols_rheobase: list[str],
    rheobase_strategy: str = "absolute",
    rheobase_settings: Settings = None,
) -> None:
    """For each cell, find the smallest current inducing a spike (rheobase).

    Then compute the recordings' amplitudes relative to it.

    Parameters
    ----------
    cells : list of Cell
        The cells.
    protocols_rheobase : list of str
        Protocols used for the rheobase, e.g. ``["IDthresh"]`` (exact names).
    rheobase_strategy : str
        ``"absolute"``, ``"flush"``, ``"majority"`` or ``"interpolation"``.
    rheobase_settings : dict, optional
        Keyword arguments of the strategy function.
    """
    return _pipeline.compute_rheobase(
        cells, protocols_rheobase, rheobase_strategy, rheobase_settings
    )


def group_efeatures(
    cells: list[Any],
    targets: list[dict[str, Any]],
    absolute_amplitude: bool = False,
    use_global_rheobase: bool = True,
    protocol_mode: str = "mean",
    efel_settings: Settings = None,
) -> list[Protocol]:
    """Group the recordings and their efeatures by EFeature target and Protocol.

    Parameters
    ----------
    cells : list of Cell
        The cells.
    targets : list of dict
        The targets (see :func:`extract_efeatures_at_targets`).
    absolute_amplitude : bool
        Match on absolute amplitudes (nA) instead of % of rheobase.
    use_global_rheobase : bool
        Rescale averaged amplitudes by the mean rheobase of the cells.
    protocol_mode : str
        ``"mean"``, ``"median"``, ``"min"`` or ``"max"``.
    efel_settings : dict, optional
        Global eFEL settings; target settings have priority.

    Returns
    -------
    list of Protocol
    """
    settings = GroupingSettings(
        absolute_amplitude, use_global_rheobase, protocol_mode, efel_settings
    )
    return group_by_target(cells, targets, settings)


def create_feature_protocol_files(
    cells: list[Any],
    protocols: list[Protocol],
    output_directory: str | Path | None = None,
    threshold_nvalue_save: int = 1,
    write_files: bool = True,
    save_files_used: bool = False,
    default_std_value: float = 1e-3,
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Build, and save in JSON files, the efeatures and protocols of each target.

    Parameters
    ----------
    cells : list of Cell
        The cells.
    protocols : list of Protocol
        The protocols from :func:`group_efeatures`.
    output_directory : str, optional
        Where the features, protocols and currents are saved.
    threshold_nvalue_save : int
        Minimum number of values for an efeature to be kept.
    write_files : bool
        Also write ``features.json``, ``protocols.json`` and
        ``holding_threshold_currents.json``.
    save_files_used : bool
        Add the files used for each efeature (works here; crashes in BluePyEfe).
    default_std_value : float
        Replaces a standard deviation of 0.

    Returns
    -------
    tuple of dict
        ``(feat, stim, currents)``.
    """
    settings = OutputSettings(threshold_nvalue_save, save_files_used, default_std_value)
    return build_outputs(
        cells, protocols, settings, output_folder(output_directory, write_files)
    )


def convert_legacy_targets(targets: dict[str, Any]) -> list[dict[str, Any]]:
    """Convert legacy ``{protocol: {"amplitudes", "tolerances", "efeatures"}}`` targets.

    Returns
    -------
    list of dict
        ``{"efeature", "protocol", "amplitude", "tolerance", "efel_settings"}`` dicts.
    """
    return _pipeline.convert_legacy_targets(targets)


def extract_efeatures_per_cell(
    files_metadata: FilesMetadata,
    cells: list[Any],
    output_directory: str | Path,
    targets: list[dict[str, Any]],
    protocol_mode: str,
    threshold_nvalue_save: int,
    write_files: bool,
    default_std_value: float = 1e-3,
) -> None:
    """Write the features, protocols and currents of each cell in its own folder."""
    return _pipeline.per_cell_outputs(
        files_metadata,
        cells,
        output_directory,
        targets,
        GroupingSettings(protocol_mode=protocol_mode),
        OutputSettings(threshold_nvalue_save, default_std_value=default_std_value),
        write_files,
    )


def extract_efeatures(
    output_directory: str | Path | None,
    files_metadata: FilesMetadata,
    targets: list[dict[str, Any]] | dict[str, Any] | None = None,
    threshold_nvalue_save: int = 1,
    protocols_rheobase: list[str] | None = None,
    absolute_amplitude: bool = False,
    recording_reader: Reader = None,
    map_function: Mapper = map,
    write_files: bool = False,
    plot: bool = False,
    low_memory_mode: bool = False,
    protocol_mode: str = "mean",
    efel_settings: Settings = None,
    extract_per_cell: bool = False,
    rheobase_strategy: str = "absolute",
    rheobase_settings: Settings = None,
    auto_targets: list[AutoTarget] | None = None,
    pickle_cells: bool = False,
    default_std_value: float = 1e-3,
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Extract efeatures.

    Parameters
    ----------
    output_directory : str
        Path to the output directory.
    files_metadata : dict
        ``{cell_id: {protocol_name: [file_metadata, ...]}}``.
    targets : list of dict or dict, optional
        The efeatures, protocols and amplitudes (% of rheobase, or nA with
        ``absolute_amplitude``) to extract; legacy dict targets are converted.
        None: automatic targets.
    threshold_nvalue_save : int
        Minimum number of values for an efeature to be kept.
    protocols_rheobase : list of str, optional
        Protocols used for the rheobase, e.g. ``["IDthresh"]``.
    absolute_amplitude : bool
        Match recordings to targets on absolute amplitudes.
    recording_reader : callable, optional
        Custom recording reader.
    map_function : callable
        Function used to map (parallelise) reading and extraction, across cells.
    write_files : bool
        Write the efeatures, protocols and currents to JSON files (plus the
        ``efex_provenance.json`` sidecar).
    plot : bool
        Write the recordings and efeatures plots (PDF).
    low_memory_mode : bool
        Drop the traces after extraction (not compatible with ``map_function``).
    protocol_mode : str
        ``"mean"``, ``"median"``, ``"min"`` or ``"max"`` (``"lnmc"`` does not exist).
    efel_settings : dict, optional
        eFEL settings; None means ``{"strict_stiminterval": True, "Threshold": -20.,
        "interp_step": 0.025}``. Target settings have priority.
    extract_per_cell : bool
        Also write the outputs of each cell (with ``write_files``).
    rheobase_strategy : str
        ``"absolute"``, ``"flush"``, ``"majority"`` or ``"interpolation"``.
    rheobase_settings : dict, optional
        Keyword arguments of the rheobase strategy.
    auto_targets : list of AutoTarget, optional
        Targets with flexible protocols and amplitudes.
    pickle_cells : bool
        Pickle the cells and protocols to ``cells.pkl`` / ``protocols.pkl``.
    default_std_value : float
        Replaces a standard deviation of 0.

    Returns
    -------
    tuple of dict
        ``(efeatures, protocol_definitions, current)``.
    """
    plotter: Plotter | None = None
    if plot:  # matplotlib is imported only when plots are asked for
        from efex_gui.report import plot_extraction

        plotter = plot_extraction
    request = ExtractionRequest(
        targets,
        threshold_nvalue_save,
        protocols_rheobase,
        absolute_amplitude,
        recording_reader,
        map_function,
        write_files,
        plot,
        low_memory_mode,
        protocol_mode,
        efel_settings,
        extract_per_cell,
        rheobase_strategy,
        rheobase_settings,
        auto_targets,
        pickle_cells,
        default_std_value,
    )
    return _pipeline.run_extraction(
        output_directory, files_metadata, request, RunExtras(plotter=plotter)
    )


def plot_recordings(
    files_metadata: FilesMetadata,
    output_directory: str | Path = "./figures/",
    recording_reader: Reader = None,
    map_function: Mapper = map,
) -> None:
    """Plot the recordings: one multi-page PDF per cell and protocol.

    Parameters
    ----------
    files_metadata : dict
        ``{cell_id: {protocol_name: [file_metadata, ...]}}``.
    output_directory : str
        Where the plots are saved.
    recording_reader : callable, optional
        Custom recording reader.
    map_function : callable
        Function used to map (parallelise) reading and plotting, across cells.
    """
    from efex_gui.report import plot_all_recordings

    cells = _pipeline.read_recordings(
        files_metadata, recording_reader, map_function, efel_settings=None
    )
    plot_all_recordings(cells, output_dir=output_directory, mapper=map_function)


def plot_all_recordings(
    cells: list[Any],
    output_dir: str | Path,
    show: bool = False,
    mapper: Mapper = map,
) -> list[Path]:
    """Plot every recording of every cell: one multi-page PDF per cell and protocol.

    Parameters
    ----------
    cells : list of Cell
        The cells, with their recordings.
    output_dir : str
        Where the plots are saved.
    show : bool
        Also show the figures.
    mapper : callable
        Function used to map (parallelise) the plotting, across cells.
    """
    from efex_gui.report import plot_all_recordings as plot

    return plot(cells, output_dir, show, mapper if mapper is not None else map)


def plot_all_recordings_efeatures(
    cells: list[Any],
    protocols: list[Any],
    output_dir: str | Path | None = None,
    show: bool = False,
    mapper: Mapper = map,
    efel_settings: dict[str, Any] | None = None,
) -> list[Path]:
    """Plot the recordings, then each efeature per cell and across cells.

    Parameters
    ----------
    cells : list of Cell
        The cells, with their recordings and efeatures.
    protocols : list of Protocol
        The protocols of :func:`group_efeatures`.
    output_dir : str
        Where the plots are saved (required, although BluePyEfe defaults it to None
        and then fails when saving).
    show : bool
        Also show the figures.
    mapper : callable
        Function used to map (parallelise) the plotting, across cells.
    efel_settings : dict, optional
        eFEL settings for the impedance plots.
    """
    from efex_gui.core.errors import SettingsError
    from efex_gui.report import plot_all_recordings_efeatures as plot

    if output_dir is None:
        raise SettingsError(
            "plot_all_recordings_efeatures needs output_dir: the folder the PDFs go to."
        )
    return plot(
        cells,
        protocols,
        output_dir,
        show,
        mapper if mapper is not None else map,
        efel_settings,
    )


def _build_protocols(
    targets: list[dict[str, Any]],
    global_rheobase: float | None,
    protocol_mode: str,
    efel_settings: Settings = None,
) -> list[Protocol]:
    """Build the Protocols that the targets ask for (BluePyEfe's private helper)."""
    return build_protocols(
        targets, global_rheobase, protocol_mode, efel_settings or {}, False
    )


def _build_current_dict(cells: list[Any], default_std_value: float) -> dict[str, Any]:
    """Collect the cells' holding and threshold currents (BluePyEfe's helper)."""
    return build_current_dict(cells, default_std_value)


def _saving_data(
    output_directory: str | Path,
    feat: dict[str, Any],
    stim: dict[str, Any],
    currents: dict[str, Any],
) -> None:
    """Write the three JSON files (BluePyEfe's private helper)."""
    save_outputs(Path(output_directory), feat, stim, currents)


def __getattr__(name: str) -> Any:
    # BluePyEfe's other private helpers, for scripts that reach into them.
    if name in (
        "_read_extract",
        "_read_extract_low_memory",
        "_extract_with_targets",
        "_extract_auto_targets",
    ):
        return getattr(_pipeline, name)
    if name in ("_create_cell", "_extract_efeatures_cell"):
        from efex_gui.core.extraction import read_and_extract

        return getattr(read_and_extract, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
