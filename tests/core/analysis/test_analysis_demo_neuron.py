"""The cell summary against the simulated neuron, whose parameters are known.

Expected values come from the model's equations (steady-state I-V, capacitance,
conductances), or from the simulator's own noiseless spike counts, never from the
summary's output.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from scipy.optimize import brentq

from efex_gui.core.synthetic.demo import CellParameters
from efex_gui.core.synthetic.model import resting_potential, steady_state_current


def _steady_voltage(params: CellParameters, amp_na: float) -> float:
    """The model's steady-state voltage under holding + ``amp_na`` (subthreshold)."""
    rest = resting_potential(params)
    target = params.holding_na + amp_na

    def balance(v: float) -> float:
        return float(steady_state_current(params, np.array(v))) - target

    return (
        brentq(balance, -140.0, rest + 0.5)
        if amp_na < 0
        else brentq(balance, rest - 0.5, params.v_t_mv)
    )


def _params(sim: dict[str, Any]) -> CellParameters:
    return CellParameters(**sim["parameters"])


def _sweeps(sim: dict[str, Any], *protocols: str) -> list[dict[str, Any]]:
    return [s for s in sim["sweeps"] if s["protocol_name"] in protocols]


@pytest.mark.parametrize("name", ["SimCell1", "SimCell2"])
def test_rmp_is_the_models_resting_potential(demo_cells: Any, name: str) -> None:
    expected = resting_potential(_params(demo_cells.sims[name]))
    measure = demo_cells.summaries[name].measures["rmp_mV"]
    assert measure.value == pytest.approx(expected, abs=0.3)
    assert measure.n == len(demo_cells.sims[name]["sweeps"]) - 4  # not APWaveform


@pytest.mark.parametrize("name", ["SimCell1", "SimCell2"])
def test_input_resistance_is_the_slope_of_the_models_steady_state(
    demo_cells: Any, name: str
) -> None:
    params = _params(demo_cells.sims[name])
    steps = [
        s for s in _sweeps(demo_cells.sims[name], "IV") if s["stimulus"]["amp_na"] < 0
    ]
    amps = np.array([s["stimulus"]["amp_na"] for s in steps])
    rest = resting_potential(params)
    deflections = [_steady_voltage(params, a) - rest for a in amps]
    expected = np.polyfit(amps, deflections, 1)[0]  # mV / nA = MOhm
    measure = demo_cells.summaries[name].measures["input_resistance_MOhm"]
    assert measure.value == pytest.approx(expected, rel=0.04)
    assert measure.n == len(steps)
    # the h-current makes it lower than the leak alone (the model's 1 / g_leak)
    assert measure.value < 1.0 / params.g_leak_us


def test_passive_membrane_time_constant_is_c_over_g(passive_cell: Any) -> None:
    params = _params(passive_cell.sims["Passive"])
    rest = resting_potential(params)
    g_us = float(
        steady_state_current(params, np.array(rest + 0.5))
        - steady_state_current(params, np.array(rest - 0.5))
    )
    summary = passive_cell.summaries["Passive"]
    assert summary.value("tau_ms") == pytest.approx(
        params.capacitance_nf / g_us, rel=0.08
    )
    assert summary.value("input_resistance_MOhm") == pytest.approx(1.0 / g_us, rel=0.03)
    # no h-current: only the noise puts the minimum below the steady state
    assert summary.value("sag_ratio") < 0.08


def test_sag_comes_from_the_h_current(demo_cells: Any, passive_cell: Any) -> None:
    for name in ("SimCell1", "SimCell2"):
        sag = demo_cells.summaries[name].measures["sag_ratio"]
        assert sag.value > 0.15
        deepest = min(s.amp for s in sag.sweeps)
        iv = demo_cells.cells[name].get_recordings_by_protocol_name("IV")
        assert deepest == min(r.amp for r in iv)
    assert passive_cell.summaries["Passive"].value("sag_ratio") < 0.08


@pytest.mark.parametrize("name", ["SimCell1", "SimCell2"])
def test_rheobase_is_the_simulators_lowest_spiking_step(
    demo_cells: Any, name: str
) -> None:
    measure = demo_cells.summaries[name].measures["rheobase_nA"]
    assert measure.value == pytest.approx(
        demo_cells.sims[name]["rheobase_na"], rel=0.02
    )
    assert measure.value == demo_cells.cells[name].rheobase


@pytest.mark.parametrize("name", ["SimCell1", "SimCell2"])
def test_fi_slope_and_max_rate_from_the_simulators_spike_counts(
    demo_cells: Any, name: str
) -> None:
    sim = demo_cells.sims[name]
    sweeps = _sweeps(sim, "IDRest", "IDthresh")
    rates = {
        s["stimulus"]["amp_na"]: s["spikecount"]
        / ((s["stimulus"]["toff_ms"] - s["stimulus"]["ton_ms"]) / 1000.0)
        for s in sweeps
    }
    above = [a for a in rates if a >= sim["rheobase_na"] * 0.999]
    expected = np.polyfit(above, [rates[a] for a in above], 1)[0]
    summary = demo_cells.summaries[name]
    assert summary.value("fi_slope_Hz_per_nA") == pytest.approx(expected, rel=0.05)
    assert summary.value("max_rate_Hz") == pytest.approx(max(rates.values()), abs=0.6)


def _hand_first_spike(t: np.ndarray, v: np.ndarray) -> tuple[float, float, float]:
    """Threshold (dV/dt > 10 mV/ms), amplitude and half width of the first spike."""
    dvdt = np.gradient(v, t)
    onset = int(np.flatnonzero(dvdt > 10.0)[0])
    peak = onset + int(np.argmax(v[onset : onset + int(3.0 / (t[1] - t[0]))]))
    threshold, amplitude = v[onset], v[peak] - v[onset]
    half = threshold + amplitude / 2
    above = np.flatnonzero(v[onset : peak + int(5.0 / (t[1] - t[0]))] > half)
    return threshold, amplitude, (above[-1] - above[0] + 1) * (t[1] - t[0])


def test_first_spike_measures_by_hand(demo_cells: Any) -> None:
    summary = demo_cells.summaries["SimCell1"]
    sweeps = summary.measures["ap_threshold_mV"].sweeps
    assert sweeps, summary.measures["ap_threshold_mV"].reason
    hand = np.array([_hand_first_spike(r.t, r.voltage) for r in sweeps]).mean(axis=0)
    assert summary.value("ap_threshold_mV") == pytest.approx(hand[0], abs=1.5)
    assert summary.value("ap_amplitude_mV") == pytest.approx(hand[1], abs=2.0)
    assert summary.value("ap_width_ms") == pytest.approx(hand[2], abs=0.15)
    # the rheobase sweep: the lowest spiking step
    spiking = [
        r
        for r in demo_cells.cells["SimCell1"].recordings
        if r.protocol_name in ("IDRest", "IDthresh") and r.spikecount
    ]
    assert min(r.amp for r in sweeps) == min(r.amp for r in spiking)
