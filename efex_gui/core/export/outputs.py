"""Writing the extraction results: BluePyEfe's three JSON files, pickles, provenance.

Decision (house style §5d): the export is BluePyEfe-compatible by default. The three
files ``features.json``, ``protocols.json`` and ``holding_threshold_currents.json`` have
BluePyEfe's names, keys and key order (spec §6), are indented by 2 spaces with no final
newline, turn NumPy scalars and arrays into JSON numbers and lists, and write NaN as the
bare token ``NaN`` as BluePyEfe does (``nan_as_null=True`` writes ``null`` instead,
§9.1-20). Nothing is added to them; what they cannot carry (versions, settings, input
checksums, exclusions) goes into a sidecar, ``efex_provenance.json``.

Every file is written atomically (:func:`efex_gui.core.atomic_files.write_atomic`: a
temporary file in the same folder, fsync, ``os.replace``), so a crash never leaves half
a JSON file behind.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import pickle
from collections.abc import Callable, Iterable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from efex_gui.core.atomic_files import write_atomic

logger = logging.getLogger(__name__)

__all__ = [
    "CURRENTS_FILE",
    "FEATURES_FILE",
    "PROTOCOLS_FILE",
    "PROVENANCE_FILE",
    "PROVENANCE_FORMAT_VERSION",
    "NumpyEncoder",
    "build_current_dict",
    "cells_pickle_output_path",
    "dumps_json",
    "holding_current",
    "input_files",
    "protocols_pickle_output_path",
    "save_outputs",
    "write_json_atomic",
    "write_pickles",
    "write_provenance",
]

FEATURES_FILE = "features.json"
PROTOCOLS_FILE = "protocols.json"
CURRENTS_FILE = "holding_threshold_currents.json"
PROVENANCE_FILE = "efex_provenance.json"
PROVENANCE_FORMAT_VERSION = 1


class NumpyEncoder(json.JSONEncoder):
    """JSON encoder for NumPy values: integers, floats, booleans and arrays."""

    def default(self, o: Any) -> Any:
        """Convert a NumPy value to its Python equivalent."""
        if isinstance(o, np.integer):
            return int(o)
        if isinstance(o, np.floating):
            return float(o)
        if isinstance(o, np.bool_):
            return bool(o)
        if isinstance(o, np.ndarray):
            return o.tolist()
        if isinstance(o, Path):
            return str(o)
        return super().default(o)


class _ProvenanceEncoder(NumpyEncoder):
    """Like :class:`NumpyEncoder`, but anything else is written as its ``repr``."""

    def default(self, o: Any) -> Any:
        try:
            return super().default(o)
        except TypeError:
            return repr(o)


def _nan_to_none(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        return {key: _nan_to_none(value) for key, value in obj.items()}
    if isinstance(obj, list | tuple):
        return [_nan_to_none(value) for value in obj]
    if isinstance(obj, np.ndarray):
        return _nan_to_none(obj.tolist())
    if isinstance(obj, float | np.floating) and math.isnan(obj):
        return None
    return obj


def dumps_json(
    obj: Any,
    *,
    nan_as_null: bool = False,
    encoder: type[json.JSONEncoder] = NumpyEncoder,
) -> str:
    """Serialise ``obj`` as BluePyEfe does (2-space indent, NumPy-aware, bare NaN).

    Parameters
    ----------
    obj : Any
        The dict to write.
    nan_as_null : bool, keyword-only
        Write NaN as ``null`` (strict JSON) instead of BluePyEfe's bare ``NaN``.
    encoder : type, keyword-only
        The JSON encoder class.

    Returns
    -------
    str
        The JSON text, without a final newline.
    """
    if nan_as_null:
        obj = _nan_to_none(obj)
    return json.dumps(obj, indent=2, cls=encoder)


def write_json_atomic(
    path: str | Path,
    obj: Any,
    *,
    nan_as_null: bool = False,
    encoder: type[json.JSONEncoder] = NumpyEncoder,
) -> Path:
    """Write ``obj`` to ``path`` as JSON, atomically (:func:`write_atomic`).

    Parameters
    ----------
    path : str or Path
        Destination file; its folder must exist.
    obj : Any
        The data.
    nan_as_null, encoder : keyword-only
        See :func:`dumps_json`.

    Returns
    -------
    Path
        ``path``.
    """
    text = dumps_json(obj, nan_as_null=nan_as_null, encoder=encoder)
    return write_atomic(path, lambda handle: handle.write(text))


def save_outputs(
    output_directory: str | Path,
    features: dict[str, Any],
    protocols: dict[str, Any],
    currents: dict[str, Any],
    *,
    nan_as_null: bool = False,
) -> list[Path]:
    """Write the three BluePyEfe files into ``output_directory`` (created if needed).

    Returns
    -------
    list of Path
        The files written: features, protocols, currents.
    """
    out = Path(output_directory)
    out.mkdir(parents=True, exist_ok=True)
    return [
        write_json_atomic(out / FEATURES_FILE, features, nan_as_null=nan_as_null),
        write_json_atomic(out / PROTOCOLS_FILE, protocols, nan_as_null=nan_as_null),
        write_json_atomic(out / CURRENTS_FILE, currents, nan_as_null=nan_as_null),
    ]


def _mean_std(values: list[Any], default_std_value: float) -> list[Any]:
    mean, std = np.nanmean(values), np.nanstd(values)
    if std == 0.0:
        std = default_std_value
    return [mean, std]


def holding_current(cell: Any) -> Any:
    """Return a cell's holding current: the NaN-ignoring mean ``hypamp`` (nA)."""
    hypamps = [np.nan if r.hypamp is None else r.hypamp for r in cell.recordings]
    return np.nanmean(hypamps) if hypamps else np.nan


def build_current_dict(
    cells: Iterable[Any],
    default_std_value: float = 1e-3,
    holding_of: Callable[[Any], Any] = holding_current,
) -> dict[str, Any]:
    """Return the holding and threshold currents of the cells (spec §6.3).

    Parameters
    ----------
    cells : iterable of Cell
        All cells, matched or not.
    default_std_value : float
        Replaces a standard deviation of exactly 0 (one cell, identical values).
    holding_of : callable, optional
        :func:`holding_current`, or a memoised form of it.

    Returns
    -------
    dict
        ``holding_current``, ``threshold_current`` (``[mean, std]``),
        ``all_holding_current``, ``all_threshold_current`` (per cell, nA).
        The per-cell holding current is the mean ``hypamp`` of all its recordings;
        cells without rheobase have no threshold entry (``[NaN, NaN]`` if none has).
    """
    holding: dict[str, Any] = {}
    threshold: dict[str, Any] = {}
    for cell in cells:
        holding[cell.name] = holding_of(cell)
        if cell.rheobase is not None:
            threshold[cell.name] = cell.rheobase
    return {
        "holding_current": _mean_std(list(holding.values()), default_std_value),
        "threshold_current": _mean_std(list(threshold.values()), default_std_value),
        "all_holding_current": holding,
        "all_threshold_current": threshold,
    }


def cells_pickle_output_path(output_directory: str | Path) -> Path:
    """Return ``output_directory / "cells.pkl"``."""
    return Path(output_directory) / "cells.pkl"


def protocols_pickle_output_path(output_directory: str | Path) -> Path:
    """Return ``output_directory / "protocols.pkl"``."""
    return Path(output_directory) / "protocols.pkl"


def _pickle_atomic(path: Path, obj: Any) -> None:
    write_atomic(path, lambda handle: pickle.dump(obj, handle), binary=True)


def write_pickles(
    cells: list[Any], protocols: list[Any], output_directory: str | Path
) -> tuple[Path, Path]:
    """Pickle the cells and protocols into ``cells.pkl`` and ``protocols.pkl``.

    Returns
    -------
    tuple of Path
        The two files written.
    """
    out = Path(output_directory)
    out.mkdir(parents=True, exist_ok=True)
    cells_path = cells_pickle_output_path(out)
    protocols_path = protocols_pickle_output_path(out)
    _pickle_atomic(cells_path, cells)
    _pickle_atomic(protocols_path, protocols)
    return cells_path, protocols_path


_PATH_KEYS = ("filepath", "i_file", "v_file")


def file_sha256(path: str | Path) -> str | None:
    """Hash a file with SHA-256 (hex), or return None when it cannot be read."""
    return _sha256(Path(path))


def _sha256(path: Path) -> str | None:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return None
    return digest.hexdigest()


def input_files(
    files_metadata: Mapping[str, Mapping[str, Iterable[Mapping[str, Any]]]],
    data_root: str | Path | None = None,
) -> list[dict[str, Any]]:
    """List the distinct input files of a ``files_metadata`` with their checksums.

    Parameters
    ----------
    files_metadata : dict
        ``{cell: {protocol: [file metadata, ...]}}``.
    data_root : str or Path, optional
        Paths under it are recorded relative to it.

    Returns
    -------
    list of dict
        ``{"path", "sha256", "size"}`` per file, first-seen order; a missing file
        has ``sha256`` and ``size`` ``None``.
    """
    seen: dict[str, dict[str, Any]] = {}
    for protocols in files_metadata.values():
        for entries in protocols.values():
            for entry in entries:
                for key in _PATH_KEYS:
                    name = str(entry.get(key) or "")
                    if name and name not in seen:
                        seen[name] = _file_record(Path(name), data_root)
    return list(seen.values())


def _file_record(path: Path, data_root: str | Path | None) -> dict[str, Any]:
    shown = path
    if data_root is not None:
        try:
            shown = path.resolve().relative_to(Path(data_root).resolve())
        except ValueError:
            shown = path
    exists = path.is_file()
    return {
        "path": shown.as_posix(),
        "sha256": _sha256(path) if exists else None,
        "size": path.stat().st_size if exists else None,
    }


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def write_provenance(
    output_directory: str | Path,
    *,
    settings: Mapping[str, Any],
    targets: Any,
    files_metadata: Mapping[str, Any] | None = None,
    exclusions: Any = None,
    switches: Mapping[str, Any] | None = None,
    skipped_files: Iterable[Any] | None = None,
    data_root: str | Path | None = None,
    warnings: Mapping[str, list[str]] | None = None,
    recipe: Mapping[str, Any] | None = None,
    recordings: list[dict[str, Any]] | None = None,
    qc: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``efex_provenance.json`` next to the three result files.

    Parameters
    ----------
    output_directory : str or Path
        Folder of the result files (created if needed).
    settings : dict
        The effective extraction settings (efel settings, rheobase strategy, ...).
    targets : list
        The effective targets (after legacy conversion / auto selection).
    files_metadata : dict, optional
        The inputs; each distinct file is listed with its sha256.
    exclusions : Any, optional
        The user's exclusions, as a JSON-able document.
    switches : dict, optional
        Compatibility switches used (``docs/compatibility.md``).
    skipped_files : iterable, optional
        ``(cell, path, reason)`` triples of files that could not be read.
    data_root : str or Path, optional
        Input paths under it are recorded relative to it.
    warnings : dict, optional
        ``{cell: [message, ...]}``: the scientific guards' warnings
        (:func:`efex_gui.core.recordings.checks.collect_warnings`).
    recipe : dict, optional
        What reproduces the run (:func:`efex_gui.core.export.recipe.build_recipe`);
        input paths are then recorded relative to its ``data_root``.
    recordings : list of dict, optional
        Per recording, the metadata used and their sources
        (:func:`efex_gui.core.export.recipe.recording_metadata`).
    qc : dict, optional
        The sweep QC checks' switches and thresholds used to flag sweeps
        (:meth:`efex_gui.core.recordings.qc_settings.QCSettings.to_dict`).

    Returns
    -------
    Path
        The sidecar file.
    """
    from efex_gui import __version__

    out = Path(output_directory)
    out.mkdir(parents=True, exist_ok=True)
    if recipe is not None:
        data_root = recipe["data_root"]
    document: dict[str, Any] = {
        "format_version": PROVENANCE_FORMAT_VERSION,
        "versions": {
            "efex_gui": __version__,
            "efel": _version("efel"),
            "numpy": np.__version__,
        },
        "settings": dict(settings),
        "switches": dict(switches or {}),
        "targets": targets,
        "input_files": input_files(files_metadata or {}, data_root),
    }
    if exclusions is not None:
        document["exclusions"] = exclusions
    if skipped_files:
        document["skipped_files"] = [list(item) for item in skipped_files]
    if warnings:
        document["warnings"] = {cell: list(items) for cell, items in warnings.items()}
    if recipe is not None:
        document["recipe"] = dict(recipe)
    if recordings is not None:
        document["recordings"] = recordings
    if qc is not None:
        document["qc"] = dict(qc)
    return write_json_atomic(
        out / PROVENANCE_FILE, document, nan_as_null=True, encoder=_ProvenanceEncoder
    )
