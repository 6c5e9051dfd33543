"""TargetEditor: edits, refusals, multi-row edit, import/export, presets, check."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLineEdit

from efex_gui.app.extraction_controller import ExtractionController
from efex_gui.core.importing.legacy_formats import convert_legacy_targets
from efex_gui.resources import resource_path
from efex_gui.widgets.target_editor import TargetEditor
from efex_gui.widgets.target_table_model import COLUMN, parse_settings
from tests.gui.extraction_helpers import open_demo

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


@pytest.fixture
def editor(controller: Any, demo_dir: Path, qtbot: Any) -> Iterator[TargetEditor]:
    open_demo(controller, demo_dir)
    extraction = ExtractionController(controller)
    widget = TargetEditor(extraction)
    qtbot.addWidget(widget)
    widget.resize(1100, 600)
    yield widget
    assert extraction.shutdown()


def _index(editor: TargetEditor, row: int, key: str) -> Any:
    return editor.model.index(row, COLUMN[key])


def test_shows_the_session_targets(editor: TargetEditor) -> None:
    targets = editor.controller.targets
    assert editor.model.rowCount() == len(targets)
    assert _index(editor, 0, "efeature").data() == targets[0]["efeature"]
    assert _index(editor, 0, "amplitude").data() == str(targets[0]["amplitude"])


def test_edit_amplitude_is_undoable(editor: TargetEditor) -> None:
    before = editor.controller.targets[1]["amplitude"]
    assert editor.model.setData(_index(editor, 1, "amplitude"), "175")
    assert editor.controller.targets[1]["amplitude"] == 175
    assert _index(editor, 1, "amplitude").data() == "175"
    editor.controller.sc.undo_stack.undo()
    assert editor.controller.targets[1]["amplitude"] == before
    assert _index(editor, 1, "amplitude").data() == str(before)


@pytest.mark.parametrize(
    ("key", "text", "reason"),
    [
        ("tolerance", "-5", "tolerance"),
        ("tolerance", "0", "tolerance"),
        ("amplitude", "lots", "not a number"),
        ("efeature", "", "cannot be empty"),
        ("efel_settings", "Treshold=-10", "Treshold"),
        ("efel_settings", "Threshold", "name=value"),
    ],
)
def test_impossible_values_are_refused_with_a_message(
    editor: TargetEditor, key: str, text: str, reason: str
) -> None:
    before = editor.controller.targets
    assert not editor.model.setData(_index(editor, 0, key), text)
    assert editor.controller.targets == before
    assert reason in editor.message.text()


def test_efel_settings_and_output_name(editor: TargetEditor) -> None:
    assert editor.model.setData(
        _index(editor, 0, "efel_settings"), "Threshold=-10, strict_stiminterval=true"
    )
    assert editor.controller.targets[0]["efel_settings"] == {
        "Threshold": -10,
        "strict_stiminterval": True,
    }
    assert _index(editor, 0, "efel_settings").data() == (
        "Threshold=-10, strict_stiminterval=true"
    )
    assert editor.model.setData(_index(editor, 0, "efeature_name"), "count_m10")
    assert editor.controller.targets[0]["efeature_name"] == "count_m10"
    assert editor.model.setData(_index(editor, 0, "efeature_name"), "")
    assert "efeature_name" not in editor.controller.targets[0]
    assert parse_settings('{"interp_step": 0.1}') == {"interp_step": 0.1}


def test_multi_row_edit_through_the_delegate(editor: TargetEditor) -> None:
    view = editor.view
    selection = view.selectionModel()
    for row in (0, 2, 3):
        selection.select(
            editor.model.index(row, 0),
            selection.SelectionFlag.Select | selection.SelectionFlag.Rows,
        )
    index = _index(editor, 2, "tolerance")
    delegate = view.itemDelegateForIndex(index)
    line = QLineEdit("12.5")
    delegate.setModelData(line, editor.model, index)
    tolerances = [t["tolerance"] for t in editor.controller.targets]
    assert [tolerances[r] for r in (0, 2, 3)] == [12.5] * 3
    assert tolerances[1] != 12.5
    assert editor.controller.sc.undo_stack.undoText() == "Set tolerance of 3 target(s)"


def test_add_duplicate_remove_buttons(editor: TargetEditor, qtbot: Any) -> None:
    n = editor.model.rowCount()
    editor.view.selectRow(0)
    qtbot.mouseClick(editor.duplicate_button, Qt.MouseButton.LeftButton)
    assert editor.controller.targets[1] == editor.controller.targets[0]
    qtbot.mouseClick(editor.add_button, Qt.MouseButton.LeftButton)
    assert editor.model.rowCount() == n + 2
    editor.view.selectRow(0)
    qtbot.mouseClick(editor.remove_button, Qt.MouseButton.LeftButton)
    assert editor.model.rowCount() == n + 1


def test_import_legacy_and_export_list(editor: TargetEditor, tmp_path: Path) -> None:
    legacy_path = resource_path("examples", "targets_legacy.json")
    editor.import_file(legacy_path)
    expected = convert_legacy_targets(json.loads(legacy_path.read_text()))
    assert editor.controller.targets == expected
    editor.export_file(tmp_path / "out.json")
    assert json.loads((tmp_path / "out.json").read_text()) == expected
    assert editor.export_file(tmp_path / "legacy.json", "legacy")
    assert (
        convert_legacy_targets(json.loads((tmp_path / "legacy.json").read_text()))
        == expected
    )
    editor.model.set_values([0], COLUMN["amplitude"], "321")  # breaks the grid
    assert not editor.export_file(tmp_path / "hole.json", "legacy")
    assert "legacy form needs" in editor.message.text()
    assert not (tmp_path / "hole.json").exists()
    editor.controller.sc.undo_stack.undo()
    (tmp_path / "bad.json").write_text('{"not": "targets"}')
    editor.import_file(tmp_path / "bad.json")
    assert "not a target list" in editor.message.text()
    assert editor.controller.targets == expected


def test_automatic_targets_preset(editor: TargetEditor) -> None:
    editor._fill_presets()
    labels = [a.text() for a in editor.preset_menu.actions()]
    assert labels[0].startswith("Automatic targets")
    assert any("firing pattern" in label for label in labels)
    editor.preset_menu.actions()[0].trigger()
    assert editor.controller.targets is None
    assert editor.model.read_only
    assert not editor.banner.isHidden()
    assert not editor.add_button.isEnabled()
    editor.edit_auto_as_list()
    assert editor.controller.targets == []
    assert not editor.model.read_only


def test_feature_completion_and_description(editor: TargetEditor) -> None:
    index = _index(editor, 0, "efeature")
    delegate = editor.view.itemDelegateForIndex(index)
    line = delegate.createEditor(editor.view.viewport(), None, index)
    names = line.completer().model().stringList()
    assert "AP_amplitude" in names
    assert "mean_frequency" in names
    editor.view.setCurrentIndex(_index(editor, 3, "efeature"))
    feature = editor.controller.targets[3]["efeature"]
    assert feature in editor.description.text()
    assert "Unit" in editor.description.text() or len(editor.description.text()) > 20
    assert editor.model.data(index, Qt.ItemDataRole.ToolTipRole)


def test_check_panel_lists_issues_and_selects_rows(
    editor: TargetEditor, qtbot: Any
) -> None:
    targets = editor.controller.targets
    targets[2]["efeature"] = "AP_amplitud"
    with qtbot.waitSignal(editor.controller.check_changed, timeout=5000):
        editor.controller.set_targets(targets)
    messages = [editor.issues.item(i).text() for i in range(editor.issues.count())]
    assert any("AP_amplitud" in m for m in messages)
    assert "1 errors" in editor.summary.text()
    assert (
        editor.model.data(_index(editor, 2, "efeature"), Qt.ItemDataRole.DecorationRole)
        is not None
    )
    assert (
        editor.model.data(_index(editor, 0, "efeature"), Qt.ItemDataRole.DecorationRole)
        is None
    )
    item = next(
        editor.issues.item(i)
        for i in range(editor.issues.count())
        if "AP_amplitud" in editor.issues.item(i).text()
    )
    editor.issues.itemClicked.emit(item)
    assert editor.view.selected_rows() == [2]


def test_headers_carry_the_amplitude_unit_and_tips(editor: TargetEditor) -> None:
    def header(key: str, role: Any = Qt.ItemDataRole.DisplayRole) -> Any:
        return editor.model.headerData(COLUMN[key], Qt.Orientation.Horizontal, role)

    assert header("amplitude") == "Amplitude (%)"
    assert header("tolerance") == ("Tolerance (%)")
    controller = editor.controller
    controller.set_settings(controller.with_settings(absolute_amplitude=True))
    assert header("amplitude") == "Amplitude (nA)"
    assert all(header(key, Qt.ItemDataRole.ToolTipRole) for key in COLUMN)
    matches = editor.model.index(0, COLUMN["matches"])
    assert matches.data() == "—"
    assert "Extract" in matches.data(Qt.ItemDataRole.ToolTipRole)


def test_count_button_reads_every_file_then_matches_are_counted(
    editor: TargetEditor, qtbot: Any
) -> None:
    panel = editor.check_panel
    editor.controller.update_check()
    assert not panel.count_button.isHidden()
    assert "once every file" in (editor.summary.text())
    sc = editor.controller.sc
    with qtbot.waitSignal(
        editor.controller.check_changed,
        timeout=120_000,
        check_params_cb=lambda c: any(c.coverage),
    ):
        panel.count_button.click()
    qtbot.waitUntil(lambda: panel.count_button.isHidden(), timeout=5000)
    assert all(sc.dataset.is_loaded(k) for k in sc.dataset.entry_keys())
    n = editor.model.index(0, COLUMN["matches"]).data()
    assert n.endswith("cells")
    assert n != "0 sweeps / 0 cells"


def test_protocol_choices_come_from_the_loaded_data(editor: TargetEditor) -> None:
    index = _index(editor, 0, "protocol")
    delegate = editor.view.itemDelegateForColumn(COLUMN["protocol"])
    box = delegate.createEditor(editor.view.viewport(), None, index)
    delegate.setEditorData(box, index)
    assert isinstance(box, QComboBox)
    choices = [box.itemText(i) for i in range(box.count())]
    assert choices == editor.controller.protocols()
    assert "IDRest" in choices
    assert box.currentText() == editor.controller.targets[0]["protocol"]
    box.setCurrentText("IV")
    delegate.setModelData(box, editor.model, index)
    assert editor.controller.targets[0]["protocol"] == "IV"
