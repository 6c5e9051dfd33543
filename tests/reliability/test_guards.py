"""Scientific guards: each fires on the case it names, and is quiet on clean data.

The guards only add warnings; the oracle tests (tests/test_oracle.py) prove the numbers
did not change. Here: the pure functions of ``efex_gui.core.recordings.checks``, then
the guards seen on recordings and cells built from traces.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from efex_gui.core.errors import MetadataError
from efex_gui.core.recordings.cell import Cell
from efex_gui.core.recordings.checks import (
    baseline_warning,
    check_sampling_metadata,
    clipping_warning,
    collect_warnings,
    format_warnings,
    recording_warnings,
    rheobase_warning,
    step_timing_warning,
    unit_warnings,
    voltage_range_warning,
)
from efex_gui.core.recordings.ecodes.step import Step
from tests.conftest import shared_path

DT = 0.1  # ms


def _trace(n: int = 3000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A noisy resting voltage (mV) and a 0.3 nA step from 50 to 250 ms (nA)."""
    rng = np.random.default_rng(seed)
    voltage = -70.0 + rng.normal(0, 0.3, n)
    current = np.zeros(n)
    current[500:2500] = 0.3
    voltage[500:2500] += 10.0
    return voltage, current


def _step(voltage: np.ndarray, current: np.ndarray, **config: object) -> Step:
    reader = {"voltage": voltage, "current": current, "dt": DT}
    units = {"t_unit": "ms", "v_unit": "mV", "i_unit": "nA", **config}
    return Step(units, reader, "IDRest")


# --- pure functions -------------------------------------------------------------


def test_rheobase_guard() -> None:
    assert rheobase_warning(0.12) is None
    assert rheobase_warning(None) is None
    assert "NaN" in rheobase_warning(float("nan"))
    assert "negative (-0.05 nA)" in rheobase_warning(-0.05)


def test_step_timing_guard_flags_steps_at_the_edges() -> None:
    assert step_timing_warning(50.0, 250.0, 300.0, DT) is None
    start = step_timing_warning(2.0, 250.0, 300.0, DT)
    assert "starts at 2 ms" in start
    assert "ton and toff" in start
    end = step_timing_warning(50.0, 297.9, 300.0, DT)
    assert "ends at 297.9 ms of 300 ms" in end
    assert "starts" not in end
    assert step_timing_warning(None, 250.0, 300.0, DT) is None


def test_baseline_guard_names_the_problem() -> None:
    voltage = np.full(1000, -15.0)
    message = baseline_warning(voltage, 200, -20.0)
    assert message.startswith(
        "baseline above spike threshold, spikes cannot be counted"
    )
    assert "-15.00 mV" in message
    assert "-20.00 mV" in message
    assert baseline_warning(voltage, 200, 10.0) is None
    assert baseline_warning(voltage, 0, -20.0) is None  # no baseline before ton
    assert baseline_warning(voltage, 200, float("nan")) is None


def test_clipping_guard_needs_a_long_flat_run_at_the_extreme() -> None:
    voltage, _ = _trace()
    assert clipping_warning(voltage, DT) is None
    clipped = np.minimum(voltage + np.r_[np.zeros(1000), np.full(2000, 30.0)], -45.0)
    message = clipping_warning(clipped, DT)
    assert "flat at its maximum (-45 mV)" in message
    assert "saturated" in message
    short = voltage.copy()
    short[100:105] = voltage.max() + 1  # a 0.5 ms plateau is a spike top, not clipping
    assert clipping_warning(short, DT) is None
    assert clipping_warning(np.full(100, -70.0), DT) is None  # flat, not clipped


def test_voltage_range_guard() -> None:
    voltage, _ = _trace()
    assert voltage_range_warning(voltage) is None
    assert "spans -7.1" in voltage_range_warning(voltage * 1000)  # mV labelled uV
    assert "outside the plausible -150 to +80 mV" in voltage_range_warning(
        np.r_[voltage, 95.0]
    )


def test_unit_guard_proposes_the_unit_that_fits() -> None:
    voltage, current = _trace()
    assert unit_warnings(voltage, current, "mV", "nA") == []
    volts = unit_warnings(voltage / 1000, current, "mV", "nA")
    assert len(volts) == 1
    assert 'looks like "V"' in volts[0]
    assert "v_unit" in volts[0]
    amperes = unit_warnings(voltage, current * 1e-9, "mV", "pA")
    assert len(amperes) == 1
    assert "i_unit" in amperes[0]
    # a 0 pA sweep is noise, not a unit error
    assert unit_warnings(voltage, np.tile([3e-8, -3e-8], 5), "mV", "nA") == []


def test_dt_zero_in_metadata_is_refused_naming_the_file() -> None:
    check_sampling_metadata({"dt": 0.1}, "a.abf")
    check_sampling_metadata({}, "a.abf")
    for bad in (0, 0.0, -0.1, float("nan"), "fast"):
        with pytest.raises(MetadataError, match=r"dt=.* of file a\.abf"):
            check_sampling_metadata({"dt": bad}, "a.abf")


# --- on recordings and cells ---------------------------------------------------


def test_a_clean_step_has_no_warning() -> None:
    assert recording_warnings(_step(*_trace())) == []


def test_guards_see_the_converted_trace_and_the_declared_units() -> None:
    voltage, current = _trace()
    volts = _step(voltage / 1000, current)  # V labelled mV
    messages = recording_warnings(volts)
    assert any('looks like "V"' in m for m in messages)
    flat_current = _step(voltage, np.zeros_like(current))
    assert any("no current step" in m for m in flat_current.warnings)
    # the eCode already said its detection failed: no second timing warning
    assert not any("starts at" in m for m in recording_warnings(flat_current))


def test_cell_puts_the_guards_on_each_recording(tmp_path) -> None:
    voltage, current = _trace()
    voltage = np.minimum(voltage, -65.0)  # clipped during the step
    cell = Cell("c1")
    traces = [{"voltage": voltage, "current": current, "dt": DT, "id": "s1"}]
    config = {"filepath": str(tmp_path / "a.txt"), "t_unit": "ms", "v_unit": "mV",
              "i_unit": "nA"}  # fmt: skip
    cell.read_recordings([config], "IDRest", recording_reader=lambda _: traces)
    assert any("clipped or saturated" in m for m in cell.recordings[0].warnings)
    cell.read_recordings([dict(config)], "IV", recording_reader=lambda _: [])
    assert any("gave no sweep for protocol 'IV'" in m for m in cell.warnings)
    cell.rheobase = -0.1
    cell.compute_relative_amp()
    collected = collect_warnings([cell, Cell("quiet")])
    assert list(collected) == ["c1"]
    assert any(m.startswith("[IDRest s1] ") for m in collected["c1"])
    lines = format_warnings(collected)
    assert lines[0] == f"  c1: {len(collected['c1'])} warning(s)"


def test_zero_dt_in_metadata_is_refused_by_the_cell(tmp_path) -> None:
    voltage, current = _trace()
    cell = Cell("c1")
    config = {"filepath": str(tmp_path / "a.txt"), "dt": 0, "t_unit": "ms",
              "v_unit": "mV", "i_unit": "nA"}  # fmt: skip
    reader = {"voltage": voltage, "current": current, "dt": DT}
    with pytest.raises(MetadataError, match=r"a\.txt"):
        cell.read_recordings([config], "IDRest", recording_reader=lambda _: [reader])


def test_nwb_baseline_above_the_default_threshold_is_flagged() -> None:
    """The hippocampus NWB file rests near -15 mV: with efel's -20 mV threshold
    BluePyEfe counts no spike and says nothing."""
    path = shared_path("bluepyefe-exp-data", "hippocampus-portal", "99111002.nwb")
    cell = Cell("hippocampus")
    config = {"filepath": str(path), "i_unit": "A", "v_unit": "V", "t_unit": "s"}
    cell.read_recordings([config], "Step", efel_settings={"Threshold": -20.0})
    flagged = [
        r
        for r in cell.recordings
        if any(m.startswith("baseline above spike") for m in r.warnings)
    ]
    assert flagged
    assert len(flagged) >= len(cell.recordings) // 2
    quiet = Cell("hippocampus")
    quiet.read_recordings([dict(config)], "Step", efel_settings={"Threshold": 10.0})
    assert not any(
        m.startswith("baseline above") for r in quiet.recordings for m in r.warnings
    )


def test_failed_step_detection_is_flagged_on_sscx_iv() -> None:
    """SSCx IV sweeps without ton/toff: BluePyEfe's detection puts the step at 2 ms and
    at the end of the trace without a word (spec §9.1-3)."""
    inputs = shared_path("oracle", "sscx-dev4-autotiming", "inputs.json")
    entries = json.loads(inputs.read_text())["files_metadata"]["C060109A2-SR-C1"]
    config = next(e for e in entries["IV"] if e["v_file"].endswith("X_IV_ch1_265.ibw"))
    for key in ("v_file", "i_file"):
        config[key] = str(shared_path(config[key]))
    cell = Cell("C060109A2-SR-C1")
    cell.read_recordings([config], "IV")
    messages = cell.recordings[0].warnings
    assert any("starts at 2 ms" in m and "ton and toff" in m for m in messages)
