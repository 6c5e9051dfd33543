"""The cell summary on the shared SSCx cells: oracle rheobase and hand computations."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from efex_gui.cli_config import load_run_config
from efex_gui.core.analysis.summary_io import summarize_run
from tests.conftest import shared_path

pytestmark = pytest.mark.shared
PROTOCOLS = ("IV", "IDrest", "IDthresh")


@pytest.fixture(scope="module")
def sscx() -> Any:
    oracle = shared_path("oracle", "sscx-dev4")
    kwargs = load_run_config(oracle / "inputs.json", shared_path()).kwargs
    kwargs["files_metadata"] = {
        cell: {p: entries for p, entries in protocols.items() if p in PROTOCOLS}
        for cell, protocols in kwargs["files_metadata"].items()
    }
    summaries, cells = summarize_run(kwargs)
    currents = json.loads((oracle / "holding_threshold_currents.json").read_text())
    return {s.cell: s for s in summaries}, {c.name: c for c in cells}, currents


def test_rheobase_equals_bluepyefes(sscx: Any) -> None:
    summaries, _, currents = sscx
    expected = currents["all_threshold_current"]
    assert set(summaries) == set(expected)
    for name, value in expected.items():
        assert summaries[name].value("rheobase_nA") == pytest.approx(value, rel=1e-12)


def _window_mean(recording: Any, start: float, end: float) -> float:
    t, v = np.asarray(recording.t), np.asarray(recording.voltage)
    return float(np.mean(v[(t >= start) & (t <= end)]))


def _step_amplitude(recording: Any) -> float:
    """The step's current from the recorded current trace (nA)."""
    t, i = np.asarray(recording.t), np.asarray(recording.current)
    on = (t > recording.ton + 50) & (t < recording.toff - 50)
    return float(np.median(i[on]) - np.median(i[t < recording.ton - 5]))


@pytest.mark.parametrize("name", ["C060109A1-SR-C1", "C080501B2-SR-C1"])
def test_input_resistance_and_rmp_by_hand(sscx: Any, name: str) -> None:
    summaries, cells, _ = sscx
    steps = [r for r in cells[name].get_recordings_by_protocol_name("IV") if r.amp < 0]
    amps, deflections = [], []
    for r in steps:
        base = _window_mean(r, 0.9 * r.ton, r.ton)
        steady = _window_mean(r, r.toff - 0.1 * (r.toff - r.ton), r.toff)
        amps.append(_step_amplitude(r))
        deflections.append(steady - base)
    expected = np.polyfit(amps, deflections, 1)[0]
    summary = summaries[name]
    assert summary.value("input_resistance_MOhm") == pytest.approx(expected, rel=0.15)
    assert summary.measures["input_resistance_MOhm"].n == len(steps)
    every = list(cells[name].recordings)
    rmp = np.mean([_window_mean(r, 0.9 * r.ton, r.ton) for r in every])
    assert summary.value("rmp_mV") == pytest.approx(rmp, abs=0.5)


def test_sag_ratio_by_hand(sscx: Any) -> None:
    summaries, cells, _ = sscx
    name = "C060109A1-SR-C1"
    measure = summaries[name].measures["sag_ratio"]
    hand = []
    for r in measure.sweeps:
        t, v = np.asarray(r.t), np.asarray(r.voltage)
        base = _window_mean(r, 0.9 * r.ton, r.ton)
        steady = _window_mean(r, r.toff - 0.1 * (r.toff - r.ton), r.toff)
        low = float(np.min(v[(t >= r.ton) & (t <= r.toff)]))
        hand.append((steady - low) / (base - low))
    assert measure.value == pytest.approx(np.mean(hand), abs=0.02)
    deepest = min(r.amp for r in cells[name].get_recordings_by_protocol_name("IV"))
    assert all(r.amp <= 0.95 * deepest for r in measure.sweeps)


def test_every_measure_defined_on_every_shared_cell(sscx: Any) -> None:
    summaries, _, _ = sscx
    for summary in summaries.values():
        missing = {m: x.reason for m, x in summary.measures.items() if x.value is None}
        assert not missing, (summary.cell, missing)
