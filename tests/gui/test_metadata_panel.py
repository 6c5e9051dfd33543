"""MetadataPanel: shows and edits the selected entries' metadata, proposes fixes."""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, get_args

import pytest
from PySide6.QtWidgets import QLabel

from efex_gui.core.recordings.recording import TimingSource
from efex_gui.core.session.dataset import EntryKey
from efex_gui.widgets import metadata_panel
from efex_gui.widgets.metadata_panel import MIXED, MetadataPanel
from tests.conftest import shared_path
from tests.gui.helpers import b6b8_files_metadata, load_everything

if TYPE_CHECKING:
    from pathlib import Path

    from efex_gui.app.controller import SessionController

#: what the heading over a sweep's values must name, per source of its window
HEADING_SAYS = {
    "user": "your window",
    "file": "file's protocol",
    "consensus": "consensus",
    "detected": "detected",
    "none": "no stimulus window",
}


def _panel(qtbot: Any, controller: SessionController) -> MetadataPanel:
    panel = MetadataPanel(controller)
    qtbot.addWidget(panel)
    return panel


def test_shows_and_edits_one_or_many_entries(qtbot: Any, controller: Any) -> None:
    panel = _panel(qtbot, controller)
    fm = b6b8_files_metadata(2)
    fm["MouseNeuron1"]["IDRest"][1]["ljp"] = 10.0
    controller.new_session(fm, shared_path("bluepyefe-exp-data"))
    first, second = controller.dataset.sweeps("MouseNeuron1", "IDRest")
    controller.select_sweeps([first])
    assert panel.fields["ljp"].text() == "14.0"
    assert panel.fields["i_unit"].text() == "pA"
    controller.select_sweeps([first, second])
    assert panel.fields["ljp"].text() == ""
    assert panel.fields["ljp"].placeholderText() == MIXED
    assert panel.fields["v_unit"].text() == "mV"
    panel.set_field("ljp", "12")
    panel.set_field("ton", "700")
    assert panel.changes() == {"ljp": 12.0, "ton": 700.0}
    with qtbot.waitSignal(controller.metadata_changed):
        panel.apply()
    keys = [EntryKey("MouseNeuron1", "IDRest", i) for i in range(2)]
    assert [controller.dataset.config(k)["ljp"] for k in keys] == [12.0, 12.0]
    assert panel.fields["ljp"].text() == "12.0"
    controller.undo_stack.undo()
    assert [controller.dataset.config(k)["ljp"] for k in keys] == [14.0, 10.0]
    assert all("ton" not in controller.dataset.config(k) for k in keys)
    assert panel.fields["ljp"].placeholderText() == MIXED, "the panel follows undo"
    controller.undo_stack.redo()
    assert [controller.dataset.config(k)["ton"] for k in keys] == [700.0, 700.0]
    assert panel.fields["ljp"].text() == "12.0"


def test_invalid_numbers_are_not_applied(qtbot: Any, controller: Any) -> None:
    panel = _panel(qtbot, controller)
    controller.new_session(b6b8_files_metadata(1), shared_path("bluepyefe-exp-data"))
    controller.select_sweeps(controller.dataset.sweeps("MouseNeuron1", "IDRest"))
    panel.set_field("dt", "0.25ms")
    assert panel.invalid_fields() == ["dt"]
    assert panel.changes() == {}
    panel.set_field("ljp", "")
    assert panel.changes() == {"ljp": None}, "an emptied field removes the key"


def test_implausible_unit_gets_a_fix(qtbot: Any, controller: Any) -> None:
    panel = _panel(qtbot, controller)
    fm = b6b8_files_metadata(1)
    fm["MouseNeuron1"]["IDRest"][0]["v_unit"] = "V"  # the data are in mV
    controller.new_session(fm, shared_path("bluepyefe-exp-data"))
    (sweep,) = controller.dataset.sweeps("MouseNeuron1", "IDRest")
    controller.select_sweeps([sweep])
    controller.recordings_for(sweep)  # read it, as drawing does
    qtbot.waitUntil(lambda: bool(panel.fix_buttons))
    (button,) = panel.fix_buttons
    assert button.text() == "Use mV"
    button.click()
    assert panel.changes() == {"v_unit": "mV"}
    panel.apply()
    assert controller.dataset.config(sweep.entry_key)["v_unit"] == "mV"
    controller.new_session(b6b8_files_metadata(1), shared_path("bluepyefe-exp-data"))
    shown = [
        w.text()
        for w in panel.findChildren(QLabel)
        if w.isVisibleTo(panel) and "looks like" in w.text()
    ]
    assert shown == [], "no problem of the previous selection stays on screen"


def test_pending_edits_are_kept_when_the_selection_moves(
    qtbot: Any, controller: Any
) -> None:
    panel = _panel(qtbot, controller)
    controller.new_session(b6b8_files_metadata(2), shared_path("bluepyefe-exp-data"))
    first, second = controller.dataset.sweeps("MouseNeuron1", "IDRest")
    controller.select_sweeps([first])
    panel.set_field("ljp", "3")
    controller.select_sweeps([second])
    assert controller.dataset.config(first.entry_key)["ljp"] == 3.0
    assert controller.dataset.config(second.entry_key)["ljp"] == 14.0
    assert panel.fields["ljp"].text() == "14.0"
    controller.undo_stack.undo()
    assert controller.dataset.config(first.entry_key)["ljp"] == 14.0


def test_the_wheel_scrolls_the_form_and_changes_a_unit_only_when_focused(
    qtbot: Any,
) -> None:
    """Scrolling the metadata panel to its Apply button turned a time unit into
    ``10th_ms`` (the combo box under the pointer took the wheel)."""
    # (Qt's own propagation to the scroll area is not simulated by a sent event)
    from PySide6.QtCore import QPoint, QPointF, Qt
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QScrollArea, QVBoxLayout, QWidget

    from efex_gui.widgets.setting_fields import metadata_field

    area = QScrollArea()
    qtbot.addWidget(area)
    inside = QWidget()
    layout = QVBoxLayout(inside)
    combo, line = metadata_field("t_unit", inside)
    layout.addWidget(combo)
    layout.addSpacing(2_000)  # a form taller than the area: it scrolls
    area.setWidget(inside)
    area.resize(200, 150)
    area.show()
    qtbot.waitExposed(area)
    assert line.text() == ""

    def wheel() -> bool:
        centre = QPointF(combo.rect().center())
        event = QWheelEvent(
            centre,
            QPointF(combo.mapToGlobal(centre.toPoint())),
            QPoint(0, 0),
            QPoint(0, -120),  # one notch down
            Qt.MouseButton.NoButton,
            Qt.KeyboardModifier.NoModifier,
            Qt.ScrollPhase.NoScrollPhase,
            False,
        )
        combo.wheelEvent(event)
        return event.isAccepted()

    assert not wheel(), "left to the form (Qt hands an ignored wheel to the parent)"
    assert line.text() == "", "the unit is the same"
    assert combo.focusPolicy() == Qt.FocusPolicy.StrongFocus  # the wheel gives none
    combo.setFocus()
    qtbot.waitUntil(combo.hasFocus)
    wheel()
    assert line.text() != "", "a focused combo box takes the wheel"


def test_a_window_end_shows_whole_in_a_narrow_panel(
    qtbot: Any, controller: Any
) -> None:
    """``toff`` 2002.3 read "02.3": the number fields were squeezed by the notes."""
    panel = _panel(qtbot, controller)
    panel.resize(480, 400)
    panel.show()
    qtbot.waitExposed(panel)
    for name in ("ton", "toff", "dt", "ljp"):
        edit = panel.fields[name]
        edit.setText("2002.325")
        margins = edit.textMargins().left() + edit.textMargins().right()
        needed = edit.fontMetrics().horizontalAdvance("2002.325") + margins
        assert edit.width() > needed, (name, edit.width(), needed)


def _heading_and_origin(text: str) -> tuple[str, str]:
    """The bold heading of the sweep's values and their "window from" row."""
    heading = re.search(r"<b>(.*?)</b>", text)
    origin = re.search(r"window from: ([^<]*)", text)
    assert heading is not None, text
    assert origin is not None, text
    return heading.group(1), origin.group(1)


def _sweep(source: str, reader_source: str = "") -> SimpleNamespace:
    """A read sweep whose window came from ``source`` (no ``ton``: "none")."""
    window = {} if source == "none" else {"ton": 700.0, "toff": 2700.0}
    reader = {"stimulus_source": reader_source} if reader_source else {}
    return SimpleNamespace(
        **window, stimulus_source=None if source == "none" else source,
        amp=0.2, hypamp=-0.01, spikecount=3, auto_threshold=-30.0,
        reader_data=reader, config_data={}, warnings=[],
    )  # fmt: skip


@pytest.mark.parametrize("source", get_args(TimingSource))
def test_the_heading_says_where_the_window_comes_from(source: str) -> None:
    """The heading read "Detected on the first sweep" over "window from: the
    protocol's consensus over its sweeps"; it now follows the window's source."""
    text = metadata_panel._sweep_values_text(_sweep(source))
    heading, origin = _heading_and_origin(text)
    assert HEADING_SAYS[source] in heading.lower(), (source, heading)
    others = [w for s, w in HEADING_SAYS.items() if s != source]
    assert not any(word in heading.lower() for word in others), (source, heading)
    wording = metadata_panel.SOURCE_WORDING[source]
    assert wording.heading in heading
    assert origin == wording.origin


def test_the_heading_follows_the_sweep_not_the_reader() -> None:
    """A file's protocol overridden by the user's ton/toff is the user's window
    (the heading used to ask the reader)."""
    sweep = _sweep("user", reader_source="file")
    heading, origin = _heading_and_origin(metadata_panel._sweep_values_text(sweep))
    assert "your window" in heading.lower()
    assert "file" not in heading.lower()
    assert origin == metadata_panel.SOURCE_WORDING["user"].origin


def test_the_panel_heading_follows_a_consensus_then_the_user(
    qtbot: Any, controller: SessionController, demo_dir: Path
) -> None:
    panel = _panel(qtbot, controller)
    controller.open_json(demo_dir / "config.json")
    load_everything(qtbot, controller)
    first, second = controller.dataset.sweeps("SimCell1", "IDRest")[:2]
    controller.select_sweeps([first])
    heading, origin = _heading_and_origin(panel.detected.text())
    assert heading == "Selected sweep in the protocol's consensus window"
    assert origin == "the protocol's consensus over its sweeps"
    controller.select_sweeps([first, second])
    heading, _ = _heading_and_origin(panel.detected.text())
    assert heading.startswith("First selected sweep in the protocol's consensus")
    controller.select_sweeps([first])
    with qtbot.waitSignal(controller.metadata_changed):
        controller.set_metadata([first.entry_key], {"ton": 650.0, "toff": 2650.0})
    controller.recordings_for(first)  # read again with the user's window
    qtbot.waitUntil(lambda: "your window" in panel.detected.text())
    heading, origin = _heading_and_origin(panel.detected.text())
    assert heading == "Selected sweep in your window (metadata)"
    assert origin == "your metadata (ton/toff)"
