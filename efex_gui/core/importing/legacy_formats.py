"""BluePyEfe 0.x / legacy formats turned into 2.x inputs.

* :func:`convert_legacy_targets` turns a ``{protocol: {"amplitudes", "tolerances",
  "efeatures"}}`` dict into the flat list of target dicts (spec §2.7).
* :func:`translate_legacy_config` turns a whole BluePyEfe 0.x configuration (``cells``,
  ``features``, ``options``, ``path``) into the arguments of ``extract_efeatures``
  (spec §8).

Both follow BluePyEfe to the letter: iteration order, shared settings objects, reused
(and updated) file-metadata dicts, duplicated features kept.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from efex_gui.core.errors import MetadataError, TargetError

__all__ = ["convert_legacy_targets", "translate_legacy_config"]


def convert_legacy_targets(targets: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Convert legacy dict targets to the flat list of target dicts.

    Parameters
    ----------
    targets : dict
        ``{protocol: {"amplitudes": [...], "tolerances": [...], "efeatures": list or
        dict, "location": ...}}``. A single tolerance applies to every amplitude;
        otherwise ``tolerances[i]`` goes with ``amplitudes[i]``. With a dict of
        efeatures each value is that feature's efel settings (the same object for
        every amplitude, as in BluePyEfe).

    Returns
    -------
    list of dict
        ``{"efeature", "protocol", "amplitude", "tolerance", "efel_settings"}`` in
        protocol, amplitude, efeature order.

    Raises
    ------
    TargetError
        If a protocol lacks a key or has fewer tolerances than amplitudes (BluePyEfe
        raises ``KeyError``/``IndexError``; ``TargetError`` names the protocol).
    """
    formatted = []
    for protocol, target in targets.items():
        try:
            amplitudes, tolerances = target["amplitudes"], target["tolerances"]
            efeatures = target["efeatures"]
        except KeyError as exc:
            raise TargetError(
                f"Legacy target for protocol {protocol!r} lacks the key "
                f"{exc.args[0]!r}."
            ) from exc
        if len(tolerances) != 1 and len(tolerances) < len(amplitudes):
            raise TargetError(
                f"Legacy target for protocol {protocol!r} has {len(amplitudes)} "
                f"amplitudes but {len(tolerances)} tolerances."
            )
        for i, amplitude in enumerate(amplitudes):
            tolerance = tolerances[0] if len(tolerances) == 1 else tolerances[i]
            for efeature in efeatures:
                settings = efeatures[efeature] if isinstance(efeatures, dict) else {}
                formatted.append(
                    {
                        "efeature": efeature,
                        "protocol": protocol,
                        "amplitude": amplitude,
                        "tolerance": tolerance,
                        "efel_settings": settings,
                    }
                )
    return formatted


def _prefix_paths(file_metadata: dict[str, Any], root: str) -> None:
    if "i_file" in file_metadata or "v_file" in file_metadata:
        keys: tuple[str, ...] = ("i_file", "v_file")
    else:
        keys = ("filepath",)
    for key in keys:
        if key in file_metadata:
            file_metadata[key] = str(Path(root) / file_metadata[key])


def _files_metadata(
    config: dict[str, Any], include_cell_corrections: bool
) -> dict[str, dict[str, list[dict[str, Any]]]]:
    root = config.get("path", "./")
    onoff = config["options"]["onoff"]
    files_metadata: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for cell_name, cell in config["cells"].items():
        for protocol, experiment in cell["experiments"].items():
            # As BluePyEfe: cells and protocols without files get no entry.
            for file_metadata in experiment["files"]:
                _prefix_paths(file_metadata, root)
                if include_cell_corrections:
                    for key in ("ljp", "v_corr"):
                        if cell.get(key):
                            file_metadata[key] = cell[key]
                if protocol in onoff:
                    file_metadata["ton"] = onoff[protocol][0]
                    file_metadata["toff"] = onoff[protocol][1]
                cell_files = files_metadata.setdefault(cell_name, {})
                cell_files.setdefault(protocol, []).append(file_metadata)
    return files_metadata


def _targets(config: dict[str, Any]) -> list[dict[str, Any]]:
    options = config["options"]
    strict = options.get("strict_stiminterval")
    targets = []
    for protocol, efeatures in config["features"].items():
        for efeature in efeatures:
            if "spikerate" in efeature:
                continue
            for amplitude, tolerance in zip(
                options["target"], options["tolerance"], strict=False
            ):
                if amplitude == "all":
                    continue
                if amplitude == "noinput":
                    amplitude, tolerance = 0, 10
                settings = {}
                if strict is not None:
                    if protocol in strict:
                        settings["strict_stiminterval"] = strict[protocol]
                    elif "base" in strict:
                        settings["strict_stiminterval"] = strict["base"]
                targets.append(
                    {
                        "efeature": efeature,
                        "protocol": protocol,
                        "amplitude": amplitude,
                        "tolerance": tolerance,
                        "efel_settings": settings,
                    }
                )
    return targets


def translate_legacy_config(
    config: dict[str, Any], *, include_cell_corrections: bool = False
) -> dict[str, Any]:
    """Translate a BluePyEfe 0.x configuration into ``extract_efeatures`` arguments.

    Parameters
    ----------
    config : dict
        The legacy configuration: ``cells`` (``{cell: {"experiments": {protocol:
        {"files": [...]}}}}``), ``features`` (``{protocol: [efel names]}``),
        ``options`` (``onoff``, ``target``, ``tolerance``, ``strict_stiminterval``,
        ``expthreshold``, optional ``spike_threshold``) and ``path`` (default
        ``"./"``). Its file-metadata dicts are reused and updated in place.
    include_cell_corrections : bool, keyword-only
        Also copy each cell's truthy ``ljp`` / ``v_corr`` into its file metadata.
        BluePyEfe ignores them (default ``False`` reproduces that); the shared SSCx
        oracle inputs were made with them included.

    Returns
    -------
    dict
        ``files_metadata``, ``targets``, ``protocols_rheobase``,
        ``rheobase_strategy`` (``"absolute"``) and ``rheobase_settings``.

    Raises
    ------
    MetadataError
        If a required section or option is missing (named in the message).
    """
    try:
        files_metadata = _files_metadata(config, include_cell_corrections)
        targets = _targets(config)
        protocols_rheobase = config["options"]["expthreshold"]
    except KeyError as exc:
        raise MetadataError(
            f"Legacy configuration lacks the key {exc.args[0]!r} (needs 'cells', "
            "'features' and options 'onoff', 'target', 'tolerance', 'expthreshold')."
        ) from exc
    rheobase_settings = {}
    if "spike_threshold" in config["options"]:
        rheobase_settings["spike_threshold"] = config["options"]["spike_threshold"]
    return {
        "files_metadata": files_metadata,
        "targets": targets,
        "protocols_rheobase": protocols_rheobase,
        "rheobase_strategy": "absolute",
        "rheobase_settings": rheobase_settings,
    }
