"""Nothing lost: one damaged file is named, skipped and reported; the rest extracts.

Each damage class of ``corpus.DAMAGES`` is applied to the NWB file of ``SimCell2`` of a
two-cell synthetic dataset. The reader must fail with our error naming the file and
the problem (or read no sweep, which the cell reports), ``extract_efeatures`` must
still extract ``SimCell1`` and the provenance must say what was skipped and why.
Single files at reader level: tests/core/readers/test_reader_damaged.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from efex_gui.core.errors import EfexError, MetadataError, ReaderError
from efex_gui.core.extraction import pipeline
from efex_gui.core.readers import read_file
from efex_gui.extract import extract_efeatures, read_recordings
from tests.conftest import shared_path
from tests.reliability.conftest import extraction_kwargs, provenance
from tests.reliability.corpus import (
    DAMAGES,
    MISLABELLED,
    flipped_header,
    truncated,
)

#: damage class -> what the reader's message must say (None: the file reads no sweep)
REASONS: dict[str, str | None] = {
    "truncated": "truncated file",
    "zero-length": "empty",
    "random bytes": "not an HDF5",
    "flipped header": "not an HDF5",
    "wrong extension": "not an Axon ABF",
    "NaN samples": "NaN/inf",
    "inf samples": "NaN/inf",
    "mismatched lengths": r"voltage has \d+ samples but current has \d+",
    "missing stimulus": None,
    "zero sampling rate": "sampling rate 0.0 Hz",
    "zero dt in metadata": r"dt=0\.0",
    "empty protocol": None,
}


def _damage(
    files_metadata: dict[str, Any], damage: str, folder: Path
) -> tuple[Path, dict[str, Any]]:
    """Point every entry of SimCell2 at a damaged copy of its file."""
    source = Path(files_metadata["SimCell2"]["IDRest"][0]["filepath"])
    path, overrides = DAMAGES[damage](source, folder)
    for entries in files_metadata["SimCell2"].values():
        for entry in entries:
            entry["filepath"] = str(path)
            entry.update(overrides)
    return path, overrides


def test_every_damage_class_has_an_expected_reason() -> None:
    assert set(REASONS) == set(DAMAGES)


@pytest.mark.parametrize("damage", sorted(DAMAGES))
def test_reader_names_the_file_and_the_problem(
    damage: str, files_metadata: dict, tmp_path: Path
) -> None:
    _damage(files_metadata, damage, tmp_path)
    entry = files_metadata["SimCell2"]["IDRest"][0]
    reason = REASONS[damage]
    if damage == "zero dt in metadata":  # the file is fine; the cell refuses dt
        cells = read_recordings({"SimCell2": {"IDRest": [entry]}})
        assert cells[0].recordings == []
        (path, message), *_ = cells[0].skipped_files
        assert path == entry["filepath"]
        assert path in message
        assert re.search(reason, message)
        return
    if reason is None:
        assert read_file(entry) == []
        return
    with pytest.raises((ReaderError, MetadataError), match=reason) as info:
        read_file(entry)
    assert entry["filepath"] in str(info.value)


@pytest.mark.parametrize("damage", sorted(DAMAGES))
def test_the_other_cell_still_extracts_and_the_skip_is_reported(
    damage: str, files_metadata: dict, tmp_path: Path
) -> None:
    path, _ = _damage(files_metadata, damage, tmp_path)
    out = tmp_path / "out"
    features, protocols, currents = extract_efeatures(
        str(out), files_metadata, write_files=True, **extraction_kwargs()
    )
    assert "SimCell1" in currents["all_threshold_current"]
    assert features
    assert protocols
    assert json.loads((out / "features.json").read_text()) == json.loads(
        json.dumps(features)
    )
    record = provenance(out)
    if REASONS[damage] is None:  # nothing read: the cell says so
        assert "skipped_files" not in record
        assert any(
            "gave no sweep" in m and str(path) in m
            for m in record["warnings"]["SimCell2"]
        )
        return
    skipped = record["skipped_files"]
    assert {cell for cell, _, _ in skipped} == {"SimCell2"}
    assert len(skipped) == sum(len(e) for e in files_metadata["SimCell2"].values())
    for _, skipped_path, reason in skipped:
        assert skipped_path == str(path)
        assert str(path) in reason


def test_a_damaged_file_does_not_change_the_other_cells_numbers(
    files_metadata: dict, tmp_path: Path
) -> None:
    clean = extract_efeatures(None, files_metadata, **extraction_kwargs())
    clean_one = extract_efeatures(
        None, {"SimCell1": files_metadata["SimCell1"]}, **extraction_kwargs()
    )
    _damage(files_metadata, "truncated", tmp_path)
    damaged = extract_efeatures(None, files_metadata, **extraction_kwargs())
    assert (
        damaged[2]["all_threshold_current"]["SimCell1"]
        == (clean[2]["all_threshold_current"]["SimCell1"])
    )
    assert damaged[0] == clean_one[0]  # the features of the remaining cell alone


def test_strict_mode_raises_on_the_damaged_file(
    files_metadata: dict, tmp_path: Path
) -> None:
    path, _ = _damage(files_metadata, "NaN samples", tmp_path)
    with pytest.raises(ReaderError, match="NaN/inf") as info:
        pipeline.extract_efeatures(
            None, files_metadata, strict=True, **extraction_kwargs()
        )
    assert info.value.path == str(path)


@pytest.mark.parametrize("label", sorted(MISLABELLED))
def test_mislabelled_units_are_flagged_and_kept(
    label: str, files_metadata: dict, tmp_path: Path
) -> None:
    for entries in files_metadata["SimCell2"].values():
        for entry in entries:
            entry.update(MISLABELLED[label])
    out = tmp_path / "out"
    extract_efeatures(str(out), files_metadata, write_files=True, **extraction_kwargs())
    warnings = provenance(out)["warnings"]
    unit = "v_unit" if label.startswith("voltage") else "i_unit"
    flagged = [m for m in warnings["SimCell2"] if f"fix {unit}" in m]
    assert flagged, warnings["SimCell2"][:3]
    assert "SimCell1" not in warnings or not any(
        "fix " in m for m in warnings["SimCell1"]
    )


# --- shared recordings: B6 (MouseNeuron1) with one damaged sweep --------------------

B6B8 = ("oracle", "bluepyefe-b6b8")


def _b6b8(folder: Path, damage: Any) -> tuple[dict, dict]:
    inputs = json.loads(shared_path(*B6B8, "inputs.json").read_text())
    for cell in inputs["files_metadata"].values():
        for entries in cell.values():
            for entry in entries:
                for key in ("v_file", "i_file"):
                    entry[key] = str(shared_path(entry[key]))
    entry = inputs["files_metadata"]["MouseNeuron1"]["IDRest"][0]
    entry["v_file"] = str(damage(Path(entry["v_file"]), folder))
    return inputs, entry


@pytest.mark.parametrize("damage", [truncated, flipped_header])
def test_b6b8_with_a_damaged_sweep_keeps_the_other_cell_as_the_oracle(
    damage: Any, tmp_path: Path
) -> None:
    inputs, entry = _b6b8(tmp_path, damage)
    kwargs = {k: v for k, v in inputs.items() if k != "files_metadata"}
    out = tmp_path / "out"
    _, _, currents = extract_efeatures(
        str(out), inputs["files_metadata"], write_files=True, **kwargs
    )
    oracle = json.loads(
        shared_path(*B6B8, "holding_threshold_currents.json").read_text()
    )
    assert currents["all_threshold_current"]["MouseNeuron2"] == pytest.approx(
        oracle["all_threshold_current"]["MouseNeuron2"], rel=1e-9
    )
    (cell, path, reason), *rest = provenance(out)["skipped_files"]
    assert (cell, path, rest) == ("MouseNeuron1", entry["v_file"], [])
    assert entry["v_file"] in reason


def test_only_our_errors_escape_read_recordings(
    files_metadata: dict, tmp_path: Path
) -> None:
    """With every damage at once, one per protocol of SimCell2, nothing crashes."""
    source = Path(files_metadata["SimCell2"]["IDRest"][0]["filepath"])
    protocols = list(files_metadata["SimCell2"])
    for protocol, damage in zip(protocols, sorted(DAMAGES), strict=False):
        path, overrides = DAMAGES[damage](source, tmp_path)
        for entry in files_metadata["SimCell2"][protocol]:
            entry.update(overrides, filepath=str(path))
    try:
        cells = read_recordings(files_metadata)
    except EfexError as exc:  # pragma: no cover - would be a regression
        pytest.fail(f"read_recordings raised {exc!r}")
    assert len(cells) == 2
    assert cells[0].recordings
