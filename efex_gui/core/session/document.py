"""The session: everything needed to reproduce an extraction, as a versioned JSON file.

A :class:`Session` is plain data (no Qt): the data root, the ``files_metadata`` with
the user's metadata edits, protocol → eCode overrides, exclusions with reasons,
targets and the extraction settings. The GUI saves it; ``efex extract session.json``
runs it through :meth:`Session.to_extract_kwargs`, so the GUI's export and the CLI's
are the same call on the same arguments.

File layout (``format_version`` 2)::

    {"kind": "efex-session", "format_version": 1,
     "data_root": "<folder, relative to the session file>",
     "files_metadata": {cell: {protocol: [entry, ...]}},   # paths relative to data_root
     "ecode_overrides": {protocol: ecode name},
     "exclusions": [{"key": [cell, protocol, file, index], "reason": str}, ...],
     "targets": [...] or null,
     "rheobase_overrides": {cell: rheobase in nA},
     "settings": {protocols_rheobase, rheobase_strategy, rheobase_settings,
                  efel_settings, threshold_nvalue_save, protocol_mode,
                  absolute_amplitude, default_std_value,
                  match_protocols_by_ecode}}

Older layouts are upgraded on load by one function per version step
(:data:`MIGRATIONS`). Version 0 is the shape of an ``inputs.json`` (the
``extract_efeatures`` keyword arguments with ``files_metadata`` and ``targets``),
so such a file opens as a session; version 1 had no ``rheobase_overrides``.
"""

from __future__ import annotations

import copy
import json
import math
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from efex_gui.core.atomic_files import atomic_write_text
from efex_gui.core.errors import MetadataError, SettingsError
from efex_gui.core.importing.file_names import (
    PATH_KEYS,
    absolute_path,
    relative_to,
    with_absolute_paths,
)
from efex_gui.core.recordings.qc_settings import QCSettings
from efex_gui.core.session.dataset import guess_data_root
from efex_gui.core.session.exclusions import (
    Exclusions,
    ReadMetadata,
    TraceFilter,
    apply_exclusions,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from efex_gui.core.targets.auto import AutoTarget

FORMAT_VERSION = 2
KIND = "efex-session"


@dataclass
class ExtractionSettings:
    """The ``extract_efeatures`` keyword arguments a session keeps (BluePyEfe defaults).

    ``None`` keeps BluePyEfe's meaning: default efel settings, default rheobase
    protocols. One setting is efex_gui's own: ``match_protocols_by_ecode`` (off by
    default, as BluePyEfe; on for a session made from a folder) lets the rheobase and
    the automatic targets take the session's protocols by their eCode, not only by
    BluePyEfe's names (:meth:`Session.rheobase_protocols`,
    :meth:`Session.auto_targets`; docs/compatibility.md).
    """

    protocols_rheobase: list[str] | None = None
    rheobase_strategy: str = "absolute"
    rheobase_settings: dict[str, Any] | None = None
    efel_settings: dict[str, Any] | None = None
    threshold_nvalue_save: int = 1
    protocol_mode: str = "mean"
    absolute_amplitude: bool = False
    default_std_value: float = 1e-3
    match_protocols_by_ecode: bool = False

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ExtractionSettings:
        """Build from a dict, rejecting unknown keys with a clear error."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise SettingsError(f"Unknown session settings: {', '.join(unknown)}.")
        by_ecode = data.get("match_protocols_by_ecode", False)
        if not isinstance(by_ecode, bool):  # "false" would be true
            raise SettingsError(
                "Session setting 'match_protocols_by_ecode' must be true or false, "
                f"not {by_ecode!r}."
            )
        return cls(**copy.deepcopy(dict(data)))


@dataclass
class Session:
    """Project state: what to read, how to interpret it, what to leave out.

    Parameters
    ----------
    files_metadata : dict
        ``{cell: {protocol: [entry, ...]}}``; paths relative to ``data_root`` (or
        absolute).
    data_root : Path, optional
        Absolute folder the relative paths start from (working directory if None).
    ecode_overrides : dict
        Protocol name → name resolved by the eCode table instead.
    exclusions : Exclusions
        Excluded cells, protocols, entries and traces.
    targets : list of dict, optional
        BluePyEfe targets; None for auto targets.
    settings : ExtractionSettings
        The other ``extract_efeatures`` arguments.
    rheobase_overrides : dict
        Cell name → rheobase (nA) used instead of the strategy's value.
    qc : QCSettings
        The automatic sweep QC: which checks run and their thresholds.
    path : Path, optional
        Where the session was last loaded from or saved to (not saved, not compared).

    Attributes
    ----------
    path_strings : dict
        The absolute paths :meth:`resolve` gave, one string per file, shared by the
        browser's recordings and the extraction's plans (a path was held two or three
        times per sweep). Not saved, not compared; gone with the session (unlike
        ``sys.intern``'s strings, immortal from Python 3.12).
    """

    #: entries are read-only mappings in the GUI (see ``Dataset.set_config``)
    files_metadata: dict[str, dict[str, list[Mapping[str, Any]]]] = field(
        default_factory=dict
    )
    data_root: Path | None = None
    ecode_overrides: dict[str, str] = field(default_factory=dict)
    exclusions: Exclusions = field(default_factory=Exclusions)
    targets: list[dict[str, Any]] | None = None
    settings: ExtractionSettings = field(default_factory=ExtractionSettings)
    rheobase_overrides: dict[str, float] = field(default_factory=dict)
    qc: QCSettings = field(default_factory=QCSettings)
    format_version: int = FORMAT_VERSION
    kind: str = KIND
    path: Path | None = field(default=None, compare=False)
    path_strings: dict[str, str] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    # --- (de)serialisation ------------------------------------------------------
    def to_dict(self, base_dir: str | Path | None = None) -> dict[str, Any]:
        """Return the JSON document, with ``data_root`` relative to ``base_dir``."""
        root = self.data_root if self.data_root is not None else Path.cwd()
        stored_root = relative_to(root, base_dir) if base_dir is not None else str(root)
        return {
            "kind": KIND,
            "format_version": FORMAT_VERSION,
            "data_root": stored_root,
            "files_metadata": copy.deepcopy(self.files_metadata),
            "ecode_overrides": dict(self.ecode_overrides),
            "exclusions": self.exclusions.to_json(),
            "targets": copy.deepcopy(self.targets),
            "rheobase_overrides": dict(self.rheobase_overrides),
            "settings": asdict(self.settings),
            "qc": self.qc.to_dict(),
        }

    @classmethod
    def from_dict(
        cls,
        data: Mapping[str, Any],
        base_dir: str | Path | None = None,
        *,
        copy_input: bool = True,
    ) -> Session:
        """Build from a JSON document of any known version (upgraded first).

        ``copy_input=False`` keeps the document's own lists and dicts (a document
        just parsed, which nobody else holds: a 44-cell session opens without
        copying its files_metadata).

        Raises
        ------
        MetadataError
            When the document is not a session or is damaged.
        SettingsError
            When its settings are unknown.
        """
        doc = migrate(data)
        fm = doc.get("files_metadata")
        if not isinstance(fm, dict) or not all(
            isinstance(p, dict) and all(isinstance(e, list) for e in p.values())
            for p in fm.values()
        ):
            raise MetadataError(
                "Session 'files_metadata' must be {cell: {protocol: [...]}}."
            )
        root = Path(doc.get("data_root") or ".")
        if not root.is_absolute():
            root = Path(base_dir or Path.cwd()) / root
        targets = doc.get("targets")
        if targets is not None and not isinstance(targets, list):
            raise MetadataError("Session 'targets' must be a list or null.")
        return cls(
            files_metadata=copy.deepcopy(fm) if copy_input else fm,
            data_root=Path(os.path.normpath(root)),
            ecode_overrides=dict(doc.get("ecode_overrides") or {}),
            exclusions=Exclusions.from_json(doc.get("exclusions") or []),
            targets=copy.deepcopy(targets) if copy_input else targets,
            settings=ExtractionSettings.from_dict(doc.get("settings") or {}),
            rheobase_overrides=_overrides(doc.get("rheobase_overrides")),
            qc=QCSettings.from_dict(doc.get("qc")),
        )

    def save(self, path: str | Path) -> None:
        """Write the session to ``path`` atomically (temporary file, ``os.replace``)."""
        path = Path(path).absolute()
        text = json.dumps(self.to_dict(path.parent), indent=2, allow_nan=True)
        atomic_write_text(path, text + "\n")
        self.path = path

    @classmethod
    def load(cls, path: str | Path) -> Session:
        """Read a session file (any known version).

        Raises
        ------
        MetadataError
            When the file is not valid JSON or not a session.
        """
        path = Path(path).absolute()
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise MetadataError(
                f"{path}: not a readable session file ({exc})."
            ) from exc
        return cls.from_document(data, path)

    @classmethod
    def from_document(cls, data: Any, path: str | Path) -> Session:
        """Build from the parsed JSON of the session file ``path`` (not copied).

        The document becomes the session's (see :meth:`from_dict`
        ``copy_input=False``): pass one nobody else holds, e.g. just parsed.

        Raises
        ------
        MetadataError
            When the document is not a session.
        """
        path = Path(path).absolute()
        if not isinstance(data, dict):
            raise MetadataError(f"{path}: a session file holds a JSON object.")
        try:
            session = cls.from_dict(data, path.parent, copy_input=False)
        except (MetadataError, SettingsError) as exc:
            raise type(exc)(f"{path}: {exc}") from exc
        session.path = path
        return session

    # --- use --------------------------------------------------------------------
    def resolve(self, path: str) -> str:
        """Return an absolute path for a path stored in ``files_metadata``."""
        return absolute_path(path, self.data_root or Path.cwd(), self.path_strings)

    def absolute_files_metadata(
        self,
        files_metadata: ReadMetadata | None = None,
    ) -> dict[str, dict[str, list[dict[str, Any]]]]:
        """Copy ``files_metadata`` (default: the session's) with absolute paths."""
        source = self.files_metadata if files_metadata is None else files_metadata
        return {
            cell: {
                protocol: [
                    with_absolute_paths(entry, self.resolve) for entry in entries
                ]
                for protocol, entries in protocols.items()
            }
            for cell, protocols in source.items()
        }

    def to_extract_kwargs(self) -> dict[str, Any]:
        """Return the ``extract_efeatures`` keyword arguments reproducing this session.

        Exclusions are applied first (excluded entries leave ``files_metadata``; single
        traces of multi-trace files are dropped by a :class:`TraceFilter` passed as
        ``recording_reader``). Paths are absolute. ``output_directory`` and
        ``write_files`` are the caller's. Rheobase overrides, when there are any,
        are passed as ``rheobase_overrides`` (an argument of
        :func:`efex_gui.core.extraction.pipeline.extract_efeatures`, not of
        BluePyEfe's).
        """
        from efex_gui.core.recordings.ecodes import write_ecode_overrides

        kept, partial = apply_exclusions(self.files_metadata, self.exclusions)
        files_metadata = self.absolute_files_metadata(kept)
        write_ecode_overrides(
            (
                pair
                for protocols in files_metadata.values()
                for pair in protocols.items()
            ),
            self.ecode_overrides,
        )
        settings = copy.deepcopy(asdict(self.settings))
        del settings["match_protocols_by_ecode"]  # efex_gui's: in the two below
        settings["protocols_rheobase"] = self.rheobase_protocols()
        kwargs: dict[str, Any] = {
            "files_metadata": files_metadata,
            "targets": copy.deepcopy(self.targets),
            **settings,
        }
        auto_targets = self.auto_targets()
        if self.targets is None and auto_targets is not None:
            kwargs["auto_targets"] = auto_targets
        if self.rheobase_overrides:
            kwargs["rheobase_overrides"] = dict(self.rheobase_overrides)
        if partial:
            kwargs["recording_reader"] = TraceFilter(
                self._trace_filter_keys(kept, partial)
            )
        return kwargs

    def protocol_names(self) -> list[str]:
        """Return the protocols of ``files_metadata``, each once, in order."""
        return list(
            dict.fromkeys(
                protocol
                for protocols in self.files_metadata.values()
                for protocol in protocols
            )
        )

    def rheobase_protocols(self) -> list[str] | None:
        """Return the rheobase protocols a run of this session uses.

        ``settings.protocols_rheobase`` (None: BluePyEfe's preset, which
        ``extract_efeatures`` logs). With ``settings.match_protocols_by_ecode`` the
        list (the preset when None) is followed by the session's protocols of the
        same eCodes (:func:`~efex_gui.core.recordings.ecodes.names.protocols_like`):
        a lab's "IV_FI_saray" or a protocol mapped to ``Step`` gives a rheobase.
        """
        from efex_gui.core.recordings.ecodes.names import protocols_like
        from efex_gui.core.rheobase.strategies import PRESET_PROTOCOLS_RHEOBASE

        listed = self.settings.protocols_rheobase
        if not self.settings.match_protocols_by_ecode:
            return copy.deepcopy(listed)
        names = PRESET_PROTOCOLS_RHEOBASE if listed is None else listed
        return protocols_like(names, self.protocol_names(), self.ecode_overrides)

    def auto_targets(self) -> list[AutoTarget] | None:
        """Return the automatic targets of a run of this session (fresh objects).

        None (BluePyEfe's defaults, matched by name) unless
        ``settings.match_protocols_by_ecode``: then BluePyEfe's defaults, each
        followed by the session's protocols of the same eCodes as its own.
        """
        if not self.settings.match_protocols_by_ecode:
            return None
        from efex_gui.core.recordings.ecodes.names import protocols_like
        from efex_gui.core.targets.auto import default_auto_targets

        protocols = self.protocol_names()
        targets = default_auto_targets()
        for target in targets:
            target.protocols = protocols_like(
                target.protocols, protocols, self.ecode_overrides
            )
        return targets

    def _trace_filter_keys(
        self,
        kept: Mapping[str, Mapping[str, list[dict[str, Any]]]],
        partial: Mapping[tuple[str, str, str], set[int]],
    ) -> dict[tuple[str, ...], set[int]]:
        """Re-key partial exclusions by (cell, absolute path, protocol_name at read).

        The cell stays in the key: another cell reading the same file under the
        same protocol keeps its traces (:class:`TraceFilter`).
        """
        keys: dict[tuple[str, ...], set[int]] = {}
        for (cell, protocol, file), indices in partial.items():
            for entry in kept[cell][protocol]:
                if (entry.get("filepath") or entry.get("v_file")) == file:
                    name = str(entry.get("protocol_name", protocol))
                    key = (cell, self.resolve(file), name)
                    keys.setdefault(key, set()).update(indices)
        return keys


def relativize_paths(
    files_metadata: dict[str, dict[str, list[Mapping[str, Any]]]], root: str | Path
) -> None:
    """Rewrite absolute paths under ``root`` as relative ``/`` paths.

    An entry with such a path is replaced by a new dict (never changed in place).
    """
    for protocols in files_metadata.values():
        for entries in protocols.values():
            for position, entry in enumerate(entries):
                relative = {
                    key: relative_to(value, root)
                    for key in PATH_KEYS
                    if isinstance(value := entry.get(key), str)
                    and Path(value).is_absolute()
                }
                if relative:
                    entries[position] = {**entry, **relative}


def is_files_metadata(data: Any) -> bool:
    """Whether ``data`` has the shape ``{cell: {protocol: [dict, ...]}}``."""
    return (
        isinstance(data, dict)
        and bool(data)
        and all(
            isinstance(protocols, dict)
            and all(
                isinstance(entries, list) and all(isinstance(e, dict) for e in entries)
                for entries in protocols.values()
            )
            for protocols in data.values()
        )
    )


def open_json(path: str | Path) -> Session:
    """Open a session file, an ``extract_efeatures`` config or a bare files_metadata.

    Relative paths of a config or a files_metadata JSON are relative to its folder
    (as ``inputs.json``-style configs are written), or else to the first folder above
    it, or the working directory, where they exist (:func:`guess_data_root`);
    absolute paths under that folder are made relative, so the session can move with
    its data.

    Raises
    ------
    MetadataError
        When the file is none of the three.
    """
    path = Path(path).absolute()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MetadataError(f"{path}: not a readable JSON file ({exc}).") from exc
    is_session = False
    if isinstance(data, dict) and (
        data.get("kind") == KIND or "files_metadata" in data
    ):
        # parsed once: from_document keeps the document (only ``kind`` is read after)
        is_session = "kind" in data
        session = Session.from_document(data, path)
    elif is_files_metadata(data):
        session = Session(files_metadata=data, data_root=path.parent)
    else:
        raise MetadataError(
            f"{path}: neither a session, an extraction config nor a files_metadata."
        )
    if not is_session and session.data_root is not None:
        # configs are often written next to, not above, their data
        session.data_root = guess_data_root(session.files_metadata, session.data_root)
    if session.data_root is not None and not session.exclusions:
        relativize_paths(session.files_metadata, session.data_root)
    session.path = path if session.kind == KIND and is_session else None
    return session


def _overrides(data: Any) -> dict[str, float]:
    """Validate a document's ``rheobase_overrides`` (cell → finite nA)."""
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise MetadataError("Session 'rheobase_overrides' must be {cell: nA}.")
    out = {}
    for cell, value in data.items():
        if (
            not isinstance(value, int | float)
            or isinstance(value, bool)
            or not math.isfinite(value)
        ):
            raise MetadataError(
                f"Session 'rheobase_overrides': the rheobase of cell {cell!r} "
                f"must be a finite number of nA, not {value!r}."
            )
        out[str(cell)] = float(value)
    return out


# --- migrations ---------------------------------------------------------------------


def _from_v0(data: dict[str, Any]) -> dict[str, Any]:
    """Version 0 (an inputs.json: extract_efeatures arguments) → version 1."""
    settings_keys = {f.name for f in fields(ExtractionSettings)}
    return {
        "kind": KIND,
        "format_version": 1,
        "data_root": data.get("data_root", "."),
        "files_metadata": data.get("files_metadata"),
        "ecode_overrides": {},
        "exclusions": [],
        "targets": data.get("targets"),
        "settings": {k: v for k, v in data.items() if k in settings_keys},
    }


def _from_v1(data: dict[str, Any]) -> dict[str, Any]:
    """Version 1 → version 2: per-cell rheobase overrides (none)."""
    return {**data, "format_version": 2, "rheobase_overrides": {}}


#: version n → the function upgrading a version-n document to version n + 1
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {
    0: _from_v0,
    1: _from_v1,
}


def document_version(data: Mapping[str, Any]) -> int:
    """Return the format version of a session document (0 for a bare inputs.json)."""
    if "format_version" not in data and "kind" not in data and "files_metadata" in data:
        return 0
    if data.get("kind") != KIND:
        raise MetadataError(f"Not an efex session (kind {data.get('kind')!r}).")
    version = data.get("format_version")
    if not isinstance(version, int) or version < 0:
        raise MetadataError(f"Session format_version {version!r} is not a version.")
    return version


def migrate(data: Mapping[str, Any]) -> dict[str, Any]:
    """Upgrade a session document to :data:`FORMAT_VERSION`, one step at a time.

    The caller's document is never changed: a deep copy is upgraded (a current one is
    returned as a shallow copy, which :meth:`Session.from_dict` copies as it keeps).
    """
    doc = dict(data)
    version = document_version(doc)
    if version < FORMAT_VERSION:
        doc = copy.deepcopy(doc)
    if version > FORMAT_VERSION:
        raise MetadataError(
            f"Session format_version {version} was written by a newer efex_gui "
            f"(this one reads up to {FORMAT_VERSION})."
        )
    while version < FORMAT_VERSION:
        doc = MIGRATIONS[version](doc)
        version += 1
    return doc
