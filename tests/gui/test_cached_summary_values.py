"""The cell summary's sweep values come from the persistent cache if it has them (#14).

Reopening a session (or a second window on the same data) summarises its cells again
with an empty in-memory cache; each sweep's values (one efel call each: about 3 700
on 44 cells) are taken from the persistent feature cache the first summary filled.
Counted, not timed: only the efel calls the summary makes on its thread.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import efel
import pytest

from efex_gui.app import cell_analysis
from efex_gui.app.cell_analysis import CellAnalysisController
from efex_gui.app.controller import SessionController
from efex_gui.app.extraction_controller import ExtractionController
from tests.gui.extraction_helpers import open_demo, run_and_wait

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture
def summary_efel_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """``[efel calls made inside summarize_cells]`` (on the summary's thread only)."""
    calls = [0]
    inside = threading.local()
    original_efel = efel.get_feature_values
    original_summary = cell_analysis.summarize_cells

    def counted(*args: Any, **kwargs: Any) -> Any:
        if getattr(inside, "summary", False):
            calls[0] += 1
        return original_efel(*args, **kwargs)

    def summarize(*args: Any, **kwargs: Any) -> Any:
        inside.summary = True
        try:
            return original_summary(*args, **kwargs)
        finally:
            inside.summary = False

    monkeypatch.setattr(efel, "get_feature_values", counted)
    monkeypatch.setattr(cell_analysis, "summarize_cells", summarize)
    return calls


def _summarise(qtbot: Any, demo_dir: Path) -> list[dict[str, Any]]:
    """Open the demo in a new window's controllers, extract; the cell summaries."""
    controller = SessionController()
    extraction = ExtractionController(controller)
    analysis = CellAnalysisController(extraction)
    try:
        open_demo(controller, demo_dir)
        with qtbot.waitSignal(analysis.summaries_changed, timeout=300_000) as blocker:
            run_and_wait(qtbot, extraction)
        assert blocker.args[0], "the demo's cells are summarised"
        return [summary.to_json() for summary in blocker.args[0]]
    finally:
        assert extraction.shutdown()
        assert controller.shutdown()


def test_a_second_summary_takes_its_values_from_the_persistent_cache(
    qtbot: Any, demo_dir: Path, summary_efel_calls: list[int]
) -> None:
    first = _summarise(qtbot, demo_dir)
    assert summary_efel_calls[0] > 0, "the first summary computes the sweeps"
    summary_efel_calls[0] = 0
    second = _summarise(qtbot, demo_dir)
    assert summary_efel_calls[0] == 0, "every value came from the persistent cache"
    assert second == first


def test_without_the_cache_the_summary_computes_every_sweep(
    qtbot: Any,
    demo_dir: Path,
    summary_efel_calls: list[int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """EFEX_NO_CACHE (--no-cache) bypasses the stored values, which stay usable."""
    first = _summarise(qtbot, demo_dir)
    computed = summary_efel_calls[0]
    summary_efel_calls[0] = 0
    monkeypatch.setenv("EFEX_NO_CACHE", "1")
    assert _summarise(qtbot, demo_dir) == first
    assert summary_efel_calls[0] == computed, "no cache: each sweep computed again"
    summary_efel_calls[0] = 0
    monkeypatch.delenv("EFEX_NO_CACHE")
    assert _summarise(qtbot, demo_dir) == first
    assert summary_efel_calls[0] == 0, "the cache again: nothing computed"
