"""Unknown protocol names get an eCode; what cannot be interpreted keeps its traces."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

from efex_gui.core.recordings.ecodes.names import classify_stimulus, guess_ecode
from efex_gui.core.session.dataset import Dataset, EntryKey, load_entry
from tests.conftest import shared_path

if TYPE_CHECKING:
    from pathlib import Path


@pytest.mark.parametrize(
    ("name", "ecode", "how"),
    [
        ("IDRest", "Step", "table"),
        ("0112 steps dual -50 to 150 step 10", "Step", "table"),
        ("Long Square", "Step", "name"),
        ("FI curve", "Step", "name"),
        ("rheobase search", "Step", "name"),
        ("3 -excitability_400ms50pA", "Step", "name"),
        ("Trigem_Current_Clamp_Current injection_Neg", "Step", "name"),
        ("sag 100pA", "Step", "name"),
        ("chirp 0.5-20 Hz", "SineSpec", "name"),
        ("white noise", "PinkNoise", "name"),
        ("triangle", "Ramp", "name"),
        ("0201 memtest", None, "name"),
    ],
)
def test_other_labs_protocol_names(name: str, ecode: str | None, how: str) -> None:
    guess = guess_ecode(name)
    assert (guess.ecode, guess.how) == (ecode, how)


def test_unknown_name_is_classified_from_the_stimulus() -> None:
    rng = np.random.default_rng(0)
    step = np.zeros(2000)
    step[500:1500] = 0.2
    ramp = np.concatenate([np.zeros(500), np.linspace(0, 0.5, 1000), np.zeros(500)])
    assert classify_stimulus(step + rng.normal(0, 0.002, step.size)) == "Step"
    assert classify_stimulus(ramp + rng.normal(0, 0.002, ramp.size)) == "Ramp"
    assert classify_stimulus(rng.normal(0, 0.1, 2000)) is None
    assert classify_stimulus(np.zeros(2000)) is None
    guess = guess_ecode("Prot_17", step)
    assert (guess.ecode, guess.how) == ("Step", "stimulus")
    assert "looks like a step" in guess.reason


def _text_file(tmp_path: Path, cell: dict[str, Any]) -> Path:
    sweep = cell["sweeps"][4]
    t = np.arange(len(sweep["voltage"])) * sweep["dt"]
    path = tmp_path / "cell1.txt"
    np.savetxt(path, np.column_stack([t, sweep["voltage"]]))
    return path


def test_an_unknown_protocol_with_a_step_is_read_as_a_step(
    tmp_path: Path, demo_cell: dict[str, Any]
) -> None:
    path = _text_file(tmp_path, demo_cell)
    entry = {
        "filepath": path.name,
        "t_unit": "ms",
        "v_unit": "mV",
        "i_unit": "nA",
        "ton": 700.0,
        "toff": 2700.0,
        "amp": 0.2,
    }
    loaded = load_entry(
        Dataset({"c": {"Prot_17": [entry]}}, tmp_path), EntryKey("c", "Prot_17", 0)
    )
    assert loaded.error is None
    (recording,) = loaded.recordings
    assert type(recording).__name__ == "Step"
    assert any("eCode Step guessed" in w for w in recording.warnings)


def test_missing_stimulus_keeps_the_raw_voltage_and_offers_the_fix(
    tmp_path: Path, demo_cell: dict[str, Any]
) -> None:
    path = _text_file(tmp_path, demo_cell)
    entry = {"filepath": path.name, "t_unit": "ms", "v_unit": "mV"}
    loaded = load_entry(
        Dataset({"c": {"IDRest": [entry]}}, tmp_path), EntryKey("c", "IDRest", 0)
    )
    # every missing key named at once (not one per Apply)
    assert "needs i_unit, ton, toff, amp" in loaded.error
    assert loaded.fix == "text"
    raw = loaded.raw[0]
    assert raw.current is None
    assert raw.v_label == "mV"
    assert raw.t_label == "ms"
    assert raw.voltage.size == raw.t.size > 1000


def test_a_refused_voltage_clamp_file_is_still_drawn() -> None:
    path = shared_path("formats", "wcp", "myokit-wcp-file.wcp")
    dataset = Dataset({"c": {"IV": [{"filepath": path.name}]}}, path.parent)
    loaded = load_entry(dataset, EntryKey("c", "IV", 0))
    assert loaded.error.endswith(
        "voltage clamp: 11 records of membrane current; not a current-clamp recording"
    )
    assert loaded.fix == "not_recording"
    assert len(loaded.raw) == 11
    raw = loaded.raw[0]
    # the clamp command (mV) on top, the membrane current (pA -> nA) below
    assert raw.v_label == "mV"
    assert raw.i_label == "nA"
    assert np.median(raw.voltage) == pytest.approx(-80.0, abs=1.0)
