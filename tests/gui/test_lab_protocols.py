"""A folder of another lab's files, extracted in the main window.

Imported files start a session that takes protocols by their eCode (a lab's "FI
steps 500ms" gives a rheobase, a protocol mapped to Step is read as one); a protocol
no eCode reads is skipped with its reason, and the run goes on. Before: the GUI's run
ignored the eCode mapping, failed as a whole on the first protocol without an eCode
("See ecode/__init__.py"), and found no rheobase in a lab's names.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from efex_gui.app.extraction_controller import ExtractionController
from efex_gui.widgets.settings_panel import SettingsPanel
from tests.gui.extraction_helpers import run_and_wait
from tests.gui.helpers import main_window

if TYPE_CHECKING:
    from pathlib import Path

    from efex_gui.widgets.main_window import MainWindow

LAB_STEPS = "FI steps 500ms"
LAB_IV = "Trigem injection"


def _import_lab_folder(controller: Any, demo_dir: Path, mapped: bool) -> None:
    """What the import dialog hands over for the demo files under a lab's names."""
    demo = json.loads((demo_dir / "files_metadata.json").read_text())
    files_metadata = {
        cell: {LAB_STEPS: protocols["IDRest"], LAB_IV: protocols["IV"]}
        for cell, protocols in demo.items()
    }
    overrides = {LAB_IV: "Step"} if mapped else {}
    controller.new_session(files_metadata, demo_dir, overrides)


def _lab_window(
    qtbot: Any, controller: Any, preferences: Any, demo_dir: Path, mapped: bool
) -> MainWindow:
    """The main window on the lab's folder, every file read by the browser."""
    window = main_window(qtbot, controller, preferences)
    _import_lab_folder(controller, demo_dir, mapped)
    controller.load_all()  # the browser reads: its recordings are handed to the run
    qtbot.waitUntil(lambda: not controller.is_busy(), timeout=120_000)
    return window


def test_an_unmapped_protocol_is_skipped_and_the_run_goes_on(
    qtbot: Any, controller: Any, preferences: Any, demo_dir: Path
) -> None:
    window = _lab_window(qtbot, controller, preferences, demo_dir, mapped=False)
    result = run_and_wait(qtbot, window.extraction)
    assert [cell for cell, _, _ in result.skipped] == ["SimCell1", "SimCell2"]
    assert all("Choose eCode" in reason for _, _, reason in result.skipped)
    assert set(result.currents["all_threshold_current"]) == {"SimCell1", "SimCell2"}
    assert any(name.startswith(LAB_STEPS) for name in result.features)


def test_a_mapped_protocol_is_read_as_its_ecode(
    qtbot: Any, controller: Any, preferences: Any, demo_dir: Path
) -> None:
    window = _lab_window(qtbot, controller, preferences, demo_dir, mapped=True)
    result = run_and_wait(qtbot, window.extraction)
    assert result.skipped == []
    assert result.entries_cached == len(result.cells) * 2  # the browser's reads
    assert any(name.startswith(LAB_IV) for name in result.features)
    # the rheobase view uses the protocols the run uses
    rows = {row.cell: row for row in window.extraction.rheobase_rows()}
    assert rows["SimCell1"].used == result.currents["all_threshold_current"]["SimCell1"]


def test_the_cell_curves_read_a_labs_steps(
    qtbot: Any, controller: Any, preferences: Any, demo_dir: Path
) -> None:
    """The f-I and I-V curves of the lab's cells (BBP names only: empty before)."""
    window = _lab_window(qtbot, controller, preferences, demo_dir, mapped=True)
    with qtbot.waitSignal(window.cell_analysis.summaries_changed, timeout=300_000):
        run_and_wait(qtbot, window.extraction)
    curves = window.cell_analysis.curves()
    assert [len(c.points) > 3 for c in curves["fi"]] == [True, True]
    assert all(c.points for c in curves["iv_steady"])
    rates = [p.y for p in curves["fi"][0].points]
    assert max(rates) > 0
    summary = window.cell_analysis.summary("SimCell1")
    assert summary is not None
    assert summary.value("input_resistance_MOhm") is not None


def test_the_settings_show_and_change_the_ecode_rule(
    qtbot: Any, controller: Any, demo_dir: Path
) -> None:
    _import_lab_folder(controller, demo_dir, mapped=True)
    extraction = ExtractionController(controller)
    panel = SettingsPanel(extraction)
    qtbot.addWidget(panel)
    assert controller.session.settings.match_protocols_by_ecode  # an import
    assert panel.by_ecode.isChecked()
    assert panel.by_ecode_added.text() == f"Adds: {LAB_STEPS}, {LAB_IV}"
    panel.by_ecode.setChecked(False)
    assert not controller.session.settings.match_protocols_by_ecode
    assert controller.session.rheobase_protocols() is None
    assert panel.by_ecode_added.text() == ""
    assert extraction.shutdown()
