"""Extracting with target errors asks first, through the real main window.

With rows in error in the targets table, *Extract* asks "N targets have errors:
extract the M valid ones?" (Extract valid / Cancel). Cancel starts nothing; Extract
valid runs the valid rows only, and the result is up to date with the session (the
rows in error cannot give a value), stays so through the updates after an exclusion,
and goes out of date only when an input changes.
"""

from __future__ import annotations

import copy
import json
from typing import TYPE_CHECKING, Any

import pytest
from PySide6.QtCore import Qt

from efex_gui.core.session.exclusions import ExclusionKey
from tests.gui.extraction_helpers import open_demo
from tests.gui.helpers import Answer, main_window

if TYPE_CHECKING:
    from pathlib import Path

    from efex_gui.widgets.main_window import MainWindow

BAD_ROWS = [
    {"efeature": "no_such_feature", "protocol": "IDRest", "amplitude": 200,
     "tolerance": 20},
    {"efeature": "AP_amplitude", "protocol": "IDRest", "amplitude": "high",
     "tolerance": 20},
]  # fmt: skip


@pytest.fixture
def window(qtbot: Any, controller: Any, preferences: Any, demo_dir: Path) -> MainWindow:
    window = main_window(qtbot, controller, preferences)
    open_demo(controller, demo_dir)
    good = json.loads((demo_dir / "targets.json").read_text())
    # the bad rows in the middle: the valid ones keep their order around them
    targets = good[:1] + copy.deepcopy(BAD_ROWS) + good[1:]
    window.extraction.set_targets(targets)
    return window


def test_cancel_starts_nothing(window: MainWindow, qtbot: Any) -> None:
    extraction, bar = window.extraction, window.extraction_ui["bar"]
    n_valid = len(extraction.targets) - 2
    answer = Answer("Cancel")
    with qtbot.assertNotEmitted(extraction.run_started, wait=200):
        qtbot.mouseClick(bar.extract_button, Qt.MouseButton.LeftButton)
    assert answer.texts == [f"2 targets have errors: extract the {n_valid} valid ones?"]
    assert not extraction.is_running()
    assert extraction.result is None


def test_extract_valid_runs_the_valid_rows_and_is_up_to_date(
    window: MainWindow, qtbot: Any, tmp_path: Path
) -> None:
    extraction, bar = window.extraction, window.extraction_ui["bar"]
    valid = [t for t in extraction.targets if t not in BAD_ROWS]
    answer = Answer("Extract valid")
    with qtbot.waitSignal(extraction.results_changed, timeout=300_000) as blocker:
        qtbot.mouseClick(bar.extract_button, Qt.MouseButton.LeftButton)
    result = blocker.args[0]
    assert answer.texts[0].startswith("2 targets have errors")
    assert [t["efeature"] for t in result.targets] == [t["efeature"] for t in valid]
    extracted = {f["feature"] for p in result.features.values() for f in p["soma"]}
    assert "no_such_feature" not in extracted
    assert extracted  # the valid rows gave values
    # up to date although the run left the two rows out
    assert not extraction.is_stale()
    assert "2 target(s) with errors left out" in bar.state.text()

    # an exclusion: the update after it also leaves them out, and is up to date
    entry = extraction.session.files_metadata["SimCell1"]["IDRest"][0]
    key = ExclusionKey("SimCell1", "IDRest", entry["filepath"], 2)
    with qtbot.waitSignal(extraction.update_timed, timeout=120_000):
        window.controller.set_excluded([key], True)
    assert extraction.result is not result
    assert not extraction.is_stale()

    # the export's recipe names the targets the run used
    extraction.export(tmp_path / "out")
    provenance = json.loads((tmp_path / "out" / "efex_provenance.json").read_text())
    recipe_targets = provenance["recipe"]["targets"]
    assert [t["efeature"] for t in recipe_targets] == [t["efeature"] for t in valid]

    # fixing a row in error is an input change: out of date
    fixed = copy.deepcopy(extraction.targets)
    fixed[1]["efeature"] = "Spikecount"
    extraction.set_targets(fixed)
    assert extraction.is_stale()


def test_all_rows_in_error_say_so_and_start_nothing(
    window: MainWindow, qtbot: Any
) -> None:
    extraction, bar = window.extraction, window.extraction_ui["bar"]
    extraction.set_targets(copy.deepcopy(BAD_ROWS))
    answer = Answer("OK")
    with qtbot.assertNotEmitted(extraction.run_started, wait=200):
        qtbot.mouseClick(bar.extract_button, Qt.MouseButton.LeftButton)
    assert answer.texts == ["2 targets have errors: there is nothing valid to extract."]
