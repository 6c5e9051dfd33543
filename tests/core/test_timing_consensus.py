"""Protocol consensus timing: the robust step finder, the consensus and its sources."""

from __future__ import annotations

import json
import os
import pickle
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

from efex_gui.core.recordings.ecodes import Step
from efex_gui.core.recordings.step_window import find_step
from efex_gui.core.recordings.timing_consensus import (
    SOURCE_KEY,
    apply_consensus,
    apply_timing,
    protocol_consensus,
    stimulus_source,
)
from efex_gui.core.synthetic.demo import simulate_cell
from tests.conftest import shared_path

if TYPE_CHECKING:
    from pathlib import Path

SETTINGS = {"strict_stiminterval": True, "Threshold": -20.0, "interp_step": 0.025}


@pytest.fixture(scope="module")
def demo_cell() -> dict[str, Any]:
    return simulate_cell(seed=3)


def _sweeps(cell: dict[str, Any], protocol: str) -> list[dict[str, Any]]:
    return [dict(s) for s in cell["sweeps"] if s["protocol_name"] == protocol]


def _recordings(sweeps: list[dict[str, Any]], protocol: str) -> list[Step]:
    return [Step({}, s, protocol, SETTINGS) for s in sweeps]


def _shift_step(sweep: dict[str, Any], shift_ms: float) -> None:
    """Move the sweep's current step by ``shift_ms`` (a protocol gone wrong)."""
    stim = sweep["stimulus"]
    t = np.arange(len(sweep["current"])) * sweep["dt"]
    on = (t >= stim["ton_ms"] + shift_ms) & (t < stim["toff_ms"] + shift_ms)
    noise = sweep["current"] - (stim["holding_na"] + stim["amp_na"] * (
        (t >= stim["ton_ms"]) & (t < stim["toff_ms"])
    ))  # fmt: skip
    sweep["current"] = stim["holding_na"] + stim["amp_na"] * on + noise


def test_find_step_on_noisy_current_where_per_sweep_detection_fails(demo_cell):
    sweep = _sweeps(demo_cell, "IDRest")[3]
    rng = np.random.default_rng(0)
    amp = sweep["stimulus"]["amp_na"]
    sweep["current"] = sweep["current"] + 0.3 * amp * rng.standard_normal(
        len(sweep["current"])
    )
    own = Step({}, dict(sweep), "IDRest", SETTINGS)
    assert own.ton < 100.0  # BluePyEfe's detection: no edge above 4.5 x the noise
    window = find_step(sweep["current"], sweep["dt"])
    assert window is not None
    assert window.clear
    assert abs(window.ton - 700.0) < 3.0
    assert abs(window.toff - 2700.0) < 3.0
    assert abs(window.amp - amp) < 0.05 * abs(amp)


def test_find_step_says_a_ramp_is_not_a_clear_step():
    t = np.arange(0, 3000, 0.1)
    ramp = np.clip((t - 500) / 2000, 0, None) * (t < 2500) * 0.5
    window = find_step(
        ramp + 0.001 * np.random.default_rng(1).standard_normal(t.size), 0.1
    )
    assert window is not None
    assert not window.clear


def test_consensus_fixes_noisy_sweeps_and_flags_a_shifted_step(demo_cell):
    sweeps = _sweeps(demo_cell, "IDRest")
    rng = np.random.default_rng(2)
    noisy = sweeps[1]
    noisy["current"] = noisy["current"] + 0.05 * rng.standard_normal(
        noisy["current"].size
    )
    _shift_step(sweeps[5], 60.0)
    recordings = _recordings(sweeps, "IDRest")
    assert recordings[1].ton < 100.0  # per-sweep detection lost the step
    timings = apply_consensus("SimCell", recordings, SETTINGS)
    timing = timings["IDRest"]
    assert timing.found
    assert abs(timing.ton - 700.0) < 1.0
    assert abs(timing.toff - 2700.0) < 1.0
    assert timing.n_agree == timing.n_sweeps - 1
    for recording in recordings:
        assert stimulus_source(recording) == "consensus"
        assert recording.ton == timing.ton
        assert recording.toff == timing.toff
    nominal = sweeps[1]["stimulus"]["amp_na"]
    assert abs(recordings[1].amp - nominal) < 0.02 * abs(nominal)
    assert not any("no current step found" in w for w in recordings[1].warnings)
    assert abs(recordings[5].own_window.ton - 760.0) < 3.0
    # the timing the browser keeps per protocol holds counts, not each sweep's step
    # (0.16 kB a sweep, for every sweep read)
    assert len(pickle.dumps(timing)) < 400 < 80 * timing.n_sweeps


def test_user_and_file_windows_win_over_the_consensus(demo_cell):
    sweeps = _sweeps(demo_cell, "IDRest")[:4]
    user = Step({"ton": 650.0, "toff": 2650.0}, sweeps[0], "IDRest", SETTINGS)
    file_sweep = dict(sweeps[1], ton=6000, toff=26000)  # reader timings: indices
    from_file = Step({}, file_sweep, "IDRest", SETTINGS)
    saved = Step(
        {"ton": 700.0, "toff": 2700.0, SOURCE_KEY: "consensus"}, sweeps[2], "IDRest"
    )
    detected = Step({}, sweeps[3], "IDRest", SETTINGS)
    assert [stimulus_source(r) for r in (user, from_file, saved, detected)] == [
        "user", "file", "consensus", "detected",
    ]  # fmt: skip
    apply_consensus("SimCell", [user, from_file, saved, detected], SETTINGS)
    assert user.ton == 650.0
    assert stimulus_source(user) == "user"
    assert stimulus_source(from_file) == "file"
    assert stimulus_source(detected) == "consensus"


def test_a_protocol_without_a_common_step_gets_no_fake_consensus():
    t = np.arange(0, 2000, 0.1)
    rng = np.random.default_rng(4)
    recordings = []
    for k in range(4):
        current = 0.1 * (k + 1) * rng.standard_normal(t.size)  # noise stimulus
        trace = {"voltage": -70 + 0 * t, "current": current, "dt": 0.1,
                 "t_unit": "ms", "v_unit": "mV", "i_unit": "nA"}  # fmt: skip
        recordings.append(Step({}, trace, "Noise", SETTINGS))
    before = [(r.ton, r.toff) for r in recordings]
    timing = apply_consensus("Cell", recordings, SETTINGS)["Noise"]
    assert not timing.found
    assert "no sweep" in timing.reason
    assert [(r.ton, r.toff) for r in recordings] == before
    assert all(stimulus_source(r) == "detected" for r in recordings)
    assert all(any("clear square step" in w for w in r.warnings) for r in recordings)


def test_disagreeing_clear_steps_give_no_consensus():
    from efex_gui.core.recordings.step_window import StepWindow

    windows = [StepWindow(100.0 * k, 100.0 * k + 50, 1.0, 0.01, True) for k in range(4)]
    timing = protocol_consensus("Cell", "Chirp", windows, 0.1)
    assert not timing.found
    assert "do not share one timing" in timing.reason


def test_apply_timing_recomputes_amplitudes_as_with_given_timings(demo_cell):
    sweep = _sweeps(demo_cell, "IV")[0]
    recording = Step({}, dict(sweep), "IV", SETTINGS)
    given = Step({"ton": 250.0, "toff": 1250.0}, dict(sweep), "IV", SETTINGS)
    apply_timing(recording, 250.0, 1250.0, "user", SETTINGS)
    assert recording.amp == given.amp
    assert recording.hypamp == given.hypamp
    assert recording.spikecount == given.spikecount
    assert stimulus_source(recording) == "user"


# --- the shared SSCx cells, opened as a bare folder -------------------------------

LAB_TIMINGS = {
    "IDrest": (700.0, 2700.0),
    "IDthresh": (700.0, 2700.0),
    "APWaveform": (5.0, 55.0),
    "IV": (20.0, 1020.0),
}


@pytest.fixture(scope="module")
def sscx_consensus() -> tuple[list[Any], Path]:
    from efex_gui.core.extraction.read_and_extract import read_recordings
    from efex_gui.core.extraction.request import RunExtras
    from efex_gui.core.session.folder_import import import_folder

    folder = shared_path("sscx", "input-traces")
    imported = import_folder(folder)
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        files_metadata = {
            cell: {p: v for p, v in protocols.items() if p in LAB_TIMINGS}
            for cell, protocols in imported.files_metadata.items()
        }
        cells = read_recordings(
            files_metadata, options=RunExtras(consensus_timing=True)
        )
    finally:
        os.chdir(cwd)
    return cells, folder


def test_sscx_folder_windows_match_the_lab_timings(sscx_consensus):
    cells, _ = sscx_consensus
    close = total = 0
    for cell in cells:
        for recording in cell.recordings:
            ton, toff = LAB_TIMINGS[recording.protocol_name]
            total += 1
            close += abs(recording.ton - ton) <= 3 and abs(recording.toff - toff) <= 3
    assert total > 400
    assert close >= 0.99 * total


def test_sscx_folder_rheobases_match_the_oracle(sscx_consensus):
    from efex_gui.core.rheobase.strategies import compute_rheobase

    cells, _ = sscx_consensus
    oracle = json.loads(
        shared_path(
            "oracle", "sscx-dev4", "holding_threshold_currents.json"
        ).read_text()
    )["all_threshold_current"]
    compute_rheobase(cells, ["IDrest", "IDthresh"], "absolute", {"spike_threshold": 1})
    for cell in cells:
        assert cell.rheobase == pytest.approx(oracle[cell.name], rel=0.01), cell.name


def _explained_variance_window(blocks: np.ndarray) -> tuple[int, int]:
    """The definition: the block window [a, b) of largest S_in^2 m / (n_in n_out)."""
    m = blocks.size
    centred = np.concatenate(([0.0], np.cumsum(blocks - blocks.mean())))
    best, found = -1.0, (0, 0)
    for a in range(m + 1):
        for b in range(a + 2, m + 1):  # at least two blocks inside
            n_in = float(b - a)
            if n_in > m - 1:  # and one outside
                continue
            score = (centred[b] - centred[a]) ** 2 * m / (n_in * (m - n_in))
            if score > best:
                best, found = score, (a, b)
    return found


def test_the_coarse_step_is_the_window_of_largest_explained_variance() -> None:
    """Computed in place on cached window sizes (it was most of reading a sweep)."""
    from efex_gui.core.recordings.step_window import _coarse_step

    rng = np.random.default_rng(7)
    for m in (6, 9, 40, 41):
        for shape in range(6):
            blocks = rng.normal(size=m)
            if shape % 2:
                start = int(rng.integers(0, m - 3))
                blocks[start : start + int(rng.integers(2, m - start))] += 4.0
            if shape == 4:
                blocks = np.round(blocks)  # ties: the first window wins
            assert _coarse_step(blocks) == _explained_variance_window(blocks)
