"""A session is a document: reopened, it shows its last results at once."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from efex_gui.app.controller import SessionController
from efex_gui.core.session.exclusions import ExclusionKey
from tests.gui.extraction_helpers import run_and_wait
from tests.gui.helpers import main_window

if TYPE_CHECKING:
    from pathlib import Path

    from efex_gui.widgets.main_window import MainWindow


def _window(qtbot: Any, preferences: Any) -> MainWindow:
    window = main_window(qtbot, SessionController(), preferences)
    return window


def test_reopened_session_shows_its_results_at_once_and_reads_in_background(
    qtbot: Any, preferences: Any, demo_dir: Path, tmp_path: Path
) -> None:
    first = _window(qtbot, preferences)
    first.open_path(demo_dir / "config.json")
    first.controller.set_excluded([ExclusionKey("SimCell2", "IV")], True, "drift")
    result = run_and_wait(qtbot, first.extraction)
    assert first.has_unsaved_work()
    session_file = tmp_path / "curated.json"
    assert first._save_to(session_file)
    assert not first.has_unsaved_work(), "the results were saved with the session"
    assert not first.isWindowModified(), "no '*' in the title once saved"
    assert (tmp_path / "curated.efex-results").exists()
    first.controller.shutdown()

    second = _window(qtbot, preferences)
    extraction = second.extraction
    try:
        with qtbot.waitSignal(extraction.results_changed, check_params_cb=bool):
            assert second.open_path(session_file)
        assert second.controller.is_busy(), "the files are read without Ctrl+L"
        assert not extraction.is_running(), "no silent re-extraction"
        shown = extraction.result
        assert shown is not None
        assert not extraction.is_stale()
        assert shown.features == result.features
        assert shown.currents == result.currents
        assert second.extraction_ui["results"].model.rows
        assert "saved with the session" in second.extraction_ui["bar"].state.text()
        assert not second.has_unsaved_work()
        plot = second.extraction_ui["feature_plot"]
        plot.choose("IDRest", "mean_frequency")
        assert plot.points, "the feature plot draws the saved result"
        assert all(p.sweep is not None for p in plot.points), (
            "each point still knows its sweep (click to exclude)"
        )
    finally:
        second.controller.shutdown()


def test_results_of_changed_files_are_marked_stale(
    qtbot: Any, preferences: Any, demo_dir: Path, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    for path in demo_dir.iterdir():
        (data / path.name).write_bytes(path.read_bytes())
    first = _window(qtbot, preferences)
    first.open_path(data / "config.json")
    run_and_wait(qtbot, first.extraction)
    assert first._save_to(tmp_path / "s.json")
    first.controller.shutdown()
    nwb = data / "SimCell1.nwb"
    os.utime(nwb, ns=(nwb.stat().st_atime_ns, nwb.stat().st_mtime_ns + 10**9))

    second = _window(qtbot, preferences)
    try:
        assert second.open_path(tmp_path / "s.json")
        assert second.extraction.result is not None
        # the files are compared with their stamps on the worker thread
        qtbot.waitUntil(second.extraction.is_stale, timeout=60_000)
        assert second.extraction.changed_files == [str(nwb)]
        assert "1 file(s) changed" in second.extraction_ui["bar"].state.text()
    finally:
        second.controller.shutdown()


def test_gui_export_sidecar_reproduces_the_export_on_the_cli(
    qtbot: Any, preferences: Any, demo_dir: Path, tmp_path: Path
) -> None:
    import shutil

    from efex_gui.cli import main

    window = _window(qtbot, preferences)
    try:
        window.open_path(demo_dir / "config.json")
        window.controller.set_excluded(
            [ExclusionKey("SimCell1", "IDRest", "SimCell1.nwb", 2)], True, "clipped"
        )
        window.extraction.set_rheobase_override("SimCell2", 0.06)
        run_and_wait(qtbot, window.extraction)
        window.extraction.export(tmp_path / "gui")
    finally:
        window.controller.shutdown()
    copy = tmp_path / "copy"
    copy.mkdir()
    shutil.copy(tmp_path / "gui" / "efex_provenance.json", copy)
    sidecar = copy / "efex_provenance.json"
    assert main(["extract", str(sidecar), "-o", str(tmp_path / "cli"), "-q"]) == 0
    for name in ("features.json", "protocols.json", "holding_threshold_currents.json"):
        gui = (tmp_path / "gui" / name).read_bytes()
        assert gui == (tmp_path / "cli" / name).read_bytes(), name


def test_session_restored_after_a_crash_behaves_like_a_reopened_one(
    qtbot: Any, preferences: Any, demo_dir: Path, tmp_path: Path, monkeypatch: Any
) -> None:
    from PySide6.QtWidgets import QMessageBox

    from efex_gui.app.autosave import Autosaver
    from efex_gui.app.main import _offer_restore

    monkeypatch.setattr(
        QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes
    )
    first = _window(qtbot, preferences)
    first.open_path(demo_dir / "config.json")
    first.controller.set_excluded([ExclusionKey("SimCell2", "IV")], True, "drift")
    crashed = Autosaver(first.controller, tmp_path / "recovery", period_s=0)
    crashed.keep_results(first.extraction)
    result = run_and_wait(qtbot, first.extraction)
    assert crashed.save_now()
    assert crashed.results_file.exists(), "the result is autosaved with the session"
    crashed.stop()  # the first instance dies
    crashed._lock.unlock()
    first.controller.shutdown()

    second = _window(qtbot, preferences)
    extraction = second.extraction
    mine = Autosaver(second.controller, tmp_path / "recovery", period_s=0)
    mine.keep_results(extraction)
    try:
        with qtbot.assertNotEmitted(extraction.run_started):
            _offer_restore(second, second.controller, mine)
            assert second.controller.is_busy(), "the files are read without Ctrl+L"
            shown = extraction.result
            assert shown is not None, "the last result is shown at once"
            assert shown.features == result.features
            assert shown.currents == result.currents
            assert not extraction.is_stale()
            assert second.extraction_ui["results"].model.rows
            bar_text = second.extraction_ui["bar"].state.text()
            assert "restored from the autosave (not saved yet)" in bar_text
            assert second.has_unsaved_work()
            qtbot.waitUntil(lambda: not second.controller.is_busy(), timeout=120_000)
        assert not extraction.is_stale(), "reading the files leaves it up to date"
        assert mine.results_file.exists(), "the adopted result is autosaved anew"
        assert not crashed.folder.exists()
        saved = tmp_path / "restored.json"
        assert second._save_to(saved)
        assert not second.has_unsaved_work(), "saving keeps the restored result"
        assert not second.isWindowModified()
        assert (tmp_path / "restored.efex-results").exists()
    finally:
        second.controller.shutdown()
