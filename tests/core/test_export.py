"""JSON writing as BluePyEfe, the currents dict, pickles and the provenance sidecar."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from efex_gui.core.export import outputs as export
from efex_gui.core.export.outputs import (
    build_current_dict,
    dumps_json,
    save_outputs,
    write_json_atomic,
    write_pickles,
    write_provenance,
)


def test_dumps_like_bluepyefe():
    obj = {
        "b": [np.float64(1.5), np.float32(0.25), np.int64(3)],
        "a": {"x": np.array([1, 2]), "nan": float("nan")},
    }
    text = dumps_json(obj)
    assert text == json.dumps(
        {"b": [1.5, 0.25, 3], "a": {"x": [1, 2], "nan": float("nan")}}, indent=2
    )
    assert '"nan": NaN' in text
    assert not text.endswith("\n")
    assert list(json.loads(text)) == ["b", "a"]


def test_nan_as_null_writes_strict_json():
    text = dumps_json(
        {"threshold_current": [np.float64("nan"), np.nan]}, nan_as_null=True
    )
    assert json.loads(text) == {"threshold_current": [None, None]}
    assert "NaN" not in text


def test_np_float64_repr_is_exact():
    value = np.float64(0.1) + np.float64(0.2)
    assert json.loads(dumps_json([value]))[0] == float(value)


def test_write_json_atomic_leaves_no_temporary_file(tmp_path, monkeypatch):
    path = write_json_atomic(tmp_path / "f.json", {"a": 1})
    assert path.read_text() == '{\n  "a": 1\n}'
    assert os.listdir(tmp_path) == ["f.json"]

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        write_json_atomic(tmp_path / "f.json", {"a": 2})
    assert os.listdir(tmp_path) == ["f.json"]
    assert json.loads((tmp_path / "f.json").read_text()) == {"a": 1}


def test_save_outputs_writes_the_three_files(tmp_path):
    out = tmp_path / "deep" / "out"
    paths = save_outputs(out, {"f": 1}, {"p": 2}, {"c": 3})
    assert [p.name for p in paths] == [
        "features.json",
        "protocols.json",
        "holding_threshold_currents.json",
    ]
    assert json.loads((out / "protocols.json").read_text()) == {"p": 2}


def _cell(name, hypamps, rheobase):
    return SimpleNamespace(
        name=name,
        rheobase=rheobase,
        recordings=[SimpleNamespace(hypamp=h) for h in hypamps],
    )


def test_current_dict_like_spec_6_3():
    cells = [
        _cell("MouseNeuron1", [-0.0125] * 5, 0.11874420754611492),
        _cell("MouseNeuron2", [-0.05312, -0.05312], 0.09374542534351349),
        _cell("NoRheobase", [0.01, np.nan], None),
    ]
    currents = build_current_dict(cells)
    assert list(currents) == [
        "holding_current",
        "threshold_current",
        "all_holding_current",
        "all_threshold_current",
    ]
    holding = [-0.0125, -0.05312, 0.01]
    assert currents["holding_current"] == [np.nanmean(holding), np.nanstd(holding)]
    assert currents["all_holding_current"]["NoRheobase"] == 0.01
    assert list(currents["all_threshold_current"]) == ["MouseNeuron1", "MouseNeuron2"]
    assert currents["threshold_current"][0] == pytest.approx(
        0.1062448164448142, rel=1e-12
    )
    assert currents["threshold_current"][1] == pytest.approx(
        0.012499391101300716, rel=1e-9
    )


def test_current_dict_single_cell_and_no_rheobase():
    currents = build_current_dict(
        [_cell("c", [-0.1, -0.1], None)], default_std_value=0.5
    )
    assert currents["holding_current"] == [-0.1, 0.5]
    assert all(np.isnan(currents["threshold_current"]))
    assert currents["all_threshold_current"] == {}
    assert "NaN" in dumps_json(currents)


def test_pickles(tmp_path):
    cells_path, protocols_path = write_pickles([1, 2], ["p"], tmp_path / "o")
    assert cells_path == export.cells_pickle_output_path(tmp_path / "o")
    assert cells_path.name == "cells.pkl"
    assert protocols_path.name == "protocols.pkl"
    assert pickle.loads(cells_path.read_bytes()) == [1, 2]
    assert pickle.loads(protocols_path.read_bytes()) == ["p"]


def test_provenance_sidecar(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "a.ibw").write_bytes(b"abc")
    files_metadata = {
        "c1": {
            "IDRest": [
                {"i_file": str(data / "a.ibw"), "v_file": str(data / "missing.ibw")}
            ],
            "Step": [{"i_file": str(data / "a.ibw")}],
        }
    }
    path = write_provenance(
        tmp_path / "out",
        settings={"efel_settings": {"Threshold": -20.0}, "map_function": map},
        targets=[{"efeature": "Spikecount"}],
        files_metadata=files_metadata,
        exclusions={"recordings": ["x"]},
        switches={"nan_as_null": False},
        skipped_files=[("c1", "bad.ibw", "corrupt")],
        data_root=data,
    )
    doc = json.loads(path.read_text())
    assert path.name == "efex_provenance.json"
    assert doc["format_version"] == 1
    assert set(doc["versions"]) == {"efex_gui", "efel", "numpy"}
    assert doc["versions"]["efel"]
    assert doc["settings"]["efel_settings"] == {"Threshold": -20.0}
    assert doc["input_files"] == [
        {"path": "a.ibw", "sha256": hashlib.sha256(b"abc").hexdigest(), "size": 3},
        {"path": "missing.ibw", "sha256": None, "size": None},
    ]
    assert doc["exclusions"] == {"recordings": ["x"]}
    assert doc["skipped_files"] == [["c1", "bad.ibw", "corrupt"]]
    assert doc["targets"] == [{"efeature": "Spikecount"}]
    assert Path(tmp_path / "out").is_dir()
