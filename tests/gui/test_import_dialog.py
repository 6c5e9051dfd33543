"""ImportDialog: live preview of name parsing, channels, defaults, eCodes, profiles."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from efex_gui.core.importing.file_names import PRESET_PATTERNS
from efex_gui.widgets.import_dialog import CUSTOM, ImportDialog

if TYPE_CHECKING:
    from pathlib import Path

BBP_FILES = [
    "B6/B6_Ch0_IDRest_181.ibw", "B6/B6_Ch3_IDRest_181.ibw",
    "B6/B6_Ch0_IDRest_182.ibw", "B6/B6_Ch3_IDRest_182.ibw",
    "B6/B6_Ch0_TestPulse_1.ibw", "B6/B6_Ch3_TestPulse_1.ibw",
    "B6/B6_Ch0_IDRest_183.ibw", "notes/readme.txt",
]  # fmt: skip


@pytest.fixture
def bbp_folder(tmp_path: Path) -> Path:
    for rel in BBP_FILES:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"")
    return tmp_path


def _dialog(qtbot: Any, root: Path, preferences: Any) -> ImportDialog:
    dialog = ImportDialog(root, None, preferences)
    qtbot.addWidget(dialog)
    return dialog


def test_preview_pairs_files_with_the_guessed_pattern(
    qtbot: Any, bbp_folder: Path, preferences: Any
) -> None:
    dialog = _dialog(qtbot, bbp_folder, preferences)
    assert dialog.preset.currentText() == PRESET_PATTERNS[1].name
    assert len(dialog.pairing.entries) == 3
    assert dialog.preview.rowCount() == 3 + len(dialog.pairing.skipped)
    assert dialog.preview.item(0, 0).text() == "B6"
    skipped = {
        dialog.preview.item(r, 4).text(): dialog.preview.item(r, 5).text()
        for r in range(3, dialog.preview.rowCount())
    }
    assert "no voltage" in skipped["B6/B6_Ch0_IDRest_183.ibw"]
    assert "does not match" in skipped["notes/readme.txt"]
    assert "3 recordings, 1 cell, 2 protocols" in dialog.summary.text()


def test_editing_the_pattern_updates_the_preview(
    qtbot: Any, bbp_folder: Path, preferences: Any
) -> None:
    dialog = _dialog(qtbot, bbp_folder, preferences)
    qtbot.keyClicks(dialog.pattern, "(")
    qtbot.waitUntil(lambda: "not a valid regex" in dialog.summary.text())
    assert not dialog.ok_button.isEnabled()
    assert dialog.preset.currentText() == CUSTOM
    dialog.pattern.setText(
        r"(?P<cell>B6)/B6_Ch(?P<channel>\d)_(?P<protocol>IDRest)"
        r"_(?P<number>\d+)\.ibw"
    )
    qtbot.waitUntil(lambda: len(dialog.pairing.entries) == 2)
    assert dialog.ok_button.isEnabled()
    dialog.current_channel.setText("3")
    dialog.voltage_channel.setText("0")
    qtbot.waitUntil(
        lambda: dialog.pairing.entries[0].v_file.endswith("Ch0_IDRest_181.ibw")
    )


def test_ecode_table_and_override(
    qtbot: Any, bbp_folder: Path, preferences: Any
) -> None:
    dialog = _dialog(qtbot, bbp_folder, preferences)
    rows = {
        dialog.ecodes.item(r, 0).text(): dialog.ecodes.item(r, 2).text()
        for r in range(dialog.ecodes.rowCount())
    }
    assert rows["IDRest"] == "Step"
    assert rows["TestPulse"].startswith("no eCode")
    dialog.ecodes.cellWidget(1, 3).setCurrentText("Step")
    qtbot.waitUntil(lambda: dialog.ecode_overrides == {"TestPulse": "Step"})
    qtbot.waitUntil(lambda: dialog.ecodes.item(1, 2).text() == "Step")


def test_defaults_profile_and_result(
    qtbot: Any, bbp_folder: Path, preferences: Any
) -> None:
    dialog = _dialog(qtbot, bbp_folder, preferences)
    dialog.defaults["i_unit"].setText("pA")
    dialog.defaults["v_unit"].setText("mV")
    dialog.defaults["ljp"].setText("fourteen")
    dialog.accept()
    assert dialog.result() != ImportDialog.DialogCode.Accepted
    assert "ljp must be a number" in dialog.summary.text()
    dialog.defaults["ljp"].setText("14")
    dialog.accept()
    fm = dialog.files_metadata()
    assert fm["B6"]["IDRest"][0] == {
        "ordinal": "181",
        "i_file": "B6/B6_Ch0_IDRest_181.ibw",
        "v_file": "B6/B6_Ch3_IDRest_181.ibw",
        "i_unit": "pA",
        "v_unit": "mV",
        "t_unit": "s",
        "ljp": 14.0,
    }
    assert preferences.import_profile()["defaults"]["ljp"] == "14"
    again = _dialog(qtbot, bbp_folder, preferences)
    assert again.defaults["v_unit"].text() == "mV", "settings are reused"
    assert again.profile() == dialog.profile()


def test_nwb_files_list_their_protocols(
    qtbot: Any, demo_dir: Path, preferences: Any
) -> None:
    dialog = _dialog(qtbot, demo_dir, preferences)
    assert dialog.pattern.text() == PRESET_PATTERNS[2].regex
    fm = dialog.files_metadata()
    assert sorted(fm) == ["SimCell1", "SimCell2"]
    assert sorted(fm["SimCell1"]) == ["APWaveform", "IDRest", "IDthresh", "IV"]
    assert fm["SimCell1"]["IV"] == [{"filepath": "SimCell1.nwb", "t_unit": "s"}]


def test_abf_files_take_their_protocol_names_from_inside(
    qtbot: Any, tmp_path: Path, preferences: Any, controller: Any
) -> None:
    """ABF: one file per cell, the protocol name read from the file's header."""
    import numpy as np

    from tests.conftest import shared_path
    from tests.gui.helpers import load_everything

    abf = shared_path("formats", "abf")
    for name in ("20303010_rita.abf", "File_axon_5.abf"):
        (tmp_path / name).symlink_to(abf / name)
    dialog = _dialog(qtbot, tmp_path, preferences)
    assert dialog.pattern.text() == PRESET_PATTERNS[2].regex
    rita = "3 -excitability_400ms50pA"  # the protocol file's name, inside the ABF
    fm = dialog.files_metadata()
    assert {c: list(p) for c, p in fm.items()} == {
        "20303010_rita": [rita],
        "File_axon_5": ["step cclamp"],
    }
    assert fm["20303010_rita"][rita][0]["filepath"] == "20303010_rita.abf"
    rows = {dialog.ecodes.item(r, 0).text(): r for r in range(dialog.ecodes.rowCount())}
    assert dialog.ecodes.item(rows["step cclamp"], 2).text() == "Step"
    # an unknown name: the other labs' dictionary suggests Step ("excitability")
    guessed = dialog.ecodes.item(rows[rita], 2)
    assert guessed.text() == "Step (guessed: confirm or change)"
    assert "excitab" in guessed.toolTip()
    assert dialog.ecode_overrides == {rita: "Step"}
    dialog.ecodes.cellWidget(rows[rita], 3).setCurrentText("Step")
    assert "Step" in dialog.ecodes.cellWidget(rows[rita], 3).currentText()
    dialog.accept()
    controller.new_session(dialog.files_metadata(), tmp_path, dialog.ecode_overrides)
    load_everything(qtbot, controller)
    sweeps = controller.dataset.sweeps("20303010_rita", rita)
    summaries = [controller.summary(s) for s in sweeps]
    assert [s.status for s in summaries] == ["ok"] * 13
    # README: steps from -200 to +400 pA by 50
    amps = sorted(s.amp for s in summaries)
    np.testing.assert_allclose(amps, np.linspace(-0.2, 0.4, 13), atol=2e-3)


def test_profile_with_ecode_mapping_saved_and_loaded(
    qtbot: Any, bbp_folder: Path, preferences: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    from PySide6.QtWidgets import QFileDialog

    profile = tmp_path / "lab.json"
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", lambda *a, **k: (str(profile), "")
    )
    monkeypatch.setattr(
        QFileDialog, "getOpenFileName", lambda *a, **k: (str(profile), "")
    )
    dialog = _dialog(qtbot, bbp_folder, preferences)
    dialog.set_override("TestPulse", "Step")
    dialog.current_channel.setText("3")
    dialog.save_button.click()
    assert profile.exists()
    other = ImportDialog(bbp_folder, None, None)
    qtbot.addWidget(other)
    assert other.ecode_overrides == {}
    other.load_button.click()
    assert other.ecode_overrides == {"TestPulse": "Step"}
    assert other.current_channel.text() == "3"
    qtbot.waitUntil(lambda: other.profile() == dialog.profile())


def test_another_labs_folder_gets_its_own_preset_and_no_ljp(
    qtbot: Any, bbp_folder: Path, preferences: Any, tmp_path_factory: Any
) -> None:
    dialog = _dialog(qtbot, bbp_folder, preferences)
    dialog.defaults["ljp"].setText("14")
    dialog.defaults["i_unit"].setText("pA")
    dialog.accept()
    # another lab: SSCx-style names the BBP pattern does not match
    other = tmp_path_factory.mktemp("sscx")
    for rel in ("C1/X_IDrest_ch0_1.ibw", "C1/X_IDrest_ch1_1.ibw"):
        (other / rel).parent.mkdir(parents=True, exist_ok=True)
        (other / rel).write_bytes(b"")
    fresh = _dialog(qtbot, other, preferences)
    assert fresh.pattern.text() == PRESET_PATTERNS[0].regex
    assert fresh.defaults["ljp"].text() == ""
    assert "guessed for this folder" in fresh.notice.text()
    # a folder the remembered pattern matches: the LJP is offered, not applied
    same_lab = tmp_path_factory.mktemp("bbp2")
    for rel in ("B9/B9_Ch0_IDRest_1.ibw", "B9/B9_Ch3_IDRest_1.ibw"):
        (same_lab / rel).parent.mkdir(parents=True, exist_ok=True)
        (same_lab / rel).write_bytes(b"")
    offered = _dialog(qtbot, same_lab, preferences)
    assert offered.pattern.text() == dialog.pattern.text()
    assert offered.defaults["ljp"].text() == ""
    assert "ljp 14" in offered.notice.text()
    assert offered.carry_button.isVisibleTo(offered)
    offered.carry_button.click()
    assert offered.defaults["ljp"].text() == "14"
    assert offered.defaults["i_unit"].text() == "pA"


def test_protocol_timings_table_sets_ton_toff_and_is_saved_in_the_profile(
    qtbot: Any, bbp_folder: Path, preferences: Any
) -> None:
    dialog = _dialog(qtbot, bbp_folder, preferences)
    table = dialog.timings_table
    rows = {table.item(r, 0).text(): r for r in range(table.rowCount())}
    assert set(rows) == {"IDRest", "TestPulse"}
    table.item(rows["IDRest"], 1).setText("700")
    table.item(rows["IDRest"], 2).setText("2700")
    table.item(rows["TestPulse"], 1).setText("soon")  # not a number: left empty
    assert table.item(rows["TestPulse"], 1).text() == ""
    files_metadata = dialog.files_metadata()
    for entry in files_metadata["B6"]["IDRest"]:
        assert (entry["ton"], entry["toff"]) == (700.0, 2700.0)
    assert "ton" not in files_metadata["B6"]["TestPulse"][0]
    profile = dialog.profile()
    assert profile["protocol_timings"] == {"IDRest": {"ton": 700.0, "toff": 2700.0}}
    again = _dialog(qtbot, bbp_folder, preferences)
    again.apply_profile(profile)
    again.update_preview()
    assert again.files_metadata()["B6"]["IDRest"][0]["toff"] == 2700.0


def test_voltage_clamp_files_are_left_out_saying_so_and_looked_at_once(
    qtbot: Any, preferences: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ATF samples are voltage clamp; a preview update does not open them again."""
    from efex_gui.widgets import import_dialog
    from tests.conftest import shared_path

    looked: list[str] = []
    real = import_dialog.file_protocols

    def counted(path: str) -> list[str]:
        looked.append(path)
        return real(path)

    monkeypatch.setattr(import_dialog, "file_protocols", counted)
    dialog = _dialog(qtbot, shared_path("formats", "atf"), preferences)
    reasons = {
        dialog.preview.item(r, 4).text(): dialog.preview.item(r, 5).text()
        for r in range(dialog.preview.rowCount())
    }
    assert reasons == dict.fromkeys(
        ["18702001-step.abf", "18702001-step.atf"],
        "voltage clamp: 3 sweeps of membrane current",
    )
    assert not dialog.ok_button.isEnabled()
    opened = len(looked)
    dialog.update_preview()
    assert len(looked) == opened
