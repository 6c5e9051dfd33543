"""A Ramp entry read with its own window keeps it in its metadata (the extraction's).

When a Ramp protocol's sweeps share no window, each entry whose own sweeps agree
is read with its own ramp ("detected"): the browser shows them interpreted, and the
extraction must read the entry with that same window, not fail for want of ``ton``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from efex_gui.app.extraction_controller import ExtractionController
from efex_gui.core.recordings.timing_consensus import SOURCE_KEY
from efex_gui.core.session.dataset import SweepKey
from efex_gui.core.synthetic.demo import simulate_cell
from efex_gui.core.synthetic.nwb_writer import write_nwb
from tests.core.test_ramp_window import DT, ramp_current
from tests.gui.extraction_helpers import run_and_wait
from tests.gui.helpers import load_everything

if TYPE_CHECKING:
    from pathlib import Path

    import pytest

    from efex_gui.app.controller import SessionController

STARTS = (200.0, 500.0, 900.0)  # three entries whose ramps start apart


def _ramp_files(folder: Path) -> Path:
    """One NWB file per entry, each with one APThreshold ramp; the config JSON."""
    entries = []
    for k, start in enumerate(STARTS):
        cell = simulate_cell(seed=3)
        sweep = next(s for s in cell["sweeps"] if s["protocol_name"] == "IDRest")
        n = len(sweep["current"])
        sweep["protocol_name"] = "APThreshold"
        sweep["current"] = ramp_current(start, 2100.0, 0.8, -0.05, n * DT, 0.002, k)
        sweep["dt"] = DT
        cell["sweeps"] = [sweep]
        path = write_nwb(cell, folder / f"ramp{k}.nwb")
        entries.append(
            {"filepath": str(path), "i_unit": "A", "v_unit": "V", "t_unit": "s"}
        )
    config = {
        "files_metadata": {"RampCell": {"APThreshold": entries}},
        "targets": [
            {
                "efeature": "Spikecount",
                "protocol": "APThreshold",
                "amplitude": 0.75,
                "tolerance": 0.1,
            }
        ],
        "absolute_amplitude": True,
        "protocols_rheobase": ["APThreshold"],
    }
    out = folder / "config.json"
    out.write_text(json.dumps(config))
    return out


def test_each_ramp_entry_keeps_the_window_it_was_read_with(
    qtbot: Any, controller: SessionController, tmp_path: Path
) -> None:
    controller.open_json(_ramp_files(tmp_path))
    load_everything(qtbot, controller)
    keys = controller.dataset.entry_keys()
    assert len(keys) == len(STARTS)
    for key, start in zip(keys, STARTS, strict=True):
        config = controller.dataset.config(key)
        assert config[SOURCE_KEY] == "detected"
        assert abs(config["ton"] - start) <= 2 * DT
        assert abs(config["toff"] - 2100.0) <= DT
        sweep = SweepKey(key.cell, key.protocol, key.entry, 0)
        assert controller.summary(sweep).amp
    extraction = ExtractionController(controller)
    try:
        result = run_and_wait(qtbot, extraction)
    finally:
        assert extraction.shutdown()
    assert result.entries_read == 0
    assert result.entries_cached == len(STARTS)
    assert len(result.cells[0].recordings) == len(STARTS)


def test_a_ramp_entry_drawn_before_its_turn_is_read_with_its_window(
    qtbot: Any, controller: SessionController, tmp_path: Path
) -> None:
    """Drawn before the background read, it failed for want of ``ton`` for good."""
    controller.open_json(_ramp_files(tmp_path))
    key = controller.dataset.entry_keys()[1]
    sweep = SweepKey(key.cell, key.protocol, key.entry, 0)
    recordings = controller.recordings_for(sweep)
    assert len(recordings) == 1
    assert recordings[0].voltage is not None
    assert controller.dataset.state(key).error is None
    config = controller.dataset.config(key)
    assert abs(config["ton"] - STARTS[1]) <= 2 * DT
    assert controller.summary(sweep).status == "ok"


def _igor_config(folder: Path, protocols: dict[str, list[dict[str, Any]]]) -> Path:
    """A config JSON of one cell with these protocols' entries."""
    path = folder / "config.json"
    path.write_text(json.dumps({"files_metadata": {"Cell": protocols}}))
    return path


def test_a_ramp_entry_drawn_before_its_turn_reads_its_file_once(
    qtbot: Any,
    controller: SessionController,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Read raw for its ramp, then with the window found: each wave was read twice."""
    import threading

    from tests.core.test_shared_reads import count_wave_reads, ramp_entries

    entries = [config for _key, config in ramp_entries(tmp_path)]
    config_path = _igor_config(tmp_path, {"APThreshold": entries})
    # the drawing thread's reads, not the background read's
    reads = count_wave_reads(monkeypatch, thread=threading.get_ident())
    controller.open_json(config_path)
    key = controller.dataset.entry_keys()[1]
    recordings = controller.recordings_for(SweepKey(key.cell, key.protocol, 1, 0))
    assert recordings[0].voltage is not None
    assert controller.dataset.config(key)["ton"] is not None
    files = {entries[1]["i_file"], entries[1]["v_file"]}
    assert reads == dict.fromkeys(files, 1)


def test_browsing_reads_a_file_listed_under_two_protocols_once(
    qtbot: Any,
    controller: SessionController,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """SSCx's Step sweeps are IDrest's files: browsing read each file twice."""
    from tests.core.test_shared_reads import count_wave_reads, ramp_entries

    entries = [config for _key, config in ramp_entries(tmp_path)]
    window = {"ton": 100.0, "toff": 2100.0}
    protocols = {
        "IDrest": [{**e, **window} for e in entries],
        "IV": [{**entries[0], **window}],
        "Step": [{**e, **window, "ljp": 14.0} for e in entries],
    }
    config_path = _igor_config(tmp_path, protocols)
    reads = count_wave_reads(monkeypatch)
    controller.open_json(config_path)
    load_everything(qtbot, controller)
    assert len(controller.dataset.entry_keys()) == 7
    for key in controller.dataset.entry_keys():
        assert controller.dataset.state(key).error is None
    files = {e[k] for e in entries for k in ("i_file", "v_file")}
    assert reads == dict.fromkeys(files, 1)
    step = controller.summary(SweepKey("Cell", "Step", 0, 0))
    idrest = controller.summary(SweepKey("Cell", "IDrest", 0, 0))
    assert step.amp == idrest.amp
