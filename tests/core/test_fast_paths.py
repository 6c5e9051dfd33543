"""The shortcuts that make the extraction fast must not change a number.

Each test pins one shortcut of the performance work (benchmarks/README.md): deferred
spike counts, files read once, features only on matched recordings, one efel call per
unique feature, no current trace when no feature reads it, the igor fast path, the
fast mean, and ``RunOptions.switches`` without deep copies. No timing is asserted.
"""

from __future__ import annotations

import glob
import pickle
import threading
from typing import Any

import numpy as np
import pytest

from efex_gui.core import features
from efex_gui.core import readers as readers_pkg
from efex_gui.core.extraction.cell_task import (
    CellTask,
    amplitude_windows,
    matched_recordings,
)
from efex_gui.core.extraction.grouping import group_by_target
from efex_gui.core.extraction.pipeline import extract_efeatures
from efex_gui.core.extraction.read_and_extract import (
    _create_cell,
    prepare_targets,
    read_recordings,
)
from efex_gui.core.extraction.run_branches import RunOptions
from efex_gui.core.readers import cache_key, igor
from efex_gui.core.recordings.ecodes import Step
from efex_gui.core.recordings.spikes import TracesDroppedError
from efex_gui.core.rheobase.strategies import compute_rheobase
from tests.conftest import shared_path

SETTINGS = {"strict_stiminterval": True, "Threshold": -20.0, "interp_step": 0.025}


def b6b8(**extra: Any) -> dict[str, Any]:
    """Two cells, five IDRest sweeps each; ``Step`` reuses the same files."""
    root = shared_path("bluepyefe-exp-data")

    def entries(folder: str, sweeps: range) -> list[dict[str, Any]]:
        return [
            {
                "i_file": str(root / folder / f"{folder}_Ch0_IDRest_{n}.ibw"),
                "v_file": str(root / folder / f"{folder}_Ch3_IDRest_{n}.ibw"),
                "i_unit": "pA",
                "v_unit": "mV",
                "t_unit": "s",
                "dt": 0.00025,
                "ljp": 14.0,
                **extra,
            }
            for n in sweeps
        ]

    return {
        "MouseNeuron1": {"IDRest": entries("B6", range(181, 186))},
        "MouseNeuron2": {"IDRest": entries("B8", range(145, 150))},
    }


def targets(amplitudes=(150, 250), features_=("Spikecount", "AP_amplitude")) -> list:
    return [
        {"efeature": f, "protocol": "IDRest", "amplitude": a, "tolerance": 20}
        for a in amplitudes
        for f in features_
    ]


def one_sweep() -> Step:
    (cell,) = read_recordings(
        {"c": {"IDRest": b6b8()["MouseNeuron1"]["IDRest"][-1:]}},
        efel_settings=SETTINGS,
    )
    return cell.recordings[0]


# ------------------------------------------------------------- lazy spike counts
def test_spike_count_is_deferred_and_equals_the_eager_one() -> None:
    rec = one_sweep()
    assert rec.spikecount_pending
    eager = pickle.loads(pickle.dumps(rec))
    eager.compute_spikecount(SETTINGS)
    assert not eager.spikecount_pending
    assert rec.spikecount == eager.spikecount
    assert rec.spikecount > 0
    assert np.array_equal(rec.peak_time, eager.peak_time)
    assert not rec.spikecount_pending


def test_pickles_keep_the_deferred_count_and_old_pickles_load() -> None:
    rec = one_sweep()
    copy = pickle.loads(pickle.dumps(rec))
    assert copy.spikecount_pending
    assert copy.spikecount == rec.spikecount
    state = rec.__getstate__()
    state.pop("_spikecount_settings")
    peak_time = state.pop("_peak_time")
    state["peak_time"] = peak_time  # as written before the count became lazy
    old = Step.__new__(Step)
    old.__setstate__(state)
    assert old.peak_time is peak_time
    assert not old.spikecount_pending


def test_drop_traces_computes_the_count_unless_told_not_to() -> None:
    kept, dropped = one_sweep(), one_sweep()
    count = one_sweep().spikecount
    kept.drop_traces()
    assert kept.voltage is None
    assert kept.spikecount == count
    dropped.drop_traces(keep_spikecount=False)
    lost = one_sweep()
    lost.drop_traces(keep_spikecount=False)
    # read from its file again on demand, the traces dropped again after
    assert dropped.spikecount == count
    assert dropped.voltage is None
    lost.source_index = None  # not from a file the core can read again
    with pytest.raises(TracesDroppedError, match="dropped"):
        _ = lost.spikecount


def test_only_the_rheobase_protocols_pay_for_a_spike_count() -> None:
    metadata = b6b8()
    for cell in metadata.values():
        cell["Step"] = [dict(entry) for entry in cell["IDRest"]]
    task = CellTask(
        read=lambda item: _create_cell(item, efel_settings=SETTINGS),
        protocols_rheobase=["IDRest"],
    )
    cell = task(next(iter(metadata.items())))
    assert cell.rheobase is not None
    by_protocol = {
        name: [r.spikecount_pending for r in cell.get_recordings_by_protocol_name(name)]
        for name in ("IDRest", "Step")
    }
    assert not any(by_protocol["IDRest"])
    assert all(by_protocol["Step"])


# ------------------------------------------------------------- files read once
def test_a_file_listed_under_two_protocols_is_read_once(monkeypatch) -> None:
    calls: list[str] = []
    real = igor.igor_reader

    def counting(config: dict) -> list:
        calls.append(config["v_file"])
        return real(config)

    monkeypatch.setitem(readers_pkg.READERS, ".ibw", counting)
    monkeypatch.setattr(readers_pkg, "_PROTOCOL_FREE", (counting,))
    metadata = b6b8()
    cell_metadata = metadata["MouseNeuron1"]
    cell_metadata["Step"] = [dict(entry) for entry in cell_metadata["IDRest"]]
    cell = _create_cell(("MouseNeuron1", cell_metadata), efel_settings=SETTINGS)
    assert sorted(calls) == sorted(e["v_file"] for e in cell_metadata["IDRest"])
    idrest = cell.get_recordings_by_protocol_name("IDRest")
    step = cell.get_recordings_by_protocol_name("Step")
    assert len(idrest) == len(step) == 5
    for a, b in zip(idrest, step, strict=True):
        assert np.array_equal(a.voltage, b.voltage)
        assert a.amp == b.amp
        assert a.reader_data is not b.reader_data  # own dicts, shared arrays


def test_cache_key_keeps_the_protocol_for_nwb_only() -> None:
    ibw = {"i_file": "a.ibw", "v_file": "b.ibw", "dt": 0.1}
    assert cache_key({**ibw, "protocol_name": "Step"}) == cache_key(
        {**ibw, "protocol_name": "IDRest"}
    )
    assert cache_key({**ibw, "v_file": "c.ibw"}) != cache_key(ibw)
    nwb = {"filepath": "a.nwb"}
    assert cache_key({**nwb, "protocol_name": "Step"}) != cache_key(
        {**nwb, "protocol_name": "IDRest"}
    )
    assert cache_key({"filepath": "a.xyz"}) is None  # unknown format: no cache
    assert cache_key({**ibw, "extra": np.zeros(3)}) is None  # not plain data


# ------------------------------------------------------------- matched recordings
def test_matched_recordings_are_the_ones_grouping_keeps() -> None:
    cells = read_recordings(b6b8(), efel_settings=SETTINGS)
    compute_rheobase(cells, ["IDRest"], "absolute")
    chosen = targets(amplitudes=(150, 200, 250, 300))
    protocols = group_by_target(cells, chosen)
    grouped = {id(rec) for protocol in protocols for rec in protocol.recordings}
    windows = amplitude_windows(chosen)
    matched = {id(rec) for cell in cells for rec in matched_recordings(cell, windows)}
    assert matched == grouped
    assert 0 < len(matched) < 10


def test_features_only_on_matched_recordings_unless_asked(tmp_path) -> None:
    outputs = {}
    for everything in (False, True):
        out = tmp_path / str(everything)
        outputs[everything] = extract_efeatures(
            out,
            b6b8(),
            targets(),
            protocols_rheobase=["IDRest"],
            efel_settings=SETTINGS,
            pickle_cells=True,
            extract_all_recordings=everything,
        )
        cells = pickle.loads((out / "cells.pkl").read_bytes())
        protocols = pickle.loads((out / "protocols.pkl").read_bytes())
        used = {(r.name, r.protocol_name) for p in protocols for r in p.recordings}
        computed = {
            (r.name, r.protocol_name)
            for c in cells
            for r in c.recordings
            if r.efeatures
        }
        assert (computed == used) is not everything
        assert used <= computed
    assert repr(outputs[False]) == repr(outputs[True])


# ------------------------------------------------------------- efel calls
def test_duplicate_features_make_one_efel_call_with_each_feature_once(
    monkeypatch,
) -> None:
    rec = one_sweep()
    seen: list[list[str]] = []
    real = features.call_efel

    def spy(*args: Any, **kwargs: Any) -> dict:
        seen.append(list(args[3]))
        return real(*args, **kwargs)

    monkeypatch.setattr(features, "call_efel", spy)
    names = ["Spikecount", "AP_amplitude", "Spikecount", "AP_amplitude"]
    rec.compute_efeatures(names, ["a", "b", "c", "d"], SETTINGS)
    assert seen == [["Spikecount", "AP_amplitude"]]
    assert rec.efeatures["a"] == rec.efeatures["c"] > 0
    assert rec.efeatures["b"] == rec.efeatures["d"]


def test_the_current_is_left_out_only_when_no_feature_reads_it() -> None:
    assert features._needs_current(["impedance"], {})
    assert features._needs_current(["current_base", "AP_height"], {})
    assert not features._needs_current(["AP_height", "Spikecount"], {})
    assert features._needs_current(["AP_height"], {"dependencyfile_path": "x"})
    rec = one_sweep()
    names = ["AP_height", "AHP_depth", "voltage_base", "mean_frequency", "ISI_CV"]
    window = {"stim_start": rec.ton, "stim_end": rec.toff, "stimulus_current": rec.amp}
    without = features.call_efel(
        rec.t, rec.voltage, rec.current, names, SETTINGS, **window
    )
    with_current = features.call_efel(
        rec.t, rec.voltage, rec.current, [*names, "current_base"], SETTINGS, **window
    )
    for name in names:
        assert np.array_equal(without[name], with_current[name], equal_nan=True)
    assert with_current["current_base"] is not None


def test_fast_mean_equals_the_general_path() -> None:
    rng = np.random.default_rng(3)
    arrays = [
        np.array([]),
        np.array([np.nan]),
        np.array([1, 2, 4]),
        np.array([np.inf, 1.0]),
        np.array([np.nan, 2.0, 3.5]),
    ]
    arrays += [rng.normal(size=n) * 10.0 ** rng.integers(-6, 6) for n in range(1, 60)]
    for values in arrays:
        fast = features.mean_feature_value(values)
        general = features.mean_feature_value(list(values))  # object path
        assert (np.isnan(fast) and np.isnan(general)) or fast == general


# ------------------------------------------------------------- readers, options
def test_igor_fast_path_gives_igor2_arrays(monkeypatch) -> None:
    folder = shared_path("sscx", "input-traces", "C060109A1-SR-C1")
    paths = sorted(glob.glob(str(folder / "*.ibw")))[:12]
    assert paths
    for path in paths:
        fast = igor.read_wave(path)
        with monkeypatch.context() as patch:
            patch.setattr(igor, "_read_plain_v5", lambda _path: None)
            slow = igor.read_wave(path)
        assert fast["data"].dtype == slow["data"].dtype
        assert fast["data"].tobytes() == slow["data"].tobytes()
        for key in ("unit", "dt", "x_unit", "note", "name", "version"):
            assert fast[key] == slow[key]
            assert type(fast[key]) is type(slow[key])
    version2 = shared_path("bluepyefe-exp-data", "B95_Ch0_IDRest_107.ibw")
    assert igor._read_plain_v5(str(version2)) is None  # igor2 reads it


def test_switches_do_not_copy_the_progress_callback() -> None:
    class Progress:  # like a GUI or tqdm callback: holds a lock, cannot be copied
        def __init__(self) -> None:
            self.lock = threading.Lock()

        def __call__(self, done: int, total: int) -> None:
            with self.lock:
                pass

    options = RunOptions(progress=Progress(), extract_all_recordings=True)
    switches = options.switches()
    assert switches["extract_all_recordings"] is True
    assert "private_cells" not in switches
    assert "progress" not in switches


def test_prepared_targets_give_the_windows_of_their_first_tolerance() -> None:
    chosen = targets(amplitudes=(150,))
    chosen.append(
        {"efeature": "AP_width", "protocol": "IDRest", "amplitude": 150, "tolerance": 5}
    )
    prepare_targets(chosen, strict_targets=False)
    assert amplitude_windows(chosen) == [("IDRest", 150, 20)]


def test_without_efel_sources_python_features_keep_the_current(monkeypatch) -> None:
    import inspect

    def no_source(_obj: Any) -> str:
        raise OSError("frozen application")

    monkeypatch.setattr(inspect, "getsource", no_source)
    features.current_features.cache_clear()
    try:
        assert features._needs_current(["ISI_CV"], {})  # a Python feature
        assert not features._needs_current(["AP_height"], {})  # C++: dependency file
    finally:
        features.current_features.cache_clear()
