"""Recording: units, metadata precedence, auto threshold, spikes, efeatures."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

from efex_gui.core.errors import MetadataError, UnitError
from efex_gui.core.features import UnknownFeatureError
from efex_gui.core.recordings.ecodes import Step
from efex_gui.core.recordings.recording import Recording
from tests.core.ecode_data import b95_config, nwb_config, read_traces


def _b95() -> Step:
    config = b95_config()
    return Step(config, read_traces(config)[0], "IDRest")


def _synthetic(n: int = 4000, **reader: object) -> dict:
    current = np.zeros(n)
    current[1000:3000] = 0.5
    trace = {
        "voltage": np.full(n, -70.0),
        "current": current,
        "dt": 0.1,
        "t_unit": "ms",
        "i_unit": "nA",
        "v_unit": "mV",
    }
    trace.update(reader)
    return trace


# ----------------------------------------------------------------- B95 (spec §10.3)
def test_b95_step_interpretation():
    rec = _b95()
    assert rec.ton == pytest.approx(700, abs=10)
    assert rec.toff == pytest.approx(2700, abs=10)
    assert rec.hypamp == pytest.approx(-0.03125, abs=1e-4)
    assert rec.amp == pytest.approx(0.0375, abs=1e-4)
    assert len(rec.get_params()) == len(rec.export_attr)
    _, current = rec.generate()
    assert np.max(current) == pytest.approx(rec.amp + rec.hypamp)


def test_b95_in_target():
    rec = _b95()
    rec.amp_rel = 100.0
    assert rec.in_target(101, 2)
    assert not rec.in_target(-100, 50)
    assert not rec.in_target(90, 2)
    assert rec.in_target(rec.amp, 1e-6, absolute_amplitude=True)


def test_b95_features():
    rec = _b95()
    rec.compute_efeatures(["Spikecount", "AP1_amp"], efel_settings={})
    assert rec.efeatures["Spikecount"] == 9.0
    assert rec.efeatures["AP1_amp"] == pytest.approx(66.4, abs=2)


def test_b95_efel_settings():
    rec = _b95()
    rec.compute_efeatures(["Spikecount"], efel_settings={"Threshold": 40.0})
    assert rec.efeatures["Spikecount"] == 0.0
    window = {"stim_start": 0, "stim_end": 100, "strict_stiminterval": True}
    rec.compute_efeatures(["Spikecount"], efel_settings=window)
    assert rec.efeatures["Spikecount"] == 0.0
    with pytest.raises(ValueError, match="Invalid value for setting 'Threshold'"):
        rec.compute_efeatures(["Spikecount"], efel_settings={"Threshold": ["40."]})


def test_feature_names_and_unknown_feature():
    rec = _b95()
    rec.compute_efeatures(["Spikecount", "Spikecount"], ["n", None], {})
    assert rec.efeatures == {"n": 9.0, "Spikecount": 9.0}
    with pytest.raises(UnknownFeatureError, match="Unknown feature name: bogus") as err:
        rec.compute_efeatures(["bogus"])
    assert isinstance(err.value, RuntimeError)
    assert "B95_Ch3_IDRest_107.ibw" in str(err.value)


# ----------------------------------------------------------------- NWB (spec §10.3)
def test_nwb_auto_threshold_and_spikes():
    config = nwb_config()
    recs = [Step(config, trace, "Step") for trace in read_traces(config)]
    assert len(recs) == 16
    assert recs[0].auto_threshold == pytest.approx(5.0, abs=0.5)
    assert recs[15].auto_threshold == 26.5
    assert recs[1].spikecount == 2
    assert recs[1].peak_time == pytest.approx([85.4, 346.1], abs=0.1)


# ----------------------------------------------------------------- standardisation
def test_units_and_config_precedence():
    reader = _synthetic(
        t_unit="s", dt=0.0001, i_unit="pA", v_unit="V", voltage=np.full(4000, -0.07)
    )
    rec = Recording(
        {"i_unit": "nA", "v_unit": "V", "dt": 0.2, "t_unit": "ms"}, reader, "IDRest"
    )
    assert rec.t[1] == 0.2  # config dt and t_unit win
    assert np.max(rec.current) == 0.5  # config i_unit (nA) wins over pA
    assert rec.voltage[0] == pytest.approx(-70.0)
    rec = Recording({}, reader, "IDRest")
    assert rec.t[1] == pytest.approx(0.1)
    assert np.max(rec.current) == pytest.approx(0.5e-3)


def test_amplitudes_from_config_then_reader():
    reader = _synthetic(amp=100.0, hypamp=-20.0, i_unit="pA")
    rec = Recording({"amp": 300.0}, reader, "IDRest")
    assert rec.amp == pytest.approx(0.3)
    assert rec.hypamp == pytest.approx(-0.02)
    assert Recording({"amp": None}, reader, "IDRest").amp is None


def test_v_corr_and_ljp():
    voltage = np.full(4000, -60.0)
    rec = Recording({"v_corr": 0, "ljp": 14}, _synthetic(voltage=voltage), "x")
    assert rec.voltage[0] == -14.0  # v_corr 0 still re-bases the voltage
    rec = Recording({"ljp": 14}, _synthetic(voltage=voltage, ljp=50), "x")
    assert rec.voltage[0] == -74.0  # reader ljp is ignored


def test_missing_and_unknown_metadata():
    with pytest.raises(MetadataError, match="dt"):
        Recording({"i_file": "a.ibw", "v_file": "b.ibw"}, _synthetic(dt=None), "x")
    with pytest.raises(MetadataError, match="i_unit"):
        Recording({}, _synthetic(i_unit=None), "x")
    with pytest.raises(UnitError, match="furlongs"):
        Recording({"t_unit": "furlongs"}, _synthetic(), "x")


def test_names_files_and_properties():
    trace = _synthetic(repetition=3)
    rec = Recording({"filepath": "/data/cell_7.nwb"}, trace, "x")
    assert rec.name == "cell_7"
    assert rec.files == ["/data/cell_7.nwb"]
    assert rec.repetition == 3
    rec = Recording(
        {"i_file": "/d/a_ch0.ibw", "v_file": "/d/a_ch1.ibw"},
        dict(trace, id="sweep 4"),
        "x",
    )
    assert rec.name == "sweep 4"
    assert rec.files == ["/d/a_ch0.ibw", "/d/a_ch1.ibw"]
    assert rec.time is rec.t
    rec.time = np.arange(3)
    assert list(rec.t) == [0, 1, 2]
    assert rec.spikecount is None
    assert rec.warnings == []
    blank = Recording({}, {}, "x")
    assert blank.t is None
    assert blank.name == ""
    assert blank.files == []


def test_drop_traces_and_pickle():
    rec = _b95()
    before = (rec.amp, rec.spikecount, rec.auto_threshold)
    copy = pickle.loads(pickle.dumps(rec))
    assert (copy.amp, copy.spikecount, copy.auto_threshold) == before
    rec.drop_traces()
    assert rec.t is None
    assert rec.voltage is None
    assert rec.current is None
    assert rec.reader_data is None
    assert (rec.amp, rec.spikecount) == before[:2]


def test_auto_threshold_formula():
    n = 4000
    voltage = np.full(n, -70.0)
    voltage[1000:3000] = -40.0
    rec = Step({}, _synthetic(voltage=voltage), "IDRest")
    assert rec.auto_threshold == -20.0  # max(base, step) + 20
    voltage[1000:3000] = 60.0
    assert Step({}, _synthetic(voltage=voltage), "IDRest").auto_threshold == 50.0
    voltage[:] = 40.0
    # clipped to [base + 20, 50]: numpy.clip gives the upper bound
    assert Step({}, _synthetic(voltage=voltage), "IDRest").auto_threshold == 50.0


def test_guard_warnings():
    voltage = np.full(4000, -10.0)  # baseline above the -20 mV threshold
    rec = Step({}, _synthetic(voltage=voltage), "IDRest", {"Threshold": -20.0})
    assert any("baseline" in w for w in rec.warnings)


def test_attributes_live_in_slots_and_extras_still_work():
    # every sweep read stays in memory (browser, extraction copies): its attributes
    # are slots, not a 1.6 kB dict per sweep; what a user adds still goes to __dict__
    rec = Step({}, _synthetic(), "IDRest")
    assert vars(rec) == {}
    rec.my_label = "good cell"  # an attribute no slot names
    assert vars(rec) == {"my_label": "good cell"}
    state = rec.__getstate__()
    assert state["my_label"] == "good cell"
    assert state["amp"] == rec.amp
    assert state["source_index"] is None
    for again in (pickle.loads(pickle.dumps(rec)), copy.copy(rec)):
        assert type(again) is Step
        assert again.__getstate__().keys() == state.keys()
        assert again.my_label == "good cell"
        assert again.amp == rec.amp
        assert again.toff == rec.toff
        assert np.array_equal(again.voltage, rec.voltage)


def test_a_state_pickled_before_slots_restores():
    # cells.pkl / results written before: a plain dict state, maybe without the
    # attributes added since (source_index) and with the old ``peak_time`` name
    rec = Step({}, _synthetic(), "IDRest")
    state = rec.__getstate__()
    state.pop("source_index")
    state.pop("_spikecount_settings")
    state["peak_time"] = state.pop("_peak_time")
    old = Step.__new__(Step)
    old.__setstate__(state)
    assert old.source_index is None
    assert old.amp == rec.amp
    assert not old.spikecount_pending
    assert vars(old) == {}
