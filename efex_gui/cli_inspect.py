"""The JSON documents of ``efex inspect --json`` and ``efex rheobase --json``.

A PATH is a recording file, a folder (the GUI's default import: the same preset
pattern guessed, the same consensus stimulus windows), a session or a configuration
(``efex extract``'s). The documents hold the values the extraction would use, after
unit conversion (ms, nA)::

    inspect: {"files": [{"path", "format", "status": "ok"|"refused", "reason"}],
              "recordings": [{"cell", "protocol", "sweep", "paths", "clamp", "dt_ms",
                              "duration_ms", "stimulus_source", "ton_ms", "toff_ms",
                              "amp_nA", "hypamp_nA", "qc": [{"check", "value",
                              "threshold"}], "warnings"}]}
    rheobase: {"cells": {name: {"rheobase_nA", "strategy", "warnings"}}}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from efex_gui.core.analysis.protocol_map import MeasureProtocols
from efex_gui.core.errors import EfexError, MetadataError
from efex_gui.core.numbers import finite_number

__all__ = [
    "LoadedPath",
    "all_files",
    "inspect_document",
    "load_path",
    "rheobase_document",
]

CONFIG_SUFFIXES = (".json", ".yaml", ".yml")


@dataclass
class LoadedPath:
    """A PATH made into extraction arguments.

    Attributes
    ----------
    kind : str
        ``"file"``, ``"folder"``, or the configuration's kind.
    kwargs : dict
        ``extract_efeatures`` keyword arguments (absolute paths); a folder or a file
        adds ``consensus_timing=True`` (consensus step windows, Ramp windows found
        on the currents).
    refused : dict
        Absolute path → why the import left the file out.
    exclusions : Any
        A session's exclusions (JSON), if any.
    lab_protocols : MeasureProtocols, optional
        An imported file's or folder's: the cell measures' protocols with its plain
        step protocols added (``MeasureProtocols.with_lab_steps``).
    """

    kind: str
    kwargs: dict[str, Any]
    refused: dict[str, str] = field(default_factory=dict)
    exclusions: Any = None
    lab_protocols: MeasureProtocols | None = None


def _absolute(files_metadata: dict[str, Any], root: Path) -> dict[str, Any]:
    from efex_gui.cli_config import resolve_paths

    return resolve_paths(files_metadata, root, root)


def _imported(root: Path, paths: list[str] | None, kind: str) -> LoadedPath:
    from efex_gui.core.recordings.ecodes import write_ecode_overrides
    from efex_gui.core.session.folder_import import import_folder

    found = import_folder(root, paths=paths)
    root = found.root
    files_metadata = _absolute(found.files_metadata, root)
    write_ecode_overrides(
        (pair for protocols in files_metadata.values() for pair in protocols.items()),
        found.ecode_overrides,
    )
    refused = {str(root / p): reason for p, reason in found.skipped.items()}
    _drop_unknown_ecodes(files_metadata, found.ecode_overrides, refused)
    # consensus_timing: each Step protocol's window is the consensus of its sweeps,
    # and a Ramp protocol's comes from its currents, found as the extraction reads
    # the cell (each file read once)
    kwargs = {
        "files_metadata": files_metadata,
        "consensus_timing": True,
        **folder_run_arguments(files_metadata, found.ecode_overrides),
    }
    names = list(dict.fromkeys(p for c in files_metadata.values() for p in c))
    measures = MeasureProtocols().with_lab_steps(names, found.ecode_overrides)
    return LoadedPath(kind, kwargs, refused, lab_protocols=measures)


def folder_run_arguments(
    files_metadata: dict[str, Any], ecode_overrides: dict[str, str]
) -> dict[str, Any]:
    """Return the rheobase protocols and automatic targets of a folder's run.

    A folder is not a BluePyEfe configuration: its protocols are taken by their
    eCode (``match_protocols_by_ecode``, as the GUI's folder import), so a lab's
    "IV_FI_saray" gives a rheobase and automatic targets.
    """
    from efex_gui.core.session.document import ExtractionSettings, Session

    session = Session(
        files_metadata=files_metadata,
        ecode_overrides=ecode_overrides,
        settings=ExtractionSettings(match_protocols_by_ecode=True),
    )
    return {
        "protocols_rheobase": session.rheobase_protocols(),
        "auto_targets": session.auto_targets(),
    }


def _drop_unknown_ecodes(
    files_metadata: dict[str, Any], overrides: dict[str, str], refused: dict[str, str]
) -> None:
    """Move the protocols no eCode reads out of ``files_metadata`` into ``refused``."""
    from efex_gui.core.importing.file_names import PATH_KEYS
    from efex_gui.core.session.dataset import ecode_name

    for cell, protocols in list(files_metadata.items()):
        for protocol in [p for p in protocols if ecode_name(p, overrides) is None]:
            reason = (
                f"no eCode reads the protocol {protocol!r} (a gap-free recording, or "
                "a name the eCode table does not know: give an eCode override in "
                "the import profile)"
            )
            for entry in protocols.pop(protocol):
                for key in PATH_KEYS:
                    if entry.get(key):
                        refused.setdefault(str(entry[key]), reason)
        if not protocols:
            del files_metadata[cell]


def load_path(path: str | Path, data_root: str | Path | None = None) -> LoadedPath:
    """Turn a file, folder, session or configuration into extraction arguments.

    Raises
    ------
    MetadataError
        The path does not exist, or nothing could be imported from it.
    """
    from efex_gui.cli_config import load_run_config

    source = Path(path).absolute()
    if source.is_dir():
        return _imported(source, None, "folder")
    if not source.exists():
        raise MetadataError(f"{source} does not exist.")
    if source.suffix.lower() in CONFIG_SUFFIXES:
        config = load_run_config(source, data_root)
        return LoadedPath(
            config.kind, dict(config.kwargs), exclusions=config.exclusions
        )
    try:
        return _imported(source.parent, [source.name], "file")
    except MetadataError as exc:
        return LoadedPath("file", {"files_metadata": {}}, {str(source): str(exc)})


def all_files(files_metadata: dict[str, Any]) -> list[str]:
    """Every file path of a files_metadata, in order, without repeats."""
    from efex_gui.core.importing.file_names import PATH_KEYS

    return list(
        dict.fromkeys(
            str(entry[key])
            for protocols in files_metadata.values()
            for entries in protocols.values()
            for entry in entries
            for key in PATH_KEYS
            if entry.get(key)
        )
    )


def _format_of(path: str) -> str | None:
    from efex_gui.core.readers import inspect_file

    try:
        return str(inspect_file(path).get("format") or "") or None
    except (EfexError, OSError, ValueError):
        return None


def _files(
    files_metadata: dict[str, Any], cells: list[Any], refused: dict[str, str]
) -> list[dict[str, Any]]:
    reasons = dict(refused)
    for cell in cells:
        for path, reason in getattr(cell, "skipped_files", []):
            reasons.setdefault(str(path), reason)
    paths = all_files(files_metadata)
    from efex_gui.core.importing.file_names import PATH_KEYS

    for protocols in files_metadata.values():  # a refused pair: both of its files
        for entries in protocols.values():
            for entry in entries:
                pair = [str(entry[k]) for k in PATH_KEYS if entry.get(k)]
                why = next((reasons[p] for p in pair if p in reasons), None)
                if why is not None:
                    for p in pair:
                        reasons.setdefault(p, why)
    ordered = list(dict.fromkeys(paths + sorted(refused)))
    return [
        {
            "path": p,
            "format": _format_of(p),
            "status": "refused" if p in reasons else "ok",
            "reason": reasons.get(p),
        }
        for p in ordered
    ]


def _recording(cell: str, recording: Any, qc: list[Any]) -> dict[str, Any]:
    from efex_gui.core.recordings.timing_consensus import stimulus_source

    dt = finite_number(getattr(recording, "dt", None))
    t = getattr(recording, "t", None)
    has_window = hasattr(recording, "ton")
    return {
        "cell": cell,
        "protocol": recording.protocol_name,
        "sweep": recording.name,
        "paths": [str(p) for p in recording.files],
        "clamp": "current",
        "dt_ms": dt,
        "duration_ms": None if t is None or dt is None else len(t) * dt,
        "stimulus_source": stimulus_source(recording) if has_window else "none",
        "ton_ms": finite_number(getattr(recording, "ton", None)),
        "toff_ms": finite_number(getattr(recording, "toff", None)),
        "amp_nA": finite_number(recording.amp),
        "hypamp_nA": finite_number(recording.hypamp),
        "qc": [
            {"check": r.check, "value": r.value, "threshold": r.threshold} for r in qc
        ],
        "warnings": [str(w) for w in recording.warnings],
    }


def _sorted_recordings(cell: Any, files: list[str]) -> list[tuple[int, Any]]:
    """(index, recording) of a cell, in file order, then sweep order.

    Inside a file the sweeps are in the natural order of their names (a file read
    under several protocols gives its sweeps protocol by protocol).
    """
    from efex_gui.core.importing.file_names import natural_key

    position = {p: i for i, p in enumerate(files)}

    def key(item: tuple[int, Any]) -> tuple[Any, ...]:
        index, recording = item
        first = [position[str(p)] for p in recording.files if str(p) in position]
        place = min(first) if first else len(files)
        return (place, natural_key(str(recording.name)), index)

    return sorted(enumerate(cell.recordings), key=key)


def inspect_document(
    loaded: list[LoadedPath], cells_per_path: list[list[Any]], settings: Any = None
) -> dict[str, Any]:
    """Build the ``inspect --json`` document of the PATHs read.

    Parameters
    ----------
    loaded : list of LoadedPath
        Each PATH as :func:`load_path` made it.
    cells_per_path : list of list of Cell
        The cells read for each PATH (``read_recordings`` with its kwargs).
    settings : QCSettings, optional
        The QC settings (default: the defaults).
    """
    from efex_gui.core.recordings.sweep_qc import evaluate_recordings

    files: list[dict[str, Any]] = []
    recordings: list[dict[str, Any]] = []
    for item, cells in zip(loaded, cells_per_path, strict=True):
        listed = _files(item.kwargs.get("files_metadata") or {}, cells, item.refused)
        files += listed
        order = [f["path"] for f in listed]
        for cell in cells:
            qc = evaluate_recordings(cell.recordings, settings)
            for index, recording in _sorted_recordings(cell, order):
                recordings.append(_recording(cell.name, recording, qc[index]))
    return {"files": files, "recordings": recordings}


def rheobase_document(cells: list[Any], strategy: str) -> dict[str, Any]:
    """Build the ``rheobase --json`` document."""
    return {
        "cells": {
            str(cell.name): {
                "rheobase_nA": finite_number(cell.rheobase),
                "strategy": strategy,
                "warnings": [str(w) for w in getattr(cell, "warnings", [])],
            }
            for cell in cells
        }
    }
