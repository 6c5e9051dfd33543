"""The step from the file's own protocol (issue 13): ABF epochs, HEKA pulse generator.

Expected values are each file's documented protocol (../shared/data/README.md), read
back through the Step eCode as an extraction would: sweep count, window (± 2 ms) and
amplitudes (± 5 pA or 3 %).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pytest

from efex_gui.core.readers import read_file
from efex_gui.core.recordings.ecodes.step import Step
from tests.conftest import shared_path

if TYPE_CHECKING:
    from pathlib import Path

#: name -> (sweeps, ton ms, toff ms, first amplitude pA, increment pA)
ABF_STEPS = {
    "17o05028_ic_steps.abf": (16, 147.0, 647.0, -50.0, 10.0),
    "190619B_0003.abf": (10, 1048.0, 2048.0, -120.0, 60.0),
    "File_axon_5.abf": (9, 216.0, 716.0, -100.0, 50.0),
    "20303010_rita.abf": (13, 88.0, 488.0, -200.0, 50.0),
    "2020_03_02_0000.abf": (16, 131.0, 631.0, -200.0, 50.0),
}


def _close(value_pa: float, expected_pa: float) -> bool:
    return abs(value_pa - expected_pa) <= max(5.0, 0.03 * abs(expected_pa))


def _steps(config: dict) -> list[Step]:
    return [Step(dict(config), trace, "step") for trace in read_file(config)]


@pytest.mark.parametrize("name", sorted(ABF_STEPS))
def test_abf_step_comes_from_the_epoch_table(name: str) -> None:
    n_sweeps, ton, toff, first, increment = ABF_STEPS[name]
    path = str(shared_path("formats", "abf", name))
    config = {"filepath": path, "abf_layout": "units"}
    steps = _steps(config)
    assert len(steps) == n_sweeps
    for k, step in enumerate(steps):
        assert step.reader_data["stimulus_source"] == "file"
        assert step.ton == pytest.approx(ton, abs=2.0)
        assert step.toff == pytest.approx(toff, abs=2.0)
        assert _close(step.amp * 1e3, first + k * increment), (k, step.amp)
        assert _close(step.hypamp * 1e3, 0.0)


def test_dual_step_reports_the_test_step_and_the_other_epochs() -> None:
    path = str(shared_path("formats", "abf", "17o05028_ic_steps.abf"))
    traces = read_file({"filepath": path, "abf_layout": "units"})
    note = traces[15]["stimulus_note"]
    # the first varying epoch is the test step; the -50 pA step and the second
    # step are reported, not merged into one window
    assert note.startswith("test step epoch B: step 146.8-646.9 ms, -50 to 100 pA")
    assert "-50 pA" in note.split("also")[1]
    assert "1646.9-2146.8 ms" in note


def test_another_epoch_can_be_chosen_as_the_test_step() -> None:
    from efex_gui.core.errors import MetadataError

    path = str(shared_path("formats", "abf", "17o05028_ic_steps.abf"))
    steps = _steps({"filepath": path, "abf_layout": "units", "abf_epoch": "E"})
    assert steps[15].ton == pytest.approx(1647.0, abs=2.0)
    assert steps[15].toff == pytest.approx(2147.0, abs=2.0)
    assert steps[15].amp * 1e3 == pytest.approx(100.0)
    with pytest.raises(MetadataError, match="epochs: A, B, C, D, E"):
        read_file({"filepath": path, "abf_layout": "units", "abf_epoch": "Z"})


def test_model_cell_amplitude_is_the_command_not_the_recorded_current() -> None:
    # I_Com is ~10 % above the command (trap T8): the protocol wins
    path = str(shared_path("formats", "abf", "2020_03_02_0000.abf"))
    steps = _steps({"filepath": path, "abf_layout": "units"})
    last = steps[-1]
    recorded = np.median(last.current[int(200 / last.dt) : int(600 / last.dt)])
    assert recorded * 1e3 > 560  # the measured current
    assert steps[-1].amp * 1e3 == pytest.approx(550.0)


HEKA = ("formats", "heka", "190604s1c7r1.dat")


def test_heka_bundle_structure() -> None:
    traces = read_file({"filepath": str(shared_path(*HEKA))})
    # 4 series of 1, 1, 1, 7 recorded sweeps (30 planned), 8 amplifier channels
    assert len(traces) == (1 + 1 + 1 + 7) * 8
    assert {t["v_channel"] for t in traces} == {f"Vmon-{k}" for k in range(1, 9)}
    assert {t["heka_series"] for t in traces} == {0, 1, 2, 3}
    assert not any(t["series_complete"] for t in traces)
    assert {t["clamp"] for t in traces} == {"current"}
    assert all(t["dt"] == pytest.approx(4e-5) for t in traces)
    lengths = {t["heka_series"]: t["voltage"].size for t in traces}
    assert lengths == {0: 15050, 1: 17600, 2: 17600, 3: 17600}
    # Vm in volts, a resting cell around -56 mV
    assert -0.07 < np.median(traces[0]["voltage"]) < -0.04


def test_heka_stimulus_is_rebuilt_from_the_pulse_generator() -> None:
    config = {"filepath": str(shared_path(*HEKA)), "v_channel": "Vmon-7"}
    steps = _steps(config)
    assert len(steps) == 10
    for step in steps:
        # the PGF: 200 ms at holding, 2 ms at 2 nA (then 100 ms, a second pulse)
        assert step.reader_data["stimulus_source"] == "file"
        assert step.ton == pytest.approx(200.0, abs=0.05)
        assert step.toff == pytest.approx(202.0, abs=0.05)
        # Vmon-7's holding current (TrHolding) is 0 pA
        assert step.hypamp == pytest.approx(0.0)
        assert step.amp == pytest.approx(2.0)
        # the cell fires during the pulse (the bridge artefact overshoots)
        window = step.voltage[int(200 / step.dt) : int(204 / step.dt)]
        assert window.max() > 0
    assert "also 302.0-304.0 ms at 2 nA" in steps[1].reader_data["stimulus_note"]


def test_heka_pulse_goes_to_the_channel_that_responds() -> None:
    # the PGF links its pulse (DA 5 / AD 5) to Vmon-1, which does not move during
    # it; Vmon-7 fires an action potential at 201.5 ms in every sweep
    traces = read_file({"filepath": str(shared_path(*HEKA))})
    pulsed = {t["v_channel"] for t in traces if t.get("ton") is not None}
    assert pulsed == {"Vmon-7"}
    first = next(t for t in traces if t["v_channel"] == "Vmon-1")
    assert "given to Vmon-7" in first["stimulus_note"]
    assert np.ptp(first["current"]) == 0


def test_heka_follower_channels_carry_no_stimulus_but_their_holding() -> None:
    config = {"filepath": str(shared_path(*HEKA)), "v_channel": "Vmon-6"}
    traces = read_file(config)
    assert traces[0]["holding_current_pa"] == pytest.approx(29.69, abs=0.01)
    assert np.ptp(traces[0]["current"]) == 0
    assert "no stimulus" in traces[0]["stimulus_note"]


def test_heka_protocol_name_selects_series() -> None:
    config = {
        "filepath": str(shared_path(*HEKA)),
        "protocol_name": "Sti 7S-Cc",
        "heka_group": 0,
        "v_channel": "Vmon-2",
    }
    assert len(read_file(config)) == 10


def test_heka_amplifier_channels_are_imported_as_cells(tmp_path: Path) -> None:
    from efex_gui.core.importing.file_names import (
        PRESET_PATTERNS,
        pair_files,
        parse_name,
    )
    from efex_gui.core.session.dataset import file_protocols, file_splits

    link = tmp_path / "190604s1c7r1.dat"
    link.symlink_to(shared_path(*HEKA))
    names = [parse_name(link.name, PRESET_PATTERNS[2].regex)]
    result = pair_files(
        [n for n in names if n is not None],
        protocols_of=lambda p: file_protocols(str(tmp_path / p)),
        splits_of=lambda p: file_splits(str(tmp_path / p)),
    )
    cells = [e.cell for e in result.entries]
    assert cells == [f"190604s1c7r1 Vmon-{k}" for k in range(1, 9)]
    config = result.entries[0].config({})
    assert config["v_channel"] == "Vmon-1"
    assert config["heka_group"] == 0
    traces = read_file(
        {**config, "filepath": str(link), "protocol_name": result.entries[0].protocol}
    )
    assert len(traces) == 10
    assert {t["v_channel"] for t in traces} == {"Vmon-1"}
