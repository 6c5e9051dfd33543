"""Cell: reading, protocol lookup, features, relative amplitudes (spec §3.1, §10)."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from efex_gui.core.errors import ECodeError, MetadataError
from efex_gui.core.recordings.cell import Cell
from efex_gui.core.recordings.ecodes import SAHP, Ramp, Step
from efex_gui.core.rheobase.strategies import compute_rheobase
from tests.core.ecode_data import SAHP_TIMING, b6b8_files, b95_config, x_files

# spec §10.2: sweep → (amp, hypamp, ton, toff, spikes, auto threshold, amp_rel)
B6B8_TABLE = {
    "B6": [
        (0.11874, -0.0125, 700.25, 2700.0, 26, -44.75, 100.0),
        (0.17499, -0.0125, 700.25, 2700.0, 50, -42.65, 147.37),
        (0.23749, -0.0125, 700.25, 2700.25, 68, -40.22, 200.0),
        (0.29686, -0.0125, 700.25, 2700.25, 82, -38.12, 250.0),
        (0.35311, -0.0125, 700.25, 2700.25, 89, -36.36, 297.37),
    ],
    "B8": [
        (0.09375, -0.05312, 700.25, 2700.0, 20, -47.25, 100.0),
        (0.14062, -0.05312, 700.25, 2700.0, 44, -45.18, 150.0),
        (0.18437, -0.05312, 700.25, 2700.0, 62, -41.87, 196.67),
        (0.22811, -0.05312, 700.25, 2700.25, 75, -38.87, 243.33),
        (0.27499, -0.05312, 700.25, 2700.25, 81, -36.34, 293.33),
    ],
}


def _cell(name: str, protocol: str, files: list[dict], **kwargs) -> Cell:
    cell = Cell(name)
    cell.read_recordings(files, protocol, **kwargs)
    return cell


@pytest.mark.parametrize("name", ["B6", "B8"])
def test_b6b8_per_recording_table(name):
    cell = _cell(name, "IDRest", b6b8_files(name))
    compute_rheobase([cell], ["IDRest"])
    assert len(cell.recordings) == 5
    for rec, row in zip(cell.recordings, B6B8_TABLE[name], strict=True):
        amp, hypamp, ton, toff, spikes, threshold, amp_rel = row
        assert rec.amp == pytest.approx(amp, abs=1e-5)
        assert rec.hypamp == pytest.approx(hypamp, abs=1e-5)
        assert (rec.ton, rec.toff) == (ton, toff)
        assert rec.spikecount == spikes
        assert rec.auto_threshold == pytest.approx(threshold, abs=0.005)
        assert rec.amp_rel == pytest.approx(amp_rel, abs=0.005)


def test_b95_cell_features_and_rheobase():
    cell = _cell("B95", "IDRest", [b95_config()])
    cell.extract_efeatures("IDRest", ["Spikecount", "AP1_amp"])
    rec = cell.recordings[0]
    assert rec.efeatures["Spikecount"] == 9.0
    assert rec.efeatures["AP1_amp"] == pytest.approx(66.4, abs=2)
    compute_rheobase([cell], ["IDRest"])
    assert rec.amp == cell.rheobase
    assert rec.amp_rel == 100.0


def test_x_cell_sahp_and_apthreshold():
    """spec §10.3 ecode/test_sahp and ecode/test_apthresh (per-recording part)."""
    cell = Cell("X")
    cell.read_recordings(x_files("sAHP", **SAHP_TIMING), "sAHP")
    cell.read_recordings(x_files("APThreshold", **SAHP_TIMING), "APThreshold")
    cell.read_recordings(x_files("IDthresh"), "IDthresh")
    assert len(cell.recordings) == 6 + 3 + 18
    compute_rheobase([cell], ["IDthresh"])
    assert cell.rheobase == pytest.approx(0.1103, abs=1e-4)

    sahp = sorted(cell.get_recordings_by_protocol_name("sAHP"), key=lambda r: r.amp2)
    assert all(isinstance(r, SAHP) for r in sahp)
    assert sahp[1].amp == pytest.approx(0.0953, abs=1e-4)
    assert sahp[1].amp2 == pytest.approx(0.3153, abs=1e-4)
    assert sahp[1].amp_rel == pytest.approx(86.4, abs=0.1)
    assert sahp[1].amp2_rel == pytest.approx(285.8, abs=0.1)
    assert (sahp[1].ton, sahp[1].tmid, sahp[1].tmid2, sahp[1].toff) == (
        10.0,
        260.0,
        360.0,
        1360.0,
    )

    ramps = sorted(
        cell.get_recordings_by_protocol_name("APThreshold"), key=lambda r: r.amp
    )
    assert all(isinstance(r, Ramp) for r in ramps)
    assert ramps[1].amp == pytest.approx(0.1740, abs=1e-4)
    assert ramps[1].amp_rel == pytest.approx(157.7, abs=0.1)


def _fake_reader(config: dict) -> list[dict]:
    n = 4000
    current = np.zeros(n)
    current[1000:3000] = config.get("step", 0.2)
    return [
        {
            "voltage": np.full(n, -70.0),
            "current": current,
            "dt": 0.1,
            "t_unit": "ms",
            "i_unit": "nA",
            "v_unit": "mV",
            "id": config["v_file"],
        }
    ]


def test_read_recordings_with_a_user_reader():
    files = [{"v_file": "a"}, {"v_file": "b", "protocol_name": "kept"}]
    cell = _cell("c", "IDRest", files, recording_reader=_fake_reader)
    assert [r.name for r in cell.recordings] == ["a", "b"]
    assert all(isinstance(r, Step) for r in cell.recordings)
    assert files[0]["protocol_name"] == "IDRest"  # inserted, as BluePyEfe does
    assert files[1]["protocol_name"] == "kept"
    assert cell.recordings[1].protocol_name == "IDRest"  # the key decides
    cell.read_recordings([{"v_file": "c"}], "IV", recording_reader=_fake_reader)
    assert sorted(cell.get_protocol_names()) == ["IDRest", "IV"]
    assert cell.get_recordings_id_by_protocol_name("IV") == [2]
    assert cell.get_recordings_by_protocol_name("idrest") == []  # exact match
    assert len(pickle.loads(pickle.dumps(cell)).recordings) == 3


def test_reader_errors():
    cell = Cell("c")
    with pytest.raises(MetadataError, match="No 'filepath' or 'v_file'"):
        cell.read_recordings([{"i_file": "x"}], "IDRest", _fake_reader)
    with pytest.raises(ECodeError, match="testpulse"):
        cell.read_recordings([{"v_file": "x"}], "TestPulse", _fake_reader)


@pytest.mark.parametrize("bad", [0.0, 0, None, False, np.nan])
def test_invalid_rheobase_is_cleared(bad):
    cell = _cell("c", "IDRest", [{"v_file": "a"}], recording_reader=_fake_reader)
    cell.rheobase = bad
    cell.compute_relative_amp()
    assert cell.rheobase is None
    assert cell.recordings[0].amp_rel is None


def test_negative_and_computed_nan_rheobase_are_kept_with_a_warning():
    cell = _cell("c", "IDRest", [{"v_file": "a"}], recording_reader=_fake_reader)
    cell.rheobase = -0.1
    cell.compute_relative_amp()
    assert cell.recordings[0].amp_rel == pytest.approx(-200.0)
    assert any("negative" in w for w in cell.warnings)
    cell.rheobase = float("nan") * 1.0  # a computed NaN, not numpy.nan itself
    cell.compute_relative_amp()
    assert np.isnan(cell.recordings[0].amp_rel)
    assert any("NaN" in w for w in cell.warnings)


def test_drop_traces():
    cell = _cell("c", "IDRest", [{"v_file": "a"}], recording_reader=_fake_reader)
    cell.drop_traces()
    assert cell.recordings[0].voltage is None
    assert cell.recordings[0].amp is not None
