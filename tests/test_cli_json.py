"""``efex inspect --json``, ``efex rheobase --json`` and ``efex extract FOLDER``.

The documents are checked against the schemas the issue gives, with a tiny validator
(type, required keys, no extra keys, items, enum) so no dependency is needed.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from efex_gui.cli import EXIT_OK, EXIT_PARTIAL, main
from tests.conftest import shared_path

if TYPE_CHECKING:
    from pathlib import Path

NUMBER_OR_NULL = {"type": ["number", "null"]}
STRING_OR_NULL = {"type": ["string", "null"]}
INSPECT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["files", "recordings"],
    "properties": {
        "files": {"type": "array", "items": {
            "type": "object",
            "required": ["path", "format", "status", "reason"],
            "properties": {
                "path": {"type": "string"}, "format": STRING_OR_NULL,
                "status": {"enum": ["ok", "refused"]}, "reason": STRING_OR_NULL,
            },
        }},
        "recordings": {"type": "array", "items": {
            "type": "object",
            "required": ["cell", "protocol", "sweep", "paths", "clamp", "dt_ms",
                         "duration_ms", "stimulus_source", "ton_ms", "toff_ms",
                         "amp_nA", "hypamp_nA", "qc", "warnings"],
            "properties": {
                "cell": {"type": "string"}, "protocol": {"type": "string"},
                "sweep": {"type": "string"},
                "paths": {"type": "array", "items": {"type": "string"}},
                "clamp": {"enum": ["current", "voltage"]},
                "dt_ms": {"type": "number"}, "duration_ms": {"type": "number"},
                "stimulus_source": {
                    "enum": ["user", "file", "consensus", "detected", "none"]
                },
                "ton_ms": NUMBER_OR_NULL, "toff_ms": NUMBER_OR_NULL,
                "amp_nA": NUMBER_OR_NULL, "hypamp_nA": NUMBER_OR_NULL,
                "qc": {"type": "array", "items": {
                    "type": "object", "required": ["check", "value", "threshold"],
                    "properties": {"check": {"type": "string"},
                                   "value": NUMBER_OR_NULL,
                                   "threshold": NUMBER_OR_NULL},
                }},
                "warnings": {"type": "array", "items": {"type": "string"}},
            },
        }},
    },
}  # fmt: skip
RHEOBASE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["cells"],
    "properties": {
        "cells": {
            "type": "object",
            "additional": {
                "type": "object",
                "required": ["rheobase_nA", "strategy", "warnings"],
                "properties": {
                    "rheobase_nA": NUMBER_OR_NULL,
                    "strategy": {"type": "string"},
                    "warnings": {"type": "array", "items": {"type": "string"}},
                },
            },
        }
    },
}
_TYPES = {
    "object": dict,
    "array": list,
    "string": str,
    "number": (int, float),
    "null": type(None),
}


def validate(value: Any, schema: dict[str, Any], where: str = "$") -> None:
    """Raise AssertionError where ``value`` does not follow ``schema``."""
    if "enum" in schema:
        assert value in schema["enum"], f"{where}: {value!r} not in {schema['enum']}"
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        ok = any(
            isinstance(value, _TYPES[t]) and not isinstance(value, bool) for t in types
        )
        assert ok, f"{where}: {value!r} is not {types}"
    if isinstance(value, dict) and "properties" in schema:
        assert set(value) == set(schema["required"]), f"{where}: keys {sorted(value)}"
        for key, sub in schema["properties"].items():
            validate(value[key], sub, f"{where}.{key}")
    if isinstance(value, dict) and "additional" in schema:
        for key, item in value.items():
            validate(item, schema["additional"], f"{where}.{key}")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            validate(item, schema["items"], f"{where}[{i}]")


def test_the_validator_catches_a_wrong_document() -> None:
    with pytest.raises(AssertionError, match="stimulus_source"):
        validate(
            {"files": [], "recordings": [{"stimulus_source": "guess"}]},
            {"type": "object", "properties": {"recordings": {"type": "array", "items": {
                "type": "object", "properties": {"stimulus_source": INSPECT_SCHEMA[
                    "properties"]["recordings"]["items"]["properties"][
                    "stimulus_source"]}, "required": ["stimulus_source"]}}},
             "required": ["files", "recordings"]},
        )  # fmt: skip


@pytest.fixture
def demo_folder(demo_dir: Path) -> Path:
    """The session's demo dataset (read only: outputs go to ``tmp_path``)."""
    return demo_dir


def _json(capsys: pytest.CaptureFixture[str]) -> Any:
    return json.loads(capsys.readouterr().out)


def test_inspect_json_of_a_folder_uses_the_consensus_windows(
    demo_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["inspect", "--json", "-q", str(demo_folder)]) == EXIT_OK
    document = _json(capsys)
    validate(document, INSPECT_SCHEMA)
    assert {f["status"] for f in document["files"]} == {"ok"}
    assert all(f["format"] == "nwb" for f in document["files"])
    idrest = [r for r in document["recordings"] if r["protocol"] == "IDRest"]
    assert len(idrest) == 16
    for recording in idrest:
        assert recording["stimulus_source"] == "consensus"
        assert abs(recording["ton_ms"] - 700.0) < 1
        assert abs(recording["toff_ms"] - 2700) < 1
        assert recording["dt_ms"] == 0.1
        assert recording["duration_ms"] == 3000.0
        assert {q["check"] for q in recording["qc"]} >= {"pre_noise_rms", "vm_delta"}
    names = [r["sweep"] for r in document["recordings"] if r["cell"] == "SimCell1"]
    assert names == sorted(names), "recordings in file and sweep order"


def test_inspect_json_of_a_config_keeps_its_per_sweep_detection(
    demo_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = demo_folder / "nothing_here.nwb"
    code = main(
        ["inspect", "--json", "-q", str(demo_folder / "config.json"), str(missing)]
    )
    assert code == EXIT_PARTIAL
    document = _json(capsys)
    validate(document, INSPECT_SCHEMA)
    sources = {r["stimulus_source"] for r in document["recordings"]}
    assert sources == {"detected"}


def test_rheobase_json_follows_its_schema(
    demo_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["rheobase", "--json", "-q", str(demo_folder)]) == EXIT_OK
    document = _json(capsys)
    validate(document, RHEOBASE_SCHEMA)
    assert set(document["cells"]) == {"SimCell1", "SimCell2"}
    assert all(0.03 < c["rheobase_nA"] < 0.5 for c in document["cells"].values())


def test_extract_a_folder_with_targets(
    demo_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    targets = demo_folder / "targets.json"
    code = main(
        ["extract", str(demo_folder), "--targets", str(targets), "-o", str(out), "-q"]
    )
    assert code == EXIT_OK
    features = json.loads((out / "features.json").read_text())
    assert {"IDRest_150", "IDRest_200", "IV_-40"} <= set(features)
    provenance = json.loads((out / "efex_provenance.json").read_text())
    assert provenance["switches"]["consensus_timing"] is True


def test_inspect_json_of_an_sscx_cell_folder_matches_the_lab_windows(
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = shared_path("sscx", "input-traces", "C060109A1-SR-C1")
    assert main(["inspect", "--json", "-q", str(folder)]) == EXIT_OK
    document = _json(capsys)
    validate(document, INSPECT_SCHEMA)
    lab = {"IDrest": (700, 2700), "IDthresh": (700, 2700), "APWaveform": (5, 55),
           "IV": (20, 1020)}  # fmt: skip
    steps = [r for r in document["recordings"] if r["protocol"] in lab]
    assert len(steps) == 104
    close = [
        r for r in steps
        if abs(r["ton_ms"] - lab[r["protocol"]][0]) <= 3
        and abs(r["toff_ms"] - lab[r["protocol"]][1]) <= 3
    ]  # fmt: skip
    assert len(close) >= 0.99 * len(steps)
    assert [f for f in document["files"] if f["status"] == "refused"] == []
    # the APThreshold ramps (the lab: 0 to 2000 ms) are found on their currents
    ramps = [r for r in document["recordings"] if r["protocol"] == "APThreshold"]
    assert len(ramps) == 3
    assert {r["stimulus_source"] for r in ramps} == {"consensus"}
    assert all(abs(r["ton_ms"]) <= 10 and abs(r["toff_ms"] - 2000) <= 3 for r in ramps)
