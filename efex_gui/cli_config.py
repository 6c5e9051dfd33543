"""What ``efex extract`` and ``efex rheobase`` run, from a configuration file.

The file is made into the keyword arguments of ``extract_efeatures``.

Four shapes are accepted (JSON, or YAML for ``.yaml`` / ``.yml``), and, for the
commands that say so, a bare folder of recordings
(:func:`efex_gui.cli_inspect.load_path`):

* an *inputs* document: ``files_metadata``, ``targets`` (list, or legacy dict) and the
  other ``extract_efeatures`` keyword arguments, as in the oracle ``inputs.json``;
* a BluePyEfe 0.x configuration (``cells``, ``features``, ``options``), translated by
  :func:`efex_gui.core.importing.legacy_formats.translate_legacy_config`;
* a session saved by the GUI (``"kind": "efex-session"``), run through
  :meth:`efex_gui.core.session.document.Session.to_extract_kwargs`;
* a run's provenance sidecar ``efex_provenance.json``: its recipe
  (:func:`efex_gui.core.export.recipe.recipe_kwargs`), after checking that every
  input file still has its recorded SHA-256 (paths start from the recorded
  ``data_root``, or ``--data-root``).

Relative paths in ``files_metadata`` start from the configuration file's folder, or
from ``data_root`` when given. Every problem raises an
:class:`~efex_gui.core.errors.EfexError` naming the file and the key.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from efex_gui.core.errors import MetadataError, SettingsError
from efex_gui.core.importing.file_names import PATH_KEYS

__all__ = [
    "RunConfig",
    "load_run_config",
    "resolve_paths",
]


#: keys an inputs document may hold, with the types each accepts (None = any)
_INPUT_KEYS: dict[str, tuple[type, ...]] = {
    "files_metadata": (dict,),
    "targets": (list, dict, type(None)),
    "threshold_nvalue_save": (int,),
    "protocols_rheobase": (list, type(None)),
    "absolute_amplitude": (bool,),
    "protocol_mode": (str,),
    "efel_settings": (dict, type(None)),
    "extract_per_cell": (bool,),
    "rheobase_strategy": (str,),
    "rheobase_settings": (dict, type(None)),
    "auto_targets": (list, type(None)),
    "pickle_cells": (bool,),
    "default_std_value": (int, float),
    "low_memory_mode": (bool,),
    "plot": (bool,),
    "output_directory": (str,),
}


@dataclass
class RunConfig:
    """A loaded configuration.

    Attributes
    ----------
    path : Path
        The configuration file.
    kind : str
        ``"inputs"``, ``"legacy"``, ``"session"``, ``"provenance"`` or
        ``"folder"``.
    kwargs : dict
        ``extract_efeatures`` keyword arguments (absolute paths), without
        ``output_directory``, ``map_function`` and ``write_files``.
    output_directory : Path or None
        The document's ``output_directory`` (resolved like the paths), if any.
    exclusions : Any
        A session's exclusions (JSON document), recorded in the provenance sidecar.
    """

    path: Path
    kind: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    output_directory: Path | None = None
    exclusions: Any = None


def read_document(path: str | Path) -> dict[str, Any]:
    """Read a JSON or YAML document holding an object.

    Raises
    ------
    MetadataError
        When the file is missing, unreadable or not a mapping.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise MetadataError(f"{path}: cannot read the configuration ({exc}).") from exc
    try:
        if path.suffix.lower() in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text)
        else:
            data = json.loads(text)
    except Exception as exc:  # json/yaml parse errors have no common base
        raise MetadataError(f"{path}: not valid JSON/YAML ({exc}).") from exc
    if not isinstance(data, dict):
        raise MetadataError(f"{path}: the configuration must be a JSON/YAML object.")
    return data


def resolve_paths(files_metadata: Any, base: Path, source: Path) -> dict[str, Any]:
    """Copy ``files_metadata`` with relative paths made absolute from ``base``.

    Raises
    ------
    MetadataError
        When the structure is not ``{cell: {protocol: [dict, ...]}}``; the message
        names the offending key.
    """
    if not isinstance(files_metadata, dict) or not files_metadata:
        raise MetadataError(
            f"{source}: 'files_metadata' must be a non-empty {{cell: {{protocol: "
            "[file metadata, ...]}}}} mapping."
        )
    out = copy.deepcopy(files_metadata)
    for cell, protocols in out.items():
        if not isinstance(protocols, dict):
            raise MetadataError(
                f"{source}: files_metadata[{cell!r}] must be a mapping."
            )
        for protocol, entries in protocols.items():
            where = f"files_metadata[{cell!r}][{protocol!r}]"
            if not isinstance(entries, list):
                raise MetadataError(f"{source}: {where} must be a list.")
            for index, entry in enumerate(entries):
                if not isinstance(entry, dict):
                    raise MetadataError(
                        f"{source}: {where}[{index}] must be a mapping."
                    )
                for key in PATH_KEYS:
                    if isinstance(entry.get(key), str):
                        entry[key] = str(base / Path(entry[key]).expanduser())
    return out


def _check_inputs(data: dict[str, Any], source: Path) -> None:
    unknown = sorted(set(data) - set(_INPUT_KEYS))
    if unknown:
        raise SettingsError(
            f"{source}: unknown key {unknown[0]!r} (known: {', '.join(_INPUT_KEYS)})."
        )
    if "files_metadata" not in data:
        raise MetadataError(f"{source}: missing key 'files_metadata'.")
    for key, value in data.items():
        allowed = _INPUT_KEYS[key]
        bad_bool = isinstance(value, bool) and bool not in allowed
        if not isinstance(value, allowed) or bad_bool:
            names = " or ".join(
                "null" if t is type(None) else t.__name__ for t in allowed
            )
            raise SettingsError(
                f"{source}: key {key!r} must be {names}, not {type(value).__name__}."
            )


def _auto_targets(specs: list[Any], source: Path) -> list[Any]:
    from efex_gui.core.targets.auto import AutoTarget

    targets = []
    for index, spec in enumerate(specs):
        if not isinstance(spec, dict):
            raise SettingsError(f"{source}: auto_targets[{index}] must be a mapping.")
        try:
            targets.append(AutoTarget(**spec))
        except TypeError as exc:
            raise SettingsError(f"{source}: auto_targets[{index}]: {exc}.") from exc
    return targets


def _from_inputs(data: dict[str, Any], base: Path, source: Path) -> RunConfig:
    _check_inputs(data, source)
    kwargs = copy.deepcopy(data)
    output = kwargs.pop("output_directory", None)
    kwargs["files_metadata"] = resolve_paths(data["files_metadata"], base, source)
    if kwargs.get("auto_targets") is not None:
        kwargs["auto_targets"] = _auto_targets(kwargs["auto_targets"], source)
    return RunConfig(
        source, "inputs", kwargs, (base / output) if output is not None else None
    )


def _from_legacy(data: dict[str, Any], base: Path, source: Path) -> RunConfig:
    from efex_gui.core.importing.legacy_formats import translate_legacy_config

    try:
        kwargs = translate_legacy_config(copy.deepcopy(data))
    except MetadataError as exc:
        raise MetadataError(f"{source}: {exc}") from exc
    kwargs["files_metadata"] = resolve_paths(kwargs["files_metadata"], base, source)
    return RunConfig(source, "legacy", kwargs)


def _from_session(source: Path, data_root: Path | None) -> RunConfig:
    from efex_gui.core.session.document import Session

    session = Session.load(source)
    if data_root is not None:
        session.data_root = data_root
    return RunConfig(
        source,
        "session",
        session.to_extract_kwargs(),
        exclusions=session.exclusions.to_json(),
    )


def _from_provenance(
    data: dict[str, Any], source: Path, data_root: Path | None
) -> RunConfig:
    """Read a run's ``efex_provenance.json``: its recipe, inputs' SHA-256 checked."""
    from efex_gui.core.export.recipe import recipe_kwargs

    kwargs, _root = recipe_kwargs(data, data_root)
    return RunConfig(source, "provenance", kwargs, exclusions=data.get("exclusions"))


def load_run_config(path: str | Path, data_root: str | Path | None = None) -> RunConfig:
    """Load a configuration file of any accepted shape.

    Parameters
    ----------
    path : str or pathlib.Path
        The JSON/YAML configuration, legacy configuration or session file.
    data_root : str or pathlib.Path, optional
        Folder that relative file paths start from (default: the file's folder; for a
        session, its own ``data_root``).

    Returns
    -------
    RunConfig

    Raises
    ------
    MetadataError, SettingsError
        Bad configuration; the message names the file and key.
    """
    source = Path(path).absolute()
    data = read_document(source)
    root = Path(data_root).absolute() if data_root is not None else None
    if {"recipe", "input_files", "versions"} <= set(data):
        return _from_provenance(data, source, root)
    if data.get("kind") == "efex-session" or "format_version" in data:
        return _from_session(source, root)
    base = root if root is not None else source.parent
    if "files_metadata" not in data and {"cells", "features", "options"} <= set(data):
        return _from_legacy(data, base, source)
    return _from_inputs(data, base, source)
