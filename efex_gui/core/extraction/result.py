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
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from efex_gui.core.extraction.feature_cache import CacheStats
from efex_gui.core.memo import LastInputMemo

if TYPE_CHECKING:
    from collections.abc import Mapping

    from efex_gui.core.session.document import Session

__all__ = ["ExtractionResult", "SweepRef", "inputs_signature"]


@dataclass(frozen=True)
class SweepRef:
    """Where a recording comes from: its entry in ``files_metadata`` and trace index."""

    cell: str
    protocol: str
    entry: int
    index: int


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
    refs: dict[int, SweepRef] = field(default_factory=dict)
    #: wall-clock seconds the run took
    seconds: float = 0.0

    def sweep_ref(self, recording: Any) -> SweepRef | None:
        """Return the entry and trace index of one of this result's recordings."""
        return self.refs.get(id(recording))

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
    document = {
        "data_root": str(session.data_root),
        "exclusions": session.exclusions.to_json(),
        "settings": asdict(session.settings),
        "rheobase_overrides": dict(sorted((overrides or {}).items())),
    }
    parts = {
        key: json.dumps(value, sort_keys=True, default=repr).encode()
        for key, value in document.items()
    }
    metadata, targets = session.files_metadata, session.targets
    parts["files_metadata"] = _METADATA.get(metadata, lambda: _json_text(metadata))
    parts["targets"] = _TARGETS.get(targets, lambda: _json_text(targets))
    # the digest of json.dumps(the whole document, sort_keys=True), fed in parts
    digest = hashlib.blake2b(digest_size=16)
    for position, key in enumerate(sorted(parts)):
        digest.update(b"{" if position == 0 else b", ")
        digest.update(json.dumps(key).encode() + b": ")
        digest.update(parts[key])
    digest.update(b"}")
    return digest.hexdigest()


def _json_text(value: Any) -> bytes:
    """``json.dumps(value, sort_keys=True, default=repr)``, encoded."""
    return json.dumps(value, sort_keys=True, default=repr).encode()


#: the session's files_metadata and targets are large and rarely change between two
#: signatures (an exclusion changes neither): their JSON is made again only on change
_METADATA: LastInputMemo[bytes] = LastInputMemo()
_TARGETS: LastInputMemo[bytes] = LastInputMemo()
