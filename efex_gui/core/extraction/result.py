"""What one extraction run of a session produced (plain data, Qt-free).

:class:`ExtractionResult` is what the
:class:`~efex_gui.core.extraction.incremental.IncrementalExtractor` returns and the GUI
shows and exports; :func:`inputs_signature` digests the session
inputs a run depends on, so a result whose signature differs from the session's is
stale.
"""

from __future__ import annotations

import hashlib
import json
import threading
import zlib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from efex_gui.core.extraction.feature_cache import CacheStats
from efex_gui.core.extraction.planning import snapshot_metadata, unchanged_metadata
from efex_gui.core.memo import LastInputMemo
from efex_gui.core.pickle_compat import field_state, restore_field_state

if TYPE_CHECKING:
    from efex_gui.core.session.document import Session

__all__ = ["ExtractionResult", "SweepRef", "inputs_signature"]


@dataclass(frozen=True, slots=True)
class SweepRef:
    """Where a recording comes from: its entry in ``files_metadata`` and trace index."""

    cell: str
    protocol: str
    entry: int
    index: int

    # slots: one per sweep; pickled as before slots (a dict of the fields)
    __getstate__ = field_state
    __setstate__ = restore_field_state


@dataclass
class ExtractionResult:
    """Everything one run produced (plain data; shown by the GUI, exported as is).

    ``features``, ``protocol_definitions`` and ``currents`` are exactly the three dicts
    that ``extract_efeatures`` returns for the same session.
    """

    cells: list[Any]
    protocols: list[Any]
    targets: list[dict[str, Any]]
    auto_targets: bool
    features: dict[str, Any]
    protocol_definitions: dict[str, Any]
    currents: dict[str, Any]
    settings: dict[str, Any]
    computed_rheobase: dict[str, Any]
    rheobase_overrides: dict[str, float]
    skipped: list[tuple[str, str, str]]
    signature: str
    stats: CacheStats = field(default_factory=CacheStats)
    entries_read: int = 0
    entries_cached: int = 0
    #: each recording's sweep, by the recording (recordings compare and hash by
    #: identity; keyed by ``id()`` an int object took 32 bytes more a sweep)
    refs: dict[Any, SweepRef] = field(default_factory=dict)
    #: wall-clock seconds the run took
    seconds: float = 0.0

    def sweep_ref(self, recording: Any) -> SweepRef | None:
        """Return the entry and trace index of one of this result's recordings."""
        try:
            return self.refs.get(recording)
        except TypeError:  # not hashable: not one of this result's
            return None

    def cell(self, name: str) -> Any:
        """Return the cell called ``name`` (None if absent)."""
        return next((c for c in self.cells if c.name == name), None)


def inputs_signature(
    session: Session, overrides: Mapping[str, float] | None = None
) -> str:
    """Digest everything a run depends on (to tell a stale result).

    ``overrides`` default to the session's ``rheobase_overrides``.
    """
    if overrides is None:
        overrides = session.rheobase_overrides
    settings = asdict(session.settings)
    # efex_gui's additions are left out at their defaults: a result saved before
    # them keeps its signature (it is not stale)
    if not settings["match_protocols_by_ecode"]:
        del settings["match_protocols_by_ecode"]
    document = {
        "data_root": str(session.data_root),
        "exclusions": session.exclusions.to_json(),
        "settings": settings,
        "rheobase_overrides": dict(sorted((overrides or {}).items())),
    }
    if session.ecode_overrides:
        document["ecode_overrides"] = dict(sorted(session.ecode_overrides.items()))
    parts = {key: _json_text(value) for key, value in document.items()}
    targets = session.targets
    parts["targets"] = _TARGETS.get(targets, lambda: _json_text(targets))
    return _METADATA.document_digest(session.files_metadata, parts)


def _json_text(value: Any) -> bytes:
    """``json.dumps(value, sort_keys=True, default=repr)``, encoded.

    A read-only mapping (the GUI's entries) is written as the dict it stands for.
    """
    return json.dumps(value, sort_keys=True, default=_as_json).encode()


def _as_json(value: Any) -> Any:
    return dict(value) if isinstance(value, Mapping) else repr(value)


class MetadataText:
    """The JSON text of a files_metadata, made again only for the cells that changed.

    A signature is asked after every edit; the JSON of 7 000 entries (44 cells)
    takes a tenth of a second. Each cell's text is kept compressed beside a
    snapshot of its metadata (``planning``'s tuples). A copy of the whole document
    and its text, as a :class:`~efex_gui.core.memo.LastInputMemo` keeps them, took
    1.2 kB a sweep. Thread-safe (the GUI thread and the extraction worker both ask).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cells: dict[str, tuple[Any, bytes]] = {}
        self._key_tuples: dict[tuple[str, ...], tuple[str, ...]] = {}
        #: bumped whenever a cell's text changes (or a cell comes or goes)
        self._generation = 0
        #: the last call's (generation, parts) and digest
        self._last: tuple[Any, str] = (None, "")

    def document_digest(
        self, metadata: Mapping[str, Any], parts: dict[str, bytes]
    ) -> str:
        """Digest ``json.dumps`` of ``parts`` with ``files_metadata``, sorted keys.

        The digest of the whole document's JSON text, fed in parts (each cell's text
        made again only if the cell changed). The same metadata and parts as the
        last call give the last digest without hashing again: a click asks three
        times.
        """
        with self._lock:
            generation = self._refresh(metadata)
            key = (generation, sorted(parts.items()))
            if generation is not None and key == self._last[0]:
                return self._last[1]
            parts = {**parts, "files_metadata": b""}
            digest = hashlib.blake2b(digest_size=16)
            for position, name in enumerate(sorted(parts)):
                digest.update(b"{" if position == 0 else b", ")
                digest.update(json.dumps(name).encode() + b": ")
                if name != "files_metadata":
                    digest.update(parts[name])
                elif generation is None:  # json.dumps's own key order
                    digest.update(_json_text(metadata))
                else:
                    self._feed(digest)
            digest.update(b"}")
            text = digest.hexdigest()
            self._last = (key, text)
            return text

    def _refresh(self, metadata: Mapping[str, Any]) -> int | None:
        """Make the texts of the cells that changed; return the texts' generation.

        None: the metadata's cells are not all named by strings (no memo).
        """
        if not all(isinstance(cell, str) for cell in metadata):
            return None
        changed = list(metadata) != list(self._cells)
        cells: dict[str, tuple[Any, bytes]] = {}
        for cell, protocols in metadata.items():
            known = self._cells.get(cell)
            if known is None or not _unchanged_text(known[0], protocols):
                text = zlib.compress(_json_text(protocols), 1)
                known = (_text_snapshot(protocols, self._key_tuples), text)
                changed = True
            cells[cell] = known
        self._cells = cells
        self._generation += changed
        return self._generation

    def _feed(self, digest: Any) -> None:
        """Feed the JSON text of the metadata :meth:`_refresh` saw last."""
        digest.update(b"{")
        for position, cell in enumerate(sorted(self._cells)):
            if position:
                digest.update(b", ")
            digest.update(json.dumps(cell).encode() + b": ")
            digest.update(zlib.decompress(self._cells[cell][1]))
        digest.update(b"}")

    def clear(self) -> None:
        """Forget every cell's text."""
        with self._lock:
            self._cells = {}
            self._key_tuples = {}
            self._generation += 1
            self._last = (None, "")


def _text_snapshot(protocols: Any, key_tuples: dict[Any, Any]) -> Any:
    """``planning``'s snapshot of a cell, or None when it is not a dict of lists."""
    try:
        return snapshot_metadata(protocols, key_tuples)
    except (AttributeError, TypeError):
        return None


def _unchanged_text(snapshot: Any, protocols: Any) -> bool:
    if snapshot is None:
        return False
    try:
        return unchanged_metadata(snapshot, protocols)
    except (AttributeError, TypeError):
        return False


#: the session's files_metadata and targets are large and rarely change between two
#: signatures (an exclusion changes neither): their JSON is made again only on change
_METADATA = MetadataText()
_TARGETS: LastInputMemo[bytes] = LastInputMemo()
