"""The provenance sidecar as a recipe: what reproduces the three files, byte for byte.

``efex_provenance.json`` carries, besides versions, checksums and exclusions:

* ``recipe``: the ``extract_efeatures`` arguments exactly as given (targets as given,
  ``None`` for automatic ones, with the automatic targets' definitions when they were
  given: ``auto_targets``; the settings before defaults were filled in), the
  ``files_metadata`` actually read (after exclusions; paths relative to
  ``data_root``, which is recorded as an absolute folder), the traces dropped from
  multi-trace files (``dropped_traces``: ``[path, protocol, indices, cell]``; a
  version 1 recipe named no cell, and its traces are dropped in every cell reading
  the file under the protocol), the rheobase overrides and the output options;
* ``recordings``: per recording, every metadata value the numbers depend on (units,
  ``dt``, LJP, eCode, ton / toff / amplitudes ...) and where each came from:
  ``user`` (files_metadata / the GUI), ``file`` (the reader) or ``detected`` (the
  eCode found it in the stimulus).

``efex extract efex_provenance.json -o OUT`` rebuilds the arguments with
:func:`recipe_kwargs`, after :func:`changed_inputs` checked every file's SHA-256;
a changed or missing file stops it with a message naming the file. Qt-free.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from efex_gui.core.errors import MetadataError
from efex_gui.core.export.outputs import file_sha256
from efex_gui.core.importing.file_names import PATH_KEYS
from efex_gui.core.recordings.timing_consensus import stimulus_source
from efex_gui.core.session.exclusions import TraceFilter

RECIPE_VERSION = 2
#: the versions read: 1 named no cell in ``dropped_traces`` (its traces were dropped
#: in every cell reading the file under the protocol)
READ_VERSIONS = (1, 2)
#: extract_efeatures arguments a recipe records as given
ARGUMENTS = (
    "threshold_nvalue_save", "protocols_rheobase", "absolute_amplitude",
    "protocol_mode", "efel_settings", "extract_per_cell", "rheobase_strategy",
    "rheobase_settings", "default_std_value", "low_memory_mode",
)  # fmt: skip
#: keyword-only options of the core's extract_efeatures that change the files
OPTIONS = ("nan_as_null", "per_cell_consistent", "strict_targets", "consensus_timing")
UNIT_KEYS = ("t_unit", "v_unit", "i_unit", "dt", "ljp")


def data_root_of(files_metadata: Mapping[str, Any], given: str | Path | None) -> Path:
    """``given`` (absolute), else the deepest folder holding every input file."""
    if given is not None:
        return Path(given).absolute()
    folders = [
        os.path.dirname(os.path.abspath(str(entry[key])))
        for protocols in files_metadata.values()
        for entries in protocols.values()
        for entry in entries
        for key in PATH_KEYS
        if entry.get(key)
    ]
    return Path(os.path.commonpath(folders)) if folders else Path.cwd()


def _relative(path: str, root: Path) -> str:
    try:
        return Path(os.path.abspath(path)).relative_to(root).as_posix()
    except ValueError:
        return str(path)


def build_recipe(
    files_metadata: Mapping[str, Any],
    given: Mapping[str, Any],
    options: Mapping[str, Any],
    recording_reader: Callable[..., Any] | None,
    data_root: str | Path | None = None,
) -> dict[str, Any]:
    """Build the ``recipe`` section of the sidecar (see the module docstring).

    Parameters
    ----------
    files_metadata : dict
        What was read (after exclusions), absolute or working-directory paths.
    given : dict
        The arguments as the caller gave them: ``targets``, ``auto_targets`` and
        those of :data:`ARGUMENTS`.
    options : dict
        :data:`OPTIONS` and ``rheobase_overrides``.
    recording_reader : callable, optional
        The reader given; a :class:`TraceFilter` is recorded, any other makes the
        recipe not reproducible (said in ``not_reproducible``).
    data_root : str or Path, optional
        The session's data folder (default: the folder above every input).
    """
    root = data_root_of(files_metadata, data_root)
    relative = copy.deepcopy(dict(files_metadata))
    for protocols in relative.values():
        for entries in protocols.values():
            for entry in entries:
                for key in PATH_KEYS:
                    if entry.get(key):
                        entry[key] = _relative(str(entry[key]), root)
    recipe: dict[str, Any] = {
        "version": RECIPE_VERSION,
        "data_root": str(root),
        "files_metadata": relative,
        "targets": copy.deepcopy(given.get("targets")),
        "arguments": {k: copy.deepcopy(given[k]) for k in ARGUMENTS if k in given},
        "options": {k: copy.deepcopy(v) for k, v in options.items()},
        "dropped_traces": [],
    }
    problems = []
    auto_targets = given.get("auto_targets")
    if auto_targets is not None:
        written = _auto_targets_json(auto_targets)
        if written is None:
            problems.append("auto_targets objects were given")
        else:
            recipe["auto_targets"] = written
    if isinstance(recording_reader, TraceFilter):
        recipe["dropped_traces"] = [
            [_relative(key[-2], root), key[-1], sorted(indices), *key[:-2]]
            for key, indices in sorted(recording_reader.excluded.items())
        ]  # [path, protocol, indices, cell] (no cell: every cell's)
    elif recording_reader is not None:
        problems.append("a custom recording_reader was given")
    if problems:
        recipe["not_reproducible"] = problems
    return recipe


#: what an AutoTarget is made of (its selections, made by the run, are not)
_AUTO_TARGET_FIELDS = (
    "protocols", "amplitudes", "efeatures", "min_recordings_per_amplitude",
    "preferred_number_protocols", "tolerance",
)  # fmt: skip


def _auto_targets_json(auto_targets: Iterable[Any]) -> list[dict[str, Any]] | None:
    """Write fresh :class:`AutoTarget` objects as dicts; None for anything else."""
    from efex_gui.core.targets.auto import AutoTarget

    written = []
    for target in auto_targets:
        if type(target) is not AutoTarget or target.active_ecode:
            return None  # a subclass, or one that has already chosen
        written.append(
            {k: copy.deepcopy(getattr(target, k)) for k in _AUTO_TARGET_FIELDS}
        )
    return written


def _auto_targets(written: Any) -> list[Any]:
    """Rebuild the :class:`AutoTarget` objects of a recipe (a damaged one named)."""
    from efex_gui.core.targets.auto import AutoTarget

    try:
        return [AutoTarget(**target) for target in written]
    except TypeError as exc:
        raise MetadataError(
            "The sidecar's recipe.auto_targets is damaged: each must be "
            f"{{{', '.join(_AUTO_TARGET_FIELDS)}}} ({exc})."
        ) from exc


def _trace_filter(rows: Any, root: Path) -> TraceFilter:
    """Rebuild a recipe's :class:`TraceFilter` (a damaged row named)."""
    excluded: dict[tuple[str, ...], set[int]] = {}
    for number, row in enumerate(rows, 1):
        try:
            path, protocol, indices, *cell = row
            if len(cell) > 1 or not all(isinstance(x, str) for x in (path, *cell)):
                raise ValueError
            key = (*cell, str(root / path), str(protocol))  # an absolute path stays
            excluded[key] = {int(index) for index in indices}
        except (TypeError, ValueError) as exc:
            raise MetadataError(
                f"The sidecar's recipe.dropped_traces is damaged: row {number} "
                f"({row!r}) is not [path, protocol, [trace indices], cell]."
            ) from exc
    return TraceFilter(excluded)


def _source(key: str, recording: Any, detected: str) -> str:
    config = getattr(recording, "config_data", None) or {}
    reader = getattr(recording, "reader_data", None) or {}
    if config.get(key) is not None:
        return "user"
    if reader.get(key) is not None:
        return "file"
    return detected


def _plain(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    return value


def recording_metadata(
    cells: Iterable[Any], data_root: str | Path | None
) -> list[dict[str, Any]]:
    """Every metadata value used per recording, and where it came from."""
    root = Path(data_root).absolute() if data_root is not None else None
    rows = []
    for cell in cells:
        for recording in getattr(cell, "recordings", []):
            files = [str(f) for f in getattr(recording, "files", [])]
            values: dict[str, Any] = {}
            config = getattr(recording, "config_data", None) or {}
            reader = getattr(recording, "reader_data", None) or {}
            for key in UNIT_KEYS:
                value = config.get(key, reader.get(key))
                if value is None and key == "dt":  # the reader's, dropped since
                    value = getattr(recording, "dt", None)
                if value is not None:
                    source = _source(key, recording, "file")
                    values[key] = {"value": _plain(value), "source": source}
            for key in getattr(recording, "export_attr", None) or []:
                if key in values:
                    continue
                value = getattr(recording, key, None)
                source = _source(key, recording, "detected")
                if key in ("ton", "toff"):  # user, file, consensus or detected
                    source = stimulus_source(recording)
                values[key] = {"value": _plain(value), "source": source}
            rows.append({
                "cell": str(getattr(cell, "name", "")),
                "protocol": str(getattr(recording, "protocol_name", "")),
                "files": [_relative(f, root) if root else f for f in files],
                "id": _plain(getattr(recording, "id", None)),
                "ecode": str(config.get("ecode") or type(recording).__name__),
                "metadata": values,
            })  # fmt: skip
    return rows


def is_provenance(data: Mapping[str, Any]) -> bool:
    """Whether a JSON document is an efex provenance sidecar with a recipe."""
    return "recipe" in data and "input_files" in data and "versions" in data


def changed_inputs(document: Mapping[str, Any], data_root: Path) -> list[str]:
    """Input files whose SHA-256 differs from the recorded one (or that are gone)."""
    changed = []
    for record in document.get("input_files", []):
        path = Path(record["path"])
        path = path if path.is_absolute() else data_root / path
        if record.get("sha256") is None:
            continue  # it was missing at the time: skipped then, skipped now
        if file_sha256(path) != record["sha256"]:
            changed.append(str(path))
    return changed


def recipe_kwargs(
    document: Mapping[str, Any], data_root: str | Path | None = None
) -> tuple[dict[str, Any], Path]:
    """Return the core ``extract_efeatures`` keyword arguments a sidecar records.

    Parameters
    ----------
    document : dict
        The provenance sidecar.
    data_root : str or Path, optional
        Where the data are now (default: the recorded ``data_root``).

    Returns
    -------
    tuple
        The keyword arguments (absolute paths) and the data root used.

    Raises
    ------
    MetadataError
        The sidecar has no recipe, cannot be reproduced, or an input file changed
        (the message names each).
    """
    recipe = document.get("recipe")
    if not isinstance(recipe, Mapping) or recipe.get("version") not in READ_VERSIONS:
        raise MetadataError(
            "This provenance sidecar holds no recipe this version of efex_gui reads "
            f"(versions {', '.join(map(str, READ_VERSIONS))})."
        )
    if recipe.get("not_reproducible"):
        reasons = "; ".join(recipe["not_reproducible"])
        raise MetadataError(f"The run cannot be reproduced from its sidecar: {reasons}")
    root = Path(data_root if data_root is not None else recipe["data_root"]).absolute()
    changed = changed_inputs(document, root)
    if changed:
        raise MetadataError(
            "These input files changed since the run (their SHA-256 differs), so "
            "it cannot be reproduced: "
            + ", ".join(changed)
            + ". Restore them, or give --data-root if the data moved."
        )
    files_metadata = copy.deepcopy(recipe["files_metadata"])
    for protocols in files_metadata.values():
        for entries in protocols.values():
            for entry in entries:
                for key in PATH_KEYS:
                    if entry.get(key) and not Path(entry[key]).is_absolute():
                        entry[key] = str(root / entry[key])
    kwargs: dict[str, Any] = {
        "files_metadata": files_metadata,
        "targets": copy.deepcopy(recipe.get("targets")),
        **copy.deepcopy(recipe.get("arguments", {})),
        **copy.deepcopy(recipe.get("options", {})),
    }
    if recipe.get("auto_targets") is not None:
        kwargs["auto_targets"] = _auto_targets(recipe["auto_targets"])
    if recipe.get("dropped_traces"):
        kwargs["recording_reader"] = _trace_filter(recipe["dropped_traces"], root)
    return kwargs, root
