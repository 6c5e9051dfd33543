"""The digest of a session's inputs (``result.inputs_signature``)."""

from __future__ import annotations

import hashlib
import json
import zlib
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from efex_gui.core.extraction.result import MetadataText, inputs_signature
from efex_gui.core.session.document import Session
from efex_gui.core.session.exclusions import ExclusionKey
from tests.conftest import held_bytes

if TYPE_CHECKING:
    import pytest


def _session(cells: int = 3) -> Session:
    def entry(cell: int, i: int) -> dict[str, Any]:
        return {
            "filepath": f"cell{cell}/sweep_{i:03d}.ibw",
            "i_unit": "pA",
            "v_unit": "mV",
            "dt": 0.1,
            "ljp": 14.0,
            "repetition": [1, 2],
            "ordinal": str(i),
        }

    return Session(
        files_metadata={
            f"cell{c}": {
                "IDRest": [entry(c, i) for i in range(20)],
                "IV": [entry(c, 100 + i) for i in range(5)],
            }
            for c in range(cells)
        },
        data_root=Path("/data"),
    )


def _whole_document_digest(session: Session) -> str:
    """The definition: the digest of json.dumps of the whole document.

    efex_gui's additions (``match_protocols_by_ecode``, ``ecode_overrides``) are in
    it only when set: a signature saved before them is unchanged.
    """
    settings = asdict(session.settings)
    if not settings["match_protocols_by_ecode"]:
        del settings["match_protocols_by_ecode"]
    document = {
        "data_root": str(session.data_root),
        "exclusions": session.exclusions.to_json(),
        "settings": settings,
        "rheobase_overrides": dict(sorted(session.rheobase_overrides.items())),
        "files_metadata": session.files_metadata,
        "targets": session.targets,
    }
    if session.ecode_overrides:
        document["ecode_overrides"] = session.ecode_overrides
    text = json.dumps(document, sort_keys=True, default=repr).encode()
    return hashlib.blake2b(text, digest_size=16).hexdigest()


def test_the_signature_is_the_digest_of_the_whole_documents_json() -> None:
    """Saved sessions hold signatures: their definition must not change."""
    session = _session()
    assert inputs_signature(session) == _whole_document_digest(session)
    session.files_metadata["a cell with ünicode"] = {}
    session.files_metadata["cell0"]["IDRest"][3]["ljp"] = float("nan")
    assert inputs_signature(session) == _whole_document_digest(session)
    session.files_metadata.clear()
    assert inputs_signature(session) == _whole_document_digest(session)


def test_a_signature_saved_before_the_ecode_additions_is_unchanged() -> None:
    """A session without them has the digest of the document as it was before."""
    session = _session()
    settings = asdict(session.settings)
    del settings["match_protocols_by_ecode"]
    before = {
        "data_root": str(session.data_root),
        "exclusions": session.exclusions.to_json(),
        "settings": settings,
        "rheobase_overrides": {},
        "files_metadata": session.files_metadata,
        "targets": None,
    }
    text = json.dumps(before, sort_keys=True, default=repr).encode()
    digest = hashlib.blake2b(text, digest_size=16).hexdigest()
    assert inputs_signature(session) == digest


def test_an_ecode_mapping_or_the_ecode_rule_changes_the_signature() -> None:
    """Both change what a run reads and computes: an earlier result is stale."""
    session = _session()
    plain = inputs_signature(session)
    session.ecode_overrides["IV"] = "Ramp"
    mapped = inputs_signature(session)
    session.settings.match_protocols_by_ecode = True
    assert len({plain, mapped, inputs_signature(session)}) == 3
    assert inputs_signature(session) == _whole_document_digest(session)


def test_a_change_in_place_changes_the_signature() -> None:
    session = _session()
    first = inputs_signature(session)
    assert inputs_signature(session) == first
    repetition = session.files_metadata["cell1"]["IDRest"][7]["repetition"]
    repetition.append(3)  # a nested value, in place
    second = inputs_signature(session)
    assert second != first
    assert second == _whole_document_digest(session)
    session.files_metadata["cell2"]["IV"][0]["dt"] = 0.2
    assert inputs_signature(session) == _whole_document_digest(session)
    del session.files_metadata["cell0"]
    assert inputs_signature(session) == _whole_document_digest(session)


def test_the_text_kept_between_signatures_is_small() -> None:
    """A copy of the document and its JSON took 1.2 kB an entry (7 000 at 44 cells)."""
    session = _session(cells=8)
    memo = MetadataText()
    memo.document_digest(session.files_metadata, {})
    per_entry = held_bytes(memo._cells, session.files_metadata) / (8 * 25)
    assert per_entry < 300


def test_a_signature_asked_again_is_not_hashed_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An exclusion click asks three times for the same inputs' signature."""
    session = _session(cells=4)
    first = inputs_signature(session)
    hashed: list[bytes] = []
    real = zlib.decompress

    def counting(data: bytes, *args: Any) -> bytes:
        hashed.append(data)
        return real(data, *args)

    monkeypatch.setattr(zlib, "decompress", counting)
    assert inputs_signature(session) == first
    assert hashed == []
    session.exclusions = session.exclusions.with_excluded([ExclusionKey("cell1")])
    second = inputs_signature(session)
    assert second != first
    assert second == _whole_document_digest(session)
    assert len(hashed) == 4  # every cell's text, once
    session.files_metadata["cell3"]["IV"][2]["dt"] = 0.5  # in place
    assert inputs_signature(session) == _whole_document_digest(session)


def test_read_only_entries_sign_as_the_dicts_they_stand_for() -> None:
    """The GUI's entries are read-only mappings: a saved session's signature (made
    from dicts) must still be the signature of the session reopened in the GUI."""
    from efex_gui.core.session.dataset import Dataset

    session = _session()
    signed = inputs_signature(session)
    Dataset(session.files_metadata).make_read_only()
    assert type(session.files_metadata["cell0"]["IDRest"][0]).__name__ == (
        "CompactMapping"
    )
    assert inputs_signature(session) == signed
    assert MetadataText().document_digest(session.files_metadata, {}) == (
        MetadataText().document_digest(_session().files_metadata, {})
    )
