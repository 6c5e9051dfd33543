"""RheobaseView: per-cell points, each strategy's value, override."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from PySide6.QtCore import Qt

from efex_gui.app.extraction_controller import ExtractionController
from efex_gui.core.recordings.cell import Cell
from efex_gui.core.rheobase.review import review_rheobase, rheobase_by_strategy
from efex_gui.core.rheobase.strategies import STRATEGIES, compute_rheobase
from efex_gui.widgets.rheobase_view import RheobaseView
from tests.gui.extraction_helpers import open_demo, run_and_wait
from tests.gui.helpers import load_everything

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


@pytest.fixture
def extraction(controller: Any, demo_dir: Path, qtbot: Any) -> Iterator[Any]:
    open_demo(controller, demo_dir)
    extraction = ExtractionController(controller)
    yield extraction
    assert extraction.shutdown()


@pytest.fixture
def view(extraction: ExtractionController, qtbot: Any) -> RheobaseView:
    widget = RheobaseView(extraction)
    qtbot.addWidget(widget)
    return widget


def _fresh_cell(cell: Any) -> Cell:
    probe = Cell(cell.name)
    probe.recordings = list(cell.recordings)
    return probe


def test_rows_show_each_strategy_from_the_core(
    qtbot: Any, extraction: ExtractionController, view: RheobaseView
) -> None:
    result = run_and_wait(qtbot, extraction)
    protocols = result.settings["protocols_rheobase"]
    assert [row.cell for row in view.rows] == [c.name for c in result.cells]
    for row, cell in zip(view.rows, result.cells, strict=True):
        assert row.used == cell.rheobase == row.computed
        for name in STRATEGIES:
            probe = _fresh_cell(cell)
            compute_rheobase([probe], protocols, name)
            assert row.by_strategy[name] == probe.rheobase, name
    r = 1
    texts = [view.table.item(r, c).text() for c in range(view.table.columnCount())]
    assert texts[0] == view.rows[r].cell
    assert texts[1] == f"{view.rows[r].used:.4f}"


def test_plot_points_and_lines(
    qtbot: Any, extraction: ExtractionController, view: RheobaseView
) -> None:
    result = run_and_wait(qtbot, extraction)
    view.select_cell(result.cells[1].name)
    row = view.rows[1]
    protocols = result.settings["protocols_rheobase"]
    sweeps = [r for r in result.cells[1].recordings if r.protocol_name in protocols]
    x, y = view.points_item.getData()
    assert sorted(x) == pytest.approx(sorted(r.amp for r in sweeps))
    assert sorted(y) == sorted(r.spikecount or 0 for r in sweeps)
    assert view.lines["used"].value() == pytest.approx(row.used)
    assert set(view.lines) - {"used"} == {
        name
        for name, value in row.by_strategy.items()
        if value is not None and value != row.used
    }
    silent = sum(r.spikecount is None for r in sweeps)
    assert f"{silent} without spikes" in view.info.text()


def test_override_through_the_view(
    qtbot: Any, extraction: ExtractionController, view: RheobaseView
) -> None:
    result = run_and_wait(qtbot, extraction)
    name = result.cells[0].name
    view.select_cell(name)
    view.override_box.setValue(0.15)
    with qtbot.waitSignal(extraction.results_changed, timeout=60_000):
        qtbot.mouseClick(view.set_button, Qt.MouseButton.LeftButton)
    assert extraction.overrides == {name: 0.15}
    assert extraction.result.cell(name).rheobase == 0.15
    assert view.rows[0].used == 0.15
    assert view.rows[0].override == 0.15
    assert view.table.item(0, view.table.columnCount() - 1).text() == "0.1500"
    with qtbot.waitSignal(extraction.results_changed, timeout=60_000):
        qtbot.mouseClick(view.clear_button, Qt.MouseButton.LeftButton)
    assert extraction.overrides == {}
    assert extraction.result.cell(name).rheobase == result.cells[0].rheobase


def test_rows_before_any_run_come_from_the_browsed_recordings(
    qtbot: Any, extraction: ExtractionController, view: RheobaseView
) -> None:
    assert view.rows == []
    load_everything(qtbot, extraction.sc)
    view.refresh()
    assert [row.cell for row in view.rows] == extraction.cells()
    assert all(row.used == extraction.sc.store.rheobases[row.cell] for row in view.rows)


def test_review_with_strategy_settings_and_failures() -> None:
    class Sweep:
        def __init__(self, amp: float, spikes: int | None) -> None:
            self.amp, self.protocol_name = amp, "IDRest"
            self.peak_time = None if spikes is None else [0.0] * spikes

        @property
        def spikecount(self) -> int | None:
            return None if self.peak_time is None else len(self.peak_time)

    cell = Cell("c")
    cell.recordings = [Sweep(0.1, None), Sweep(0.2, 1), Sweep(0.3, 2), Sweep(0.4, 6)]
    settings = {"absolute": {"spike_threshold": 2}}
    values = rheobase_by_strategy(cell, ["IDRest"], settings)
    assert values["absolute"] == 0.3
    assert values["flush"] == 0.2
    assert values["interpolation"] is None
    bad = rheobase_by_strategy(cell, ["IDRest"], {"flush": {"no_such": 1}})
    assert bad["flush"] is None
    (row,) = review_rheobase([cell], ["IDRest"], "absolute", None, {"c": 0.25})
    assert (row.computed, row.used, row.override) == (0.2, 0.25, 0.25)
    assert [p.spikecount for p in row.points] == [None, 1, 2, 6]
    assert cell.rheobase is None
