"""The whole story in the main window: targets, run, cancel, exclude, export."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt

from efex_gui.resources import resource_path
from efex_gui.widgets.target_table_model import COLUMN
from tests.gui.extraction_helpers import assert_same_files, headless_export, open_demo
from tests.gui.helpers import main_window

if TYPE_CHECKING:
    from pathlib import Path

    from efex_gui.app.extraction_worker import ExtractionProgress


def _cancel_when_features_start(bar: Any) -> Any:
    def on_progress(progress: ExtractionProgress) -> None:
        if progress.message.startswith("Features") and bar.cancel_button.isEnabled():
            bar.cancel_button.click()

    return on_progress


def test_targets_run_cancel_run_exclude_export(
    qtbot: Any, controller: Any, preferences: Any, demo_dir: Path, tmp_path: Path
) -> None:
    window = main_window(qtbot, controller, preferences)
    extraction, ui = window.extraction, window.extraction_ui
    bar, editor, plot, results = (
        ui["bar"],
        ui["targets"],
        ui["feature_plot"],
        ui["results"],
    )
    open_demo(controller, demo_dir)

    # targets: an example list, then one amplitude edited in the table
    editor.import_file(resource_path("examples", "targets_firing_pattern.json"))
    row = next(i for i, t in enumerate(extraction.targets) if t["amplitude"] == 250)
    assert editor.model.setData(editor.model.index(row, COLUMN["amplitude"]), "240")
    assert extraction.targets[row]["amplitude"] == 240

    # run, cancelled as soon as the features are being computed: nothing shown
    cancel = _cancel_when_features_start(bar)
    extraction.run_progressed.connect(cancel)
    with qtbot.waitSignal(extraction.run_cancelled, timeout=120_000):
        qtbot.mouseClick(bar.extract_button, Qt.MouseButton.LeftButton)
    extraction.run_progressed.disconnect(cancel)
    assert extraction.result is None
    assert "Cancelled" in bar.state.text()
    assert bar.extract_button.isEnabled()
    assert not bar.cancel_button.isEnabled()

    # run to the end
    with qtbot.waitSignal(extraction.results_changed, timeout=300_000):
        qtbot.mouseClick(bar.extract_button, Qt.MouseButton.LeftButton)
    first = extraction.result
    assert first.features
    assert results.model.rows
    assert "Up to date" in bar.state.text()

    # exclude a sweep from the feature plot: the results follow without efel
    plot.choose("IDRest", "mean_frequency")
    point = plot.points[2]
    plot.select_point(point)
    with qtbot.waitSignal(extraction.update_timed, timeout=60_000):
        qtbot.mouseClick(plot.exclude_button, Qt.MouseButton.LeftButton)
    second = extraction.result
    assert second is not first
    assert second.stats.efel_calls == 0
    assert point.sweep not in [p.sweep for p in plot.points]
    assert "after the edit" in bar.state.text()

    # export through the bar, identical to the headless extraction of the session
    bar.export_to(tmp_path / "gui")
    headless_export(controller.session, tmp_path / "headless")
    assert_same_files(tmp_path / "gui", tmp_path / "headless")
    assert (tmp_path / "gui" / "efex_provenance.json").exists()
    assert "Exported 4 files" in bar.state.text()

    # a cancelled rerun leaves the shown results as they were
    extraction.set_settings(
        extraction.with_settings(
            efel_settings={
                "Threshold": -15.0,
                "interp_step": 0.025,
                "strict_stiminterval": True,
            }
        )
    )
    assert extraction.is_stale()
    cancel = _cancel_when_features_start(bar)
    extraction.run_progressed.connect(cancel)
    with qtbot.waitSignal(extraction.run_cancelled, timeout=120_000):
        bar.extract_button.click()
    assert extraction.result is second
    assert extraction.is_stale()
    assert results.model.rows
    assert results.model.stale
    assert extraction.shutdown()
