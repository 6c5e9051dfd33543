"""A saved session reopens with its results and computes nothing (issue 14).

Counted, not timed: the reopened window shows the saved result without one efel
call on the GUI thread, and no extraction runs, neither at once nor once the browser
has read the files in the background.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import efel

from efex_gui.app.controller import SessionController
from efex_gui.core.extraction import result_store
from efex_gui.core.extraction.incremental import IncrementalExtractor
from efex_gui.core.session.exclusions import ExclusionKey
from tests.gui.extraction_helpers import run_and_wait
from tests.gui.helpers import main_window

if TYPE_CHECKING:
    from pathlib import Path

    import pytest

    from efex_gui.widgets.main_window import MainWindow


def _window(qtbot: Any, preferences: Any) -> MainWindow:
    window = main_window(qtbot, SessionController(), preferences)
    return window


def _close(qtbot: Any, window: MainWindow) -> None:
    """Stop a window's workers once its queued side jobs (cell summary) are done.

    A worker thread still running when Qt deletes the window aborts the process.
    """
    worker = window.extraction.worker
    with qtbot.waitSignal(
        worker.job_finished,
        check_params_cb=lambda name, _result: name == "settled",
        timeout=300_000,
    ):
        worker.run_job("settled", lambda: None)  # jobs run in order
    window.controller.shutdown()
    assert window.extraction.shutdown()


def _count(
    monkeypatch: pytest.MonkeyPatch, owner: Any, name: str, gui_only: bool = False
) -> list[int]:
    """Count the calls of ``owner.name`` from now on (the list holds the count).

    ``gui_only``: only the calls made on the GUI thread.
    """
    count = [0]
    original = getattr(owner, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        if threading.current_thread() is threading.main_thread() or not gui_only:
            count[0] += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, counted)
    return count


def test_reopened_session_calls_no_efel_and_runs_no_extraction(
    qtbot: Any,
    preferences: Any,
    demo_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = _window(qtbot, preferences)
    first.open_path(demo_dir / "config.json")
    first.controller.set_excluded([ExclusionKey("SimCell2", "IV")], True, "drift")
    result = run_and_wait(qtbot, first.extraction)
    session_file = tmp_path / "curated.json"
    assert first._save_to(session_file)
    _close(qtbot, first)

    # efel on the GUI thread (the cell summary, a side job of the worker thread, is
    # computed again: its values are not saved with the results)
    efel_calls = _count(monkeypatch, efel, "get_feature_values", gui_only=True)
    runs = _count(monkeypatch, IncrementalExtractor, "run")
    # the files' stamps (one stat each) are compared on the worker thread
    gui_stamps = _count(monkeypatch, result_store, "file_stamps", gui_only=True)
    stamps = _count(monkeypatch, result_store, "file_stamps")
    second = _window(qtbot, preferences)
    extraction = second.extraction
    at_results: list[tuple[int, int]] = []
    extraction.results_changed.connect(
        lambda shown: at_results.append((efel_calls[0], runs[0])) if shown else None
    )
    try:
        assert second.open_path(session_file)
        assert at_results == [(0, 0)], "results shown before any efel call or run"
        assert extraction.result is not None
        assert extraction.result.features == result.features
        qtbot.waitUntil(lambda: not second.controller.is_busy(), timeout=120_000)
        qtbot.wait(50)  # the target check's timer and any rerun it could start
        assert runs[0] == 0, "the saved result was not recomputed"
        assert not extraction.is_running()
        assert not extraction.is_stale()
        assert len(at_results) == 1
        qtbot.waitUntil(lambda: stamps[0] == 1, timeout=60_000)
        assert gui_stamps[0] == 0, "no stat of the data files on the GUI thread"
    finally:
        _close(qtbot, second)


def test_background_reads_recheck_the_targets_only_when_it_changes_the_check(
    qtbot: Any, preferences: Any, demo_dir: Path
) -> None:
    """A batch of background reads re-runs the target check only if it can change.

    The check looks at an up-to-date result's cells: the batches of the browser's
    reads (every 0.4 s; a second-long check each on 44 cells) leave it alone.
    """
    window = _window(qtbot, preferences)
    sc, extraction = window.controller, window.extraction
    try:
        window.open_path(demo_dir / "config.json")
        qtbot.waitUntil(lambda: not sc.is_busy(), timeout=120_000)
        qtbot.waitUntil(lambda: not extraction._check_timer.isActive(), timeout=5_000)
        keys = sc.dataset.entry_keys()[:1]
        sc.entries_loaded.emit(keys)  # no result, every file read: the cells changed
        assert extraction._check_timer.isActive()
        run_and_wait(qtbot, extraction)
        assert extraction.result is not None
        assert not extraction.is_stale()
        qtbot.waitUntil(lambda: not extraction._check_timer.isActive(), timeout=5_000)
        sc.entries_loaded.emit(keys)  # the check is on the result's cells
        assert not extraction._check_timer.isActive()
    finally:
        _close(qtbot, window)
