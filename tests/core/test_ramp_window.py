"""The ramp finder and the Ramp protocols' consensus window on a folder import."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

from efex_gui.core.recordings.ecodes import Ramp
from efex_gui.core.recordings.ramp_window import find_ramp
from efex_gui.core.recordings.timing_consensus import SOURCE_KEY, stimulus_source
from efex_gui.core.session.dataset import EntryKey
from efex_gui.core.session.folder_import import import_folder
from efex_gui.core.session.protocol_reading import load_protocol_group, ramp_windows
from efex_gui.core.synthetic.demo import simulate_cell
from efex_gui.core.synthetic.nwb_writer import write_nwb
from tests.conftest import shared_path

if TYPE_CHECKING:
    from pathlib import Path

DT = 0.1
SETTINGS = {"Threshold": -20.0}


def ramp_current(
    ton: float,
    toff: float,
    amp: float,
    holding: float = 0.0,
    tend: float = 3000.0,
    noise: float = 0.0,
    seed: int = 0,
) -> np.ndarray:
    """A holding current with a linear ramp from ``ton`` to ``toff`` (ms), nA."""
    t = np.arange(int(round(tend / DT))) * DT
    inside = (t >= ton - 1e-9) & (t < toff - 1e-9)
    current = holding + np.where(inside, amp * (t - ton) / (toff - ton), 0.0)
    return current + noise * np.random.default_rng(seed).standard_normal(t.size)


@pytest.mark.parametrize(
    ("ton", "toff", "amp", "holding", "tend", "samples"),
    [
        (500.0, 2000.0, 0.8, -0.05, 3000.0, 2),  # rising, holding on both sides
        (800.0, 1800.0, -1.0, 0.1, 3000.0, 2),  # falling
        # SSCx's APThreshold: the ramp starts with the sweep, the holding level is
        # seen for 38 ms after it only (the onset is known to ~0.1 ms)
        (0.0, 2002.3, 0.94, -0.2, 2040.0, 5),
    ],
)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_find_ramp_finds_the_true_window_in_noise(
    ton, toff, amp, holding, tend, samples, seed
):
    # noise: 2 pA (0.2-0.25 % of the ramp's height; SSCx's quietest cells: 5 pA)
    current = ramp_current(ton, toff, amp, holding, tend, noise=0.002, seed=seed)
    window = find_ramp(current, DT)
    assert window is not None
    assert window.clear, window.reason
    assert abs(window.ton - ton) <= samples * DT
    assert abs(window.toff - toff) <= 1 * DT
    assert window.amp == pytest.approx(amp, rel=0.01)


def test_find_ramp_in_realistic_noise():
    # 10 pA on a 0.8 nA ramp: the onset within a few samples, the end exact
    current = ramp_current(500.0, 2000.0, 0.8, -0.05, noise=0.01, seed=7)
    window = find_ramp(current, DT)
    assert window is not None
    assert window.clear
    assert abs(window.ton - 500.0) <= 1.0
    assert abs(window.toff - 2000.0) <= DT


def _chirp() -> np.ndarray:
    t = np.arange(30000) * DT
    sweep = 0.3 * np.sin(2 * np.pi * (0.5 + 20 * t / 3000) * t / 1000)
    return np.where((t > 500) & (t < 2500), sweep, 0.0)


@pytest.mark.parametrize(
    "current",
    [
        ramp_current(700, 2700, 0.0)
        + 0.3 * ((np.arange(30000) * DT) >= 700)
        - 0.3 * ((np.arange(30000) * DT) >= 2700),  # a square step
        ramp_current(0, 1, 0.0, noise=0.05),  # noise only
        _chirp(),
    ],
    ids=["step", "noise", "chirp"],
)
def test_a_step_noise_or_chirp_is_not_a_ramp(current):
    noisy = current + 0.005 * np.random.default_rng(4).standard_normal(current.size)
    window = find_ramp(noisy, DT)
    assert window is not None
    assert not window.clear
    assert window.reason


@pytest.mark.parametrize(
    ("current", "why"),
    [
        (ramp_current(1000, 3000.1, 1.0, noise=0.01), "does not return"),
        (np.zeros(30000), "flat"),
        (np.full(30000, -0.2), "flat"),
        (np.where(np.arange(30000) == 5, np.nan, 0.0), "NaN"),
    ],
    ids=["never-returns", "zero", "constant", "nan"],
)
def test_a_bad_ramp_gets_no_window_and_a_reason(current, why):
    window = find_ramp(current, DT)
    assert window is not None
    assert not window.clear
    assert why in str(window.reason)


def test_a_too_short_trace_has_no_ramp():
    assert find_ramp(np.arange(5.0), DT) is None


# --------------------------------------------------------------- the consensus
def _fake_files(currents: dict[str, np.ndarray]) -> Any:
    """A reader giving each config's ``filepath`` its current (flat voltage)."""

    def read(config: dict[str, Any]) -> list[dict[str, Any]]:
        current = currents[config["filepath"]]
        return [
            {
                "voltage": np.full(current.size, -70.0),
                "current": current,
                "dt": DT,
                "t_unit": "ms",
                "v_unit": "mV",
                "i_unit": "nA",
            }
        ]

    return read


def test_ramp_windows_write_the_consensus_where_no_window_is_given():
    currents = {
        f"s{k}": ramp_current(500 + 0.1 * k, 2000, 0.3 + 0.2 * k, noise=0.002, seed=k)
        for k in range(3)
    }
    configs = [{"filepath": f"s{k}"} for k in range(3)]
    configs[2].update(ton=400.0, toff=1900.0)  # the person's window wins
    out, timing = ramp_windows(
        "C", "APThreshold", configs, reader=_fake_files(currents)
    )
    assert timing is not None
    assert timing.found
    assert (timing.n_clear, timing.n_agree) == (3, 3)
    assert abs(timing.ton - 500.1) <= 2 * DT
    assert timing.toff == pytest.approx(2000.0)
    assert out[0][SOURCE_KEY] == "consensus"
    assert out[0]["ton"] == timing.ton
    assert out[2] == configs[2]
    assert "ton" not in configs[0]  # the caller's entries are not modified

    trace = _fake_files(currents)(out[1])[0]
    recording = Ramp(out[1], trace, "APThreshold", SETTINGS)
    assert stimulus_source(recording) == "consensus"
    assert recording.amp == pytest.approx(0.5, abs=0.02)


def test_ramp_windows_without_a_consensus_give_each_entry_its_own_ramp():
    starts = [200.0, 500.0, 900.0]  # three protocols gone different ways
    currents = {
        f"s{k}": ramp_current(on, 2000.0, 0.8, noise=0.002, seed=k)
        for k, on in enumerate(starts)
    }
    configs = [{"filepath": f"s{k}"} for k in range(3)]
    out, timing = ramp_windows(
        "C", "APThreshold", configs, reader=_fake_files(currents)
    )
    assert timing is not None
    assert not timing.found
    assert "do not share one timing" in str(timing.reason)
    for config, on in zip(out, starts, strict=True):
        assert config[SOURCE_KEY] == "detected"
        assert abs(config["ton"] - on) <= 2 * DT
        trace = _fake_files(currents)(config)[0]
        recording = Ramp(config, trace, "APThreshold", SETTINGS)
        assert stimulus_source(recording) == "detected"


def test_ramp_windows_say_why_a_flat_protocol_has_none():
    currents = {"flat": np.zeros(30000)}
    out, timing = ramp_windows(
        "C", "Ramp", [{"filepath": "flat"}], reader=_fake_files(currents)
    )
    assert timing is not None
    assert not timing.found
    assert "flat" in str(timing.reason)
    assert "ton" not in out[0]


def test_ramp_windows_leave_other_protocols_alone():
    currents = {"s": ramp_current(500, 2000, 1.0)}
    configs = [{"filepath": "s"}]
    assert ramp_windows("C", "IDRest", configs, reader=_fake_files(currents)) == (
        configs,
        None,
    )
    # an override makes any name a Ramp
    _, timing = ramp_windows(
        "C", "MyProto", configs, {"MyProto": "Ramp"}, reader=_fake_files(currents)
    )
    assert timing is not None
    assert timing.found


def _ramp_cell(tmp_path: Path, ramps: bool = True) -> tuple[Path, list[float]]:
    """An NWB file of three simulated APThreshold sweeps (ramps 100 ms to 2100 ms).

    ``ramps=False``: the sweeps keep the simulated steps (an APThreshold protocol
    whose current holds no ramp).
    """
    cell = simulate_cell(seed=3)
    sweeps = [s for s in cell["sweeps"] if s["protocol_name"] == "IDRest"][:3]
    amps = [0.5, 0.7, 0.9]
    for k, (sweep, amp) in enumerate(zip(sweeps, amps, strict=True)):
        n = len(sweep["current"])
        sweep["protocol_name"] = "APThreshold"
        if ramps:
            sweep["current"] = ramp_current(100.0, 2100.0, amp, -0.05, n * DT, 0.002, k)
        sweep["dt"] = DT
    cell["sweeps"] = sweeps
    folder = tmp_path / "RampCell"
    folder.mkdir()
    write_nwb(cell, folder / "RampCell.nwb")
    return tmp_path, amps


def _protocol_jobs(root: Path, protocol: str) -> list[tuple[EntryKey, dict[str, Any]]]:
    found = import_folder(root)
    jobs = []
    for cell, protocols in found.files_metadata.items():
        for index, entry in enumerate(protocols.get(protocol, [])):
            config = {
                k: str(found.root / v) if k in ("filepath", "i_file", "v_file") else v
                for k, v in entry.items()
            }
            jobs.append((EntryKey(cell, protocol, index), config))
    return jobs


def test_a_folder_of_ramps_is_read_with_its_consensus_window(tmp_path):
    root, amps = _ramp_cell(tmp_path)
    jobs = _protocol_jobs(root, "APThreshold")
    assert jobs
    results, timing = load_protocol_group(jobs, efel_settings=SETTINGS)
    assert timing is not None
    assert timing.found
    assert abs(timing.ton - 100.0) <= 2 * DT
    assert abs(timing.toff - 2100.0) <= DT
    recordings = [r for res in results for r in res.recordings]
    assert len(recordings) == 3
    assert all(type(r) is Ramp for r in recordings)
    assert all(stimulus_source(r) == "consensus" for r in recordings)
    assert sorted(r.amp for r in recordings) == pytest.approx(amps, abs=0.02)


def test_a_ramp_protocol_without_a_ramp_says_why_it_is_not_interpreted(tmp_path):
    root, _ = _ramp_cell(tmp_path, ramps=False)
    results, timing = load_protocol_group(
        _protocol_jobs(root, "APThreshold"), efel_settings=SETTINGS
    )
    assert timing is not None
    assert not timing.found
    assert "clear current ramp" in str(timing.reason)
    errors = [e for res in results for e in res.trace_errors.values()]
    assert len(errors) == 3
    assert all("ton should be specified" in e and "Ramp finder" in e for e in errors)
    assert not [r for res in results for r in res.recordings if r is not None]


# ----------------------------------------------------------------- real data
LAB_CONFIG = "sscx/legacy_feature_extraction_config.json"


def test_sscx_apthreshold_folder_import_matches_the_lab_window():
    folder = shared_path("sscx", "input-traces")
    lab = json.loads(shared_path(LAB_CONFIG).read_text())["options"]["onoff"]
    lab_ton, lab_toff = lab["APThreshold"]
    jobs = _protocol_jobs(folder, "APThreshold")
    cells = sorted({key.cell for key, _ in jobs})
    assert len(cells) == 4
    for cell in cells:
        group = [job for job in jobs if job[0].cell == cell]
        results, timing = load_protocol_group(group, efel_settings=SETTINGS)
        assert timing is not None
        assert timing.found, timing.reason
        # the ramp starts with the sweep; C060109A1's current is noisy (0.09 nA)
        # and its holding is seen for 38 ms after the ramp only
        assert abs(timing.ton - lab_ton) <= 30.0
        assert abs(timing.toff - lab_toff) <= 3.0
        recordings = [r for res in results for r in res.recordings]
        assert len(recordings) == 3
        assert all(type(r) is Ramp for r in recordings)
        assert all(stimulus_source(r) == "consensus" for r in recordings)
        assert all(0.4 < r.amp < 1.5 for r in recordings)
        assert all(r.spikecount > 0 for r in recordings)


def test_sscx_steps_are_not_ramps():
    folder = shared_path("sscx", "input-traces", "C060109A2-SR-C1")
    from efex_gui.core.readers.raw import raw_trace

    jobs = _protocol_jobs(folder, "IDrest")[:4] + _protocol_jobs(folder, "IV")[:4]
    assert len(jobs) == 8
    for _, config in jobs:
        from efex_gui.core.readers import read_file

        trace = raw_trace(read_file(config)[0], config)
        window = find_ramp(trace.current, float(trace.t[1] - trace.t[0]))
        assert window is not None
        assert not window.clear
