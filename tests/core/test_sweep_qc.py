"""Automatic sweep QC: measures, flags, settings; synthetic faults and real cells."""

from __future__ import annotations

import copyreg
import os
import pickle
from typing import Any

import numpy as np
import pytest

from efex_gui.core.errors import SettingsError
from efex_gui.core.recordings.ecodes import Step
from efex_gui.core.recordings.qc_settings import CHECKS, QCSettings
from efex_gui.core.recordings.sweep_qc import (
    QC_MEASURES,
    QCResult,
    SweepMeasures,
    evaluate_recordings,
    flagged,
    sweep_measures,
)
from efex_gui.core.recordings.timing_consensus import apply_consensus
from efex_gui.core.session.document import Session
from tests.conftest import held_bytes, shared_path

SETTINGS = {"strict_stiminterval": True, "Threshold": -20.0, "interp_step": 0.025}


def _cell(demo_cell: dict[str, Any], fault: Any = None, which: int = 4) -> list[Step]:
    """The demo cell's IDRest and IV sweeps, ``fault(sweep)`` applied to one IDRest."""
    recordings = []
    idrest = 0
    for i, sweep in enumerate(demo_cell["sweeps"]):
        if sweep["protocol_name"] not in ("IDRest", "IV"):
            continue
        trace = dict(
            sweep, voltage=sweep["voltage"].copy(), current=sweep["current"].copy()
        )
        if sweep["protocol_name"] == "IDRest":
            if fault is not None and idrest == which:
                fault(trace)
            idrest += 1
        config = {"ordinal": str(i)}
        recordings.append(Step(config, trace, sweep["protocol_name"], SETTINGS))
    apply_consensus("SimCell", recordings, SETTINGS)
    return recordings


def _flags(
    recordings: list[Step], settings: QCSettings | None = None
) -> list[set[str]]:
    return [
        {r.check for r in flagged(row)}
        for row in evaluate_recordings(recordings, settings)
    ]


def _idrest_index(recordings: list[Step], which: int) -> int:
    return [i for i, r in enumerate(recordings) if r.protocol_name == "IDRest"][which]


def test_a_clean_demo_cell_gets_no_flag(demo_cell):
    assert all(not f for f in _flags(_cell(demo_cell)))


def _noisy(trace: dict[str, Any]) -> None:
    rng = np.random.default_rng(0)
    trace["voltage"] = trace["voltage"] + 3.0 * rng.standard_normal(
        trace["voltage"].size
    )


def _drift(trace: dict[str, Any]) -> None:
    """A cell depolarised by 10 mV that keeps drifting (10 mV over the sweep)."""
    trace["voltage"] = (
        trace["voltage"] + 10.0 + np.linspace(0, 10, trace["voltage"].size)
    )


def _clipped(trace: dict[str, Any]) -> None:
    trace["voltage"] = np.minimum(trace["voltage"], -50.0)


def _hum(trace: dict[str, Any]) -> None:
    t = np.arange(trace["voltage"].size) * trace["dt"] / 1000.0
    trace["voltage"] = trace["voltage"] + 1.5 * np.sin(2 * np.pi * 50.0 * t)


def _shifted(trace: dict[str, Any]) -> None:
    stim = trace["stimulus"]
    t = np.arange(trace["current"].size) * trace["dt"]
    old = (t >= stim["ton_ms"]) & (t < stim["toff_ms"])
    new = (t >= stim["ton_ms"] + 80) & (t < stim["toff_ms"] + 80)
    trace["current"] = trace["current"] + stim["amp_na"] * (new.astype(float) - old)


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        (_noisy, {"pre_noise_rms", "post_noise_rms", "slow_noise_rms"}),
        (_drift, {"vm_delta", "baseline_vm_offset"}),
        (_clipped, {"clipping"}),
        (_hum, {"line_noise"}),
        (_shifted, {"window_disagreement"}),
    ],
)
def test_an_injected_fault_flags_its_sweep_only(demo_cell, fault, expected):
    recordings = _cell(demo_cell, fault, which=4)
    flags = _flags(recordings)
    faulty = _idrest_index(recordings, 4)
    assert expected <= flags[faulty]
    assert all(not f for i, f in enumerate(flags) if i != faulty)


def test_switches_and_thresholds_are_honoured(demo_cell):
    recordings = _cell(demo_cell, _hum, which=4)
    faulty = _idrest_index(recordings, 4)
    off = QCSettings()
    off.enabled["line_noise"] = False
    results = evaluate_recordings(recordings, off)
    assert "line_noise" not in {r.check for r in results[faulty]}
    loose = QCSettings()
    loose.thresholds["line_noise"] = 10.0
    assert "line_noise" not in _flags(recordings, loose)[faulty]


def test_a_too_short_sweep_is_not_applicable_never_an_error():
    t = np.arange(0, 30, 0.1)
    noise = 0.01 * np.random.default_rng(3).standard_normal(t.size)
    trace = {"voltage": -70 + noise, "current": 0.2 * ((t >= 5) & (t < 25)), "dt": 0.1,
             "t_unit": "ms", "v_unit": "mV", "i_unit": "nA"}  # fmt: skip
    recording = Step({}, trace, "APWaveform", SETTINGS)
    measures = sweep_measures(recording)
    for name in ("slow_noise_rms", "vm_delta", "line_noise", "baseline_vm"):
        assert measures[name] is None
    (row,) = evaluate_recordings([recording])
    assert {r.check for r in row} == {c.name for c in CHECKS}
    assert not any(r.flagged for r in row)
    assert not next(r for r in row if r.check == "slow_noise_rms").applicable


def test_settings_round_trip_in_the_session_and_bad_values_are_refused():
    session = Session()
    session.qc.enabled["clipping"] = False
    session.qc.thresholds["vm_delta"] = 2.5
    again = Session.from_dict(session.to_dict())
    assert again.qc == session.qc
    with pytest.raises(SettingsError, match="unknown check"):
        QCSettings.from_dict({"nonsense": {"enabled": True}})
    with pytest.raises(SettingsError, match="vm_delta"):
        QCSettings.from_dict({"vm_delta": {"threshold": -1}})


def test_flag_rates_on_the_shared_sscx_cells_are_low():
    from efex_gui.core.extraction.read_and_extract import read_recordings
    from efex_gui.core.extraction.request import RunExtras
    from efex_gui.core.session.folder_import import import_folder

    folder = shared_path("sscx", "input-traces")
    imported = import_folder(folder)
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        cells = read_recordings(
            imported.files_metadata, options=RunExtras(consensus_timing=True)
        )
    finally:
        os.chdir(cwd)
    total = flagged_sweeps = 0
    per_check = dict.fromkeys((c.name for c in CHECKS), 0)
    for cell in cells:
        for row in evaluate_recordings(cell.recordings):
            total += 1
            flags = flagged(row)
            flagged_sweeps += bool(flags)
            for result in flags:
                per_check[result.check] += 1
    assert total > 450
    assert flagged_sweeps <= 0.05 * total
    assert all(count <= 0.02 * total for count in per_check.values()), per_check


def test_a_qc_result_holds_no_instance_dict() -> None:
    """The browser keeps one per check and sweep read (78 000 on 44 cells)."""
    result = QCResult("clipping", 1.0, 2.0)
    assert not hasattr(result, "__dict__")
    assert (result.flagged, result.applicable) == (False, True)


def test_a_sweeps_measures_are_a_compact_mapping(demo_cell) -> None:
    """Every sweep read keeps its measures: packed, not eleven floats or a dict each."""
    recording = _cell(demo_cell)[0]
    measures = sweep_measures(recording)
    assert isinstance(measures, SweepMeasures)
    assert not hasattr(measures, "__dict__")
    # a tuple of eleven floats held 0.4 kB, an eleven-entry dict 0.6 kB
    assert held_bytes(measures) < 200
    assert any(measures[name] is None for name in QC_MEASURES)  # None stays None
    assert list(measures) == list(QC_MEASURES)
    plain = dict(measures)
    assert measures == plain
    assert plain["baseline_vm"] == pytest.approx(-70.0, abs=5.0)
    again = pickle.loads(pickle.dumps(measures))
    assert again == measures
    assert isinstance(again, SweepMeasures)
    # a dict (as results pickled before hold) gives the same flags
    recordings = _cell(demo_cell)
    flags = _flags(recordings)
    for recording in recordings:
        recording.qc_measures = dict(sweep_measures(recording))
    assert _flags(recordings) == flags


def test_measures_pickled_by_the_tuple_backed_version_load(
    demo_cell, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sessions 5 and 6 pickled a ``_values`` slot: such a pickle still loads."""
    measures = sweep_measures(_cell(demo_cell)[0])
    values = tuple(measures[name] for name in QC_MEASURES)

    def as_before(self: Any, protocol: Any) -> tuple[Any, ...]:
        return (copyreg.__newobj__, (SweepMeasures,), (None, {"_values": values}))

    with monkeypatch.context() as patch:
        patch.setattr(SweepMeasures, "__reduce_ex__", as_before)
        old = pickle.dumps(measures)
    assert b"_values" in old
    loaded = pickle.loads(old)
    assert isinstance(loaded, SweepMeasures)
    assert loaded == measures


def test_dropping_the_traces_drops_the_own_step_not_the_measures(demo_cell) -> None:
    """The sweep's own step is found on its current; the QC measures keep its use."""
    recordings = _cell(demo_cell)
    apply_consensus("SimCell", recordings, SETTINGS)
    recording = recordings[0]
    recording.qc_measures = measures = sweep_measures(recording)
    assert recording.own_window is not None
    recording.drop_traces()
    assert recording.own_window is None
    assert recording.qc_measures == measures
