"""EFeatureTarget: statistics, NaN handling, type checks and the features.json entry."""

from __future__ import annotations

import math

import numpy as np
import pytest

from efex_gui.core.targets.target import EFeatureTarget


def _target(**kwargs):
    args = {
        "efeature_name": None,
        "efel_feature_name": "Spikecount",
        "protocol_name": "IDRest",
        "amplitude": 150,
        "tolerance": 20,
    }
    args.update(kwargs)
    return EFeatureTarget(**args)


def test_name_defaults_to_efel_name_and_settings_to_empty_dict():
    target = _target()
    assert target.efeature_name == "Spikecount"
    assert target.efel_settings == {}
    assert _target(efeature_name="spikes").efeature_name == "spikes"


def test_mean_and_population_std():
    # BluePyEfe's test_target: [1, 2] -> 1.5 / 0.5 (ddof 0)
    target = _target()
    target.append(1.0)
    target.append(2.0)
    assert target.mean == 1.5
    assert target.std == 0.5
    assert target.sample_size == 2


def test_nan_values_are_ignored():
    target = _target()
    target.append(float("nan"))
    target.append(np.nan)
    target.append(3.0)
    assert target.values == [3.0]
    assert target.sample_size == 1


@pytest.mark.parametrize("value", [[1.0], "1.0", None, (1,)])
def test_append_rejects_non_numbers(value):
    with pytest.raises(TypeError, match="Expected value of type int or float"):
        _target().append(value)


def test_append_accepts_numpy_scalars_as_python_numbers():
    # §9.1-26 (fixed): BluePyEfe raises TypeError for float32 / int64.
    target = _target()
    target.append(np.float32(1.5))
    target.append(np.int64(2))
    assert target.values == [1.5, 2]
    assert all(type(v) in (float, int) for v in target.values)


def test_files_are_accumulated():
    target = _target()
    target.append(1.0, files=["a.ibw"])
    target.append(2.0, files=["b.ibw", "c.ibw"])
    target.append(float("nan"), files=["skipped.ibw"])
    assert target.files == ["a.ibw", "b.ibw", "c.ibw"]


def test_as_dict_key_order_and_default_std():
    target = _target()
    target.append(5.0)
    entry = target.as_dict()
    assert list(entry) == ["feature", "val", "n", "efel_settings", "efeature_name"]
    assert entry["val"] == [5.0, 1e-3]
    assert entry["n"] == 1
    assert entry["efel_settings"] == {}
    assert target.as_dict(default_std_value=0.5)["val"][1] == 0.5


def test_as_dict_keeps_nan_std_and_drops_falsy_name():
    entry = _target(efeature_name="").as_dict()
    assert "efeature_name" not in entry
    assert entry["n"] == 0
    assert math.isnan(entry["val"][0])
    assert math.isnan(entry["val"][1])


def test_effective_threshold_is_the_median_auto_threshold():
    target = _target()
    for threshold in (-40.0, -44.0, -41.0):
        target.append_auto_threshold(threshold)
    target.append(2.0)
    entry = target.as_dict()
    assert entry["efel_settings"] == {"Threshold": -41.0}
    assert target.efel_settings["Threshold"] == -41.0  # mutated, as BluePyEfe


def test_save_files_used_lists_the_files():
    # §9.1-11 (fixed): BluePyEfe raises AttributeError.
    target = _target()
    target.append(1.0, files=["a.ibw"])
    assert target.as_dict(save_files_used=True)["files"] == ["a.ibw"]


def test_clear_keeps_auto_thresholds():
    target = _target()
    target.append(1.0, files=["a"])
    target.append_auto_threshold(-40.0)
    target.clear()
    assert target.values == []
    assert target.files == []
    assert target.as_dict()["efel_settings"] == {"Threshold": -40.0}


def test_str_mentions_feature_protocol_and_stats():
    target = _target()
    target.append(1.0)
    text = str(target)
    assert "Spikecount" in text
    assert "IDRest" in text
    assert "150.0%" in text


def test_same_as_bluepyefe_target():
    bpe_target = pytest.importorskip("bluepyefe.target")
    ours = _target()
    theirs = bpe_target.EFeatureTarget(None, "Spikecount", "IDRest", 150, 20)
    for target in (ours, theirs):
        for value in (1.0, 4.0, float("nan"), 2):
            target.append(value)
        target._auto_thresholds.extend([-40.0, -42.0])
    assert ours.as_dict() == theirs.as_dict()


def test_files_are_kept_in_the_tuples_they_came_in():
    """A window's targets hold the files of every value of every cell: one
    reference per chunk (a recording's files, a cell's gathered tuple), not two
    per value (0.24 kB a sweep in the GUI's result)."""
    import pickle

    from tests.conftest import held_bytes

    cell = EFeatureTarget("f", "f", "IDRest", 150.0, 10.0)
    sweeps = [(f"/data/ch0_{i}.ibw", f"/data/ch1_{i}.ibw") for i in range(50)]
    for files in sweeps:
        cell.append(1.0, list(files))  # a list is copied: the caller may change it
    gathered = cell.gathered()
    assert gathered.files == tuple(f for files in sweeps for f in files)
    window = EFeatureTarget("f", "f", "IDRest", 150.0, 10.0)
    for _ in range(40):  # forty cells, as a window of the population gets them
        window.extend(gathered)
    assert window.files == list(gathered.files) * 40
    assert window.as_dict(save_files_used=True)["files"] == window.files
    strings = [f for files in sweeps for f in files]
    flat = list(window.files)  # what two references per value took
    assert held_bytes(window._file_chunks, gathered) < held_bytes(flat, strings) / 20
    copy = pickle.loads(pickle.dumps(window))
    assert copy.files == window.files
    window.clear()
    assert window.files == []


def test_a_target_pickled_before_the_chunks_loads():
    old = EFeatureTarget.__new__(EFeatureTarget)
    state = vars(EFeatureTarget("f", "f", "IDRest", 150.0, 10.0)).copy()
    del state["_file_chunks"]
    old.__setstate__({**state, "_values": [1.0], "_files": ["a.ibw", "b.ibw"]})
    assert old.files == ["a.ibw", "b.ibw"]
    old.append(2.0, ["c.ibw"])
    assert old.files == ["a.ibw", "b.ibw", "c.ibw"]
    assert old.values == [1.0, 2.0]
