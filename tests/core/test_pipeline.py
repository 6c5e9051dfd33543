"""The pipeline's edge cases and compatibility switches (spec §2.1 matrix, §9.1)."""

from __future__ import annotations

import json
import logging
import math
import threading
from typing import TYPE_CHECKING, Any

import pytest

from efex_gui.core.errors import Cancelled, SettingsError, TargetError
from efex_gui.core.extraction import pipeline
from efex_gui.core.extraction.grouping import (
    OutputSettings,
    build_outputs,
    group_by_target,
)
from efex_gui.core.targets.auto import default_auto_targets
from tests.conftest import shared_path

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.shared


def b6b8(sweeps_b6=range(181, 186), sweeps_b8=range(145, 150)) -> dict[str, Any]:
    root = shared_path("bluepyefe-exp-data")

    def entries(folder, sweeps):
        return [
            {
                "i_file": str(root / folder / f"{folder}_Ch0_IDRest_{n}.ibw"),
                "v_file": str(root / folder / f"{folder}_Ch3_IDRest_{n}.ibw"),
                "i_unit": "pA",
                "v_unit": "mV",
                "t_unit": "s",
                "dt": 0.00025,
                "ljp": 14.0,
            }
            for n in sweeps
        ]

    return {
        "MouseNeuron1": {"IDRest": entries("B6", sweeps_b6)},
        "MouseNeuron2": {"IDRest": entries("B8", sweeps_b8)},
    }


def target(feature="Spikecount", amplitude=150, tolerance=20, **extra) -> dict:
    return {
        "efeature": feature,
        "protocol": "IDRest",
        "amplitude": amplitude,
        "tolerance": tolerance,
        **extra,
    }


def run(targets, **kwargs):
    kwargs.setdefault("protocols_rheobase", ["IDRest"])
    return pipeline.extract_efeatures(
        kwargs.pop("output_directory", "unused"),
        kwargs.pop("files_metadata", None) or b6b8(),
        targets,
        **kwargs,
    )


def values(features, stimulus):
    return [
        (f["efeature_name"], f["val"], f["efel_settings"])
        for f in features[stimulus]["soma"]
    ]


def test_progress_is_monotone_and_complete():
    calls = []
    run([target()], progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (5, 5)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
    assert {total for _, total in calls} == {5}


def test_cancel_raises_between_cells():
    event = threading.Event()

    def progress(done, total):
        if done == 1:
            event.set()

    with pytest.raises(Cancelled):
        run([target()], progress=progress, cancel=event)


def test_same_name_different_settings_overwrite(caplog):
    # spec §2.3: both targets report the last settings group's values (§9.1-8)
    targets = [
        target(amplitude=250),
        target(amplitude=250, efel_settings={"Threshold": 0}),
    ]
    with caplog.at_level(logging.WARNING):
        features, _, _ = run(targets)
    got = values(features, "IDRest_250")
    assert [v for _, v, _ in got] == [[1.5, 0.5], [1.5, 0.5]]
    assert got[1][2]["Threshold"] == 0
    assert got[0][2]["Threshold"] == -20.0
    assert "different efel settings" in caplog.text
    reversed_features, _, _ = run(list(reversed([dict(t) for t in targets])))
    assert [v for _, v, _ in values(reversed_features, "IDRest_250")] == [
        [78.5, 3.5],
        [78.5, 3.5],
    ]
    with pytest.raises(TargetError, match="distinct 'efeature_name'"):
        run(targets, strict_targets=True)


def test_efeature_name_avoids_the_overwrite():
    features, _, _ = run(
        [
            target(amplitude=250),
            target(
                amplitude=250,
                efel_settings={"Threshold": 0},
                efeature_name="Spikecount_0",
            ),
        ]
    )
    assert [v for _, v, _ in values(features, "IDRest_250")] == [
        [78.5, 3.5],
        [1.5, 0.5],
    ]


def test_protocol_keeps_first_tolerance(caplog):
    # §9.1-9: the second target's tolerance 1 would match nothing; it is ignored
    targets = [target(), target("AP1_amp", tolerance=1)]
    with caplog.at_level(logging.WARNING):
        features, _, _ = run(targets)
    assert [f["n"] for f in features["IDRest_150"]["soma"]] == [2, 2]
    assert "first target's tolerance" in caplog.text
    with pytest.raises(TargetError, match="tolerance"):
        run([dict(t) for t in targets], strict_targets=True)


def test_threshold_nvalue_save():
    features, protocols, _ = run(
        [target(), target(amplitude=900)], threshold_nvalue_save=3
    )
    assert features == {}
    assert protocols == {}
    # §9.1-12: 0 (BluePyEfe crashes on an unmatched target) is refused up front
    with pytest.raises(SettingsError, match="threshold_nvalue_save"):
        run([target(), target(amplitude=900)], threshold_nvalue_save=0)


def test_save_files_used_and_no_files_key_by_default():
    cells = pipeline.read_recordings(b6b8())
    targets = [target()]
    cells = pipeline.extract_efeatures_at_targets(cells, targets)
    pipeline.compute_rheobase(cells, ["IDRest"])
    protocols = group_by_target(cells, targets)
    features, _, _ = build_outputs(
        cells, protocols, OutputSettings(save_files_used=True)
    )
    files = features["IDRest_150"]["soma"][0]["files"]
    assert len(files) == 4
    assert files[0].endswith("B6_Ch0_IDRest_182.ibw")
    assert targets[0]["location"] == "soma"
    assert targets[0]["efel_settings"] == {}
    plain, _, _ = build_outputs(cells, protocols, OutputSettings())
    assert "files" not in plain["IDRest_150"]["soma"][0]


def test_per_cell_outputs(tmp_path):
    targets = [target()]
    run(
        targets,
        output_directory=tmp_path,
        write_files=True,
        extract_per_cell=True,
        default_std_value=0.5,
    )
    per_cell = json.loads((tmp_path / "MouseNeuron1" / "features.json").read_text())
    entry = per_cell["IDRest_150"]["soma"][0]
    # BluePyEfe (§2.8, §9.1-13): no global settings, auto Threshold, std 1e-3
    assert list(entry["efel_settings"]) == ["Threshold"]
    assert entry["efel_settings"]["Threshold"] == pytest.approx(-42.6538, abs=1e-4)
    assert entry["val"] == [50.0, 1e-3]
    run(
        targets,
        output_directory=tmp_path / "c",
        write_files=True,
        extract_per_cell=True,
        default_std_value=0.5,
        per_cell_consistent=True,
    )
    consistent = json.loads(
        (tmp_path / "c" / "MouseNeuron1" / "features.json").read_text()
    )["IDRest_150"]["soma"][0]
    assert consistent["efel_settings"]["Threshold"] == -20.0
    assert consistent["val"] == [50.0, 0.5]


def test_nan_as_null_and_provenance(tmp_path):
    targets = [{**target(), "amplitude": 0.15, "tolerance": 0.05}]
    run(
        targets,
        output_directory=tmp_path / "bpe",
        write_files=True,
        absolute_amplitude=True,
    )
    assert "NaN" in (tmp_path / "bpe" / "holding_threshold_currents.json").read_text()
    run(
        [dict(targets[0])],
        output_directory=tmp_path / "strict",
        write_files=True,
        absolute_amplitude=True,
        nan_as_null=True,
        exclusions=[{"cell": "x"}],
    )
    currents = json.loads(
        (tmp_path / "strict" / "holding_threshold_currents.json").read_text()
    )
    assert currents["threshold_current"] == [None, None]
    sidecar = json.loads((tmp_path / "strict" / "efex_provenance.json").read_text())
    assert sidecar["switches"]["nan_as_null"] is True
    assert sidecar["settings"]["absolute_amplitude"] is True
    assert sidecar["exclusions"] == [{"cell": "x"}]
    assert len(sidecar["input_files"]) == 20
    assert all(len(f["sha256"]) == 64 for f in sidecar["input_files"])


def test_auto_targets_are_mutated_unless_fresh():
    autos = default_auto_targets()
    run(None, auto_targets=autos)
    assert autos[0].active_ecode == ["IDRest", "IDRest"]
    fresh = default_auto_targets()
    features, _, _ = run(None, auto_targets=fresh, fresh_auto_targets=True)
    assert fresh[0].active_ecode == []
    assert list(features) == [
        "IDRest_200",
        "IDRest_150",
        "IDRest_300",
    ]


def test_low_memory_in_auto_mode_drops_traces(tmp_path):
    run(None, low_memory_mode=True, pickle_cells=True, output_directory=tmp_path)
    import pickle

    cells = pickle.loads((tmp_path / "cells.pkl").read_bytes())
    assert all(rec.voltage is None for cell in cells for rec in cell.recordings)


def test_map_function_none_is_builtin_map():
    features, _, _ = run([target()], map_function=None)
    assert features["IDRest_150"]["soma"][0]["val"] == [47.0, 3.0]


def test_no_rheobase_gives_empty_output_and_nan_threshold():
    features, protocols, currents = run([target()], protocols_rheobase=["idrest"])
    assert features == {}
    assert protocols == {}
    assert all(math.isnan(v) for v in currents["threshold_current"])
    assert list(currents["all_holding_current"]) == ["MouseNeuron1", "MouseNeuron2"]


def test_missing_target_key_is_named():
    bad_metadata = {"cell": {"IDRest": [{"filepath": "does-not-exist.ibw"}]}}
    with pytest.raises(TargetError, match="lacks the key 'tolerance'"):
        run(
            [{"efeature": "Spikecount", "protocol": "IDRest", "amplitude": 150}],
            files_metadata=bad_metadata,
            strict=True,
        )
    with pytest.raises(TargetError, match="negative tolerance"):
        run([target(tolerance=-1)], files_metadata=bad_metadata, strict=True)


def test_write_files_needs_output_directory(tmp_path: Path):
    with pytest.raises(ValueError, match="output_directory cannot be None"):
        run([target()], output_directory=None, write_files=True)


def test_protocol_names_are_exact_with_a_hint(caplog):
    # §9.1-19: reproduced (exact, case-sensitive); the warning names the near miss
    with caplog.at_level(logging.WARNING):
        features, _, _ = run([{**target(), "protocol": "idrest"}])
    assert features == {}
    assert "case-sensitive" in caplog.text
    assert "IDRest" in caplog.text
