"""ExtractionController: runs, stale results, incremental updates, export parity."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from efex_gui.core.session.dataset import SweepKey
from efex_gui.core.session.document import Session
from tests.conftest import shared_path
from tests.gui.extraction_helpers import (
    assert_same_files,
    headless_export,
    open_demo,
    read_json,
    run_and_wait,
)

if TYPE_CHECKING:
    from efex_gui.app.extraction_controller import ExtractionController


@pytest.fixture
def demo(controller: Any, demo_dir: Path) -> Any:
    open_demo(controller, demo_dir)
    return controller


def test_run_gives_headless_numbers(
    qtbot: Any, demo: Any, extraction: ExtractionController, tmp_path: Path
) -> None:
    result = run_and_wait(qtbot, extraction)
    assert result.features
    assert not extraction.is_stale()
    extraction.export(tmp_path / "gui")
    headless_export(demo.session, tmp_path / "headless")
    assert_same_files(tmp_path / "gui", tmp_path / "headless")
    provenance = read_json(tmp_path / "gui" / "efex_provenance.json")
    assert provenance["targets"] == result.targets


def test_exclusion_updates_without_efel(
    qtbot: Any, demo: Any, extraction: ExtractionController, tmp_path: Path
) -> None:
    first = run_and_wait(qtbot, extraction)
    assert first.stats.computed > 0
    recording = first.cells[0].get_recordings_by_protocol_name("IDRest")[4]
    ref = first.sweep_ref(recording)
    key = demo.exclusion_key(SweepKey(ref.cell, ref.protocol, ref.entry, ref.index))
    with qtbot.waitSignal(extraction.update_timed, timeout=60_000) as timed:
        demo.set_excluded([key], True, "test")
    second = extraction.result
    assert second is not first
    assert not extraction.is_stale()
    assert (second.stats.computed, second.stats.efel_calls) == (0, 0)
    assert second.entries_read == 0
    assert timed.args[0] == extraction.last_update_seconds
    # the excluded sweep is gone, and the export matches the headless one
    assert ref not in second.refs.values()
    assert len(second.cells[0].recordings) == len(first.cells[0].recordings) - 1
    extraction.export(tmp_path / "gui")
    headless_export(demo.session, tmp_path / "headless")
    assert_same_files(tmp_path / "gui", tmp_path / "headless")
    # the first result's objects were not touched by the second run
    assert recording in first.cells[0].recordings
    assert recording.efeatures


def _newly_matched(first: Any, result: Any) -> int:
    """Sweeps that a target window of ``result`` holds and none of ``first`` did."""
    from efex_gui.core.extraction.cell_task import amplitude_windows, matched_recordings

    def held(run: Any) -> set[Any]:
        return {
            run.sweep_ref(r)
            for c in run.cells
            for r in matched_recordings(c, amplitude_windows(run.targets))
        }

    return len(held(result) - held(first))


def test_target_amplitude_change_computes_only_newly_held_sweeps(
    qtbot: Any, demo: Any, extraction: ExtractionController, tmp_path: Path
) -> None:
    first = run_and_wait(qtbot, extraction)
    targets = copy.deepcopy(demo.session.targets)
    for target in targets:
        if target["amplitude"] == 250:
            target["amplitude"] = 225
    with qtbot.waitSignal(extraction.update_timed, timeout=60_000):
        extraction.set_targets(targets)
    result = extraction.result
    # features are computed where a target window holds a sweep (as the CLI):
    # only the sweeps the moved window newly holds reach efel, once per sweep
    assert result.stats.efel_calls == _newly_matched(first, result) > 0
    assert result.stats.hits > 0
    assert "IDRest_225" in result.features
    assert "IDRest_250" not in result.features
    extraction.export(tmp_path / "gui")
    headless_export(demo.session, tmp_path / "headless")
    assert_same_files(tmp_path / "gui", tmp_path / "headless")


def test_new_feature_computes_only_it(
    qtbot: Any, demo: Any, extraction: ExtractionController
) -> None:
    first = run_and_wait(qtbot, extraction)
    targets = copy.deepcopy(demo.session.targets)
    targets.append(
        {"efeature": "ISI_CV", "protocol": "IDRest", "amplitude": 200, "tolerance": 20}
    )
    with qtbot.waitSignal(extraction.update_timed, timeout=60_000):
        extraction.set_targets(targets)
    from efex_gui.core.extraction.cell_task import amplitude_windows, matched_recordings

    result = extraction.result
    n_idrest = sum(
        r.protocol_name == "IDRest"
        for c in result.cells
        for r in matched_recordings(c, amplitude_windows(result.targets))
    )
    assert result.stats.computed == n_idrest > 0  # the new feature, nothing else
    assert len(first.cells) == len(result.cells)


def test_settings_change_marks_stale_and_undo_restores(
    qtbot: Any, demo: Any, extraction: ExtractionController
) -> None:
    run_and_wait(qtbot, extraction)
    with qtbot.waitSignal(extraction.stale_changed) as stale:
        extraction.set_settings(
            extraction.with_settings(
                efel_settings={"Threshold": -10.0, "interp_step": 0.025}
            )
        )
    assert stale.args == [True]
    assert extraction.is_stale()
    assert demo.is_dirty()
    with qtbot.waitSignal(extraction.stale_changed) as fresh:
        demo.undo_stack.undo()
    assert fresh.args == [False]
    extraction.set_settings(extraction.with_settings(protocol_mode="median"))
    extraction.live_update = False
    with pytest.raises(RuntimeError, match="Run the extraction first"):
        extraction.export(Path("never-written"))


def test_metadata_edit_marks_stale_without_a_rerun(
    qtbot: Any, demo: Any, extraction: ExtractionController
) -> None:
    from efex_gui.core.session.dataset import EntryKey

    first = run_and_wait(qtbot, extraction)
    # an edit of the data reruns only on request (its efel values are all new)
    with (
        qtbot.assertNotEmitted(extraction.run_started, wait=100),
        qtbot.waitSignal(extraction.stale_changed) as stale,
    ):
        demo.set_metadata([EntryKey("SimCell1", "IDRest", 0)], {"ljp": 5.0})
    assert stale.args == [True]
    assert extraction.is_stale()
    assert extraction.result is first
    assert not extraction.is_running()


def test_provenance_names_inputs_exclusions_and_versions(
    qtbot: Any, demo: Any, extraction: ExtractionController, tmp_path: Path
) -> None:
    import hashlib

    first = run_and_wait(qtbot, extraction)
    recording = first.cells[0].get_recordings_by_protocol_name("IDRest")[2]
    ref = first.sweep_ref(recording)
    key = demo.exclusion_key(SweepKey(ref.cell, ref.protocol, ref.entry, ref.index))
    with qtbot.waitSignal(extraction.update_timed, timeout=60_000):
        demo.set_excluded([key], True, "seal lost")
    extraction.export(tmp_path)
    provenance = read_json(tmp_path / "efex_provenance.json")
    assert {"efex_gui", "efel", "numpy"} <= set(provenance["versions"])
    assert provenance["exclusions"] == demo.session.exclusions.to_json()
    assert "seal lost" in json.dumps(provenance["exclusions"])
    files = {Path(f["path"]).name: f for f in provenance["input_files"]}
    nwb = Path(
        demo.session.resolve(
            demo.session.files_metadata["SimCell1"]["IDRest"][0]["filepath"]
        )
    )
    assert files[nwb.name]["sha256"] == hashlib.sha256(nwb.read_bytes()).hexdigest()
    assert provenance["settings"]["efel_settings"] == first.settings["efel_settings"]


def test_provenance_records_the_qc_switches_and_thresholds(
    qtbot: Any, demo: Any, extraction: ExtractionController, tmp_path: Path
) -> None:
    from efex_gui.core.recordings.qc_settings import QCSettings

    run_and_wait(qtbot, extraction)
    qc = QCSettings()
    qc.enabled["line_noise"] = False
    qc.thresholds["pre_noise_rms"] = 0.25
    demo.session.qc = qc
    extraction.export(tmp_path)
    recorded = read_json(tmp_path / "efex_provenance.json")["qc"]
    assert recorded["line_noise"]["enabled"] is False
    assert recorded["pre_noise_rms"]["threshold"] == 0.25
    assert QCSettings.from_dict(recorded) == qc


def test_export_does_not_overwrite_without_asking(
    qtbot: Any, demo: Any, extraction: ExtractionController, tmp_path: Path
) -> None:
    run_and_wait(qtbot, extraction)
    written = extraction.export(tmp_path)
    before = [p.read_bytes() for p in written]
    with pytest.raises(FileExistsError, match="already holds an export"):
        extraction.export(tmp_path)
    assert extraction.existing_export(tmp_path) == written
    assert extraction.export(tmp_path, overwrite=True) == written
    assert [p.read_bytes() for p in written[:3]] == before[:3]


def test_export_bar_asks_before_replacing_an_export(
    qtbot: Any,
    demo: Any,
    extraction: ExtractionController,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from PySide6.QtWidgets import QMessageBox

    from efex_gui.widgets.extraction_panel import ExtractionBar

    bar = ExtractionBar(extraction)
    qtbot.addWidget(bar)
    run_and_wait(qtbot, extraction)
    (tmp_path / "features.json").write_text("an older export")
    asked: list[str] = []
    answer = QMessageBox.StandardButton.No
    monkeypatch.setattr(
        QMessageBox,
        "question",
        lambda _parent, _title, text: asked.append(text) or answer,
    )
    bar.export_to(tmp_path)
    assert asked
    assert "features.json" in asked[0]
    assert (tmp_path / "features.json").read_text() == "an older export"
    answer = QMessageBox.StandardButton.Yes
    with qtbot.waitSignal(extraction.exported):
        bar.export_to(tmp_path)
    assert (tmp_path / "features.json").read_text() != "an older export"


def test_rheobase_override_reaches_results_and_provenance(
    qtbot: Any, demo: Any, extraction: ExtractionController, tmp_path: Path
) -> None:
    first = run_and_wait(qtbot, extraction)
    name = first.cells[0].name
    computed = first.cells[0].rheobase
    with qtbot.waitSignal(extraction.results_changed, timeout=60_000):
        extraction.set_rheobase_override(name, computed * 1.2)
    result = extraction.result
    assert result.cell(name).rheobase == pytest.approx(computed * 1.2)
    assert result.computed_rheobase[name] == computed
    assert result.currents["all_threshold_current"][name] == pytest.approx(
        computed * 1.2
    )
    # the shifted relative amplitudes bring new sweeps into the target windows:
    # only those reach efel
    assert result.stats.efel_calls == _newly_matched(first, result)
    extraction.export(tmp_path)
    provenance = read_json(tmp_path / "efex_provenance.json")
    assert provenance["settings"]["rheobase_overrides"] == {name: computed * 1.2}
    rows = {row.cell: row for row in extraction.rheobase_rows()}
    assert rows[name].used == pytest.approx(computed * 1.2)
    assert rows[name].computed == computed


def test_rheobase_override_is_saved_and_the_cli_reproduces_the_export(
    qtbot: Any, demo: Any, extraction: ExtractionController, tmp_path: Path
) -> None:
    from efex_gui.cli import main

    first = run_and_wait(qtbot, extraction)
    name = first.cells[1].name
    value = first.cells[1].rheobase * 0.9
    with qtbot.waitSignal(extraction.results_changed, timeout=60_000):
        extraction.set_rheobase_override(name, value)
    assert demo.session.rheobase_overrides == {name: value}
    assert demo.is_dirty()
    assert demo.store.rheobases[name] == value, "the browser follows the override"
    extraction.export(tmp_path / "gui")
    demo.save_session(tmp_path / "session.json")
    assert (
        main(
            [
                "extract",
                str(tmp_path / "session.json"),
                "-o",
                str(tmp_path / "cli"),
                "-q",
            ]
        )
        == 0
    )
    assert_same_files(tmp_path / "gui", tmp_path / "cli")
    assert (
        read_json(tmp_path / "cli" / "holding_threshold_currents.json")[
            "all_threshold_current"
        ][name]
        == value
    )
    demo.undo_stack.undo()
    assert demo.session.rheobase_overrides == {}
    assert extraction.overrides == {}


def test_failed_run_keeps_previous_result(
    qtbot: Any, demo: Any, extraction: ExtractionController
) -> None:
    first = run_and_wait(qtbot, extraction)
    extraction.live_update = False
    targets = [
        *copy.deepcopy(demo.session.targets),
        {
            "efeature": "no_such_feature",
            "protocol": "IDRest",
            "amplitude": 150,
            "tolerance": 20,
        },
    ]
    extraction.set_targets(targets)
    with qtbot.waitSignal(extraction.run_failed, timeout=60_000) as failed:
        extraction.run()
    assert "no_such_feature" in failed.args[0].message
    assert extraction.result is first
    assert extraction.is_stale()
    check = extraction.update_check()
    assert "unknown_feature" in check.kinds()


def test_target_check_uses_result_cells(
    qtbot: Any, demo: Any, extraction: ExtractionController
) -> None:
    run_and_wait(qtbot, extraction)
    check = extraction.update_check()
    assert all(c is not None and c.n_sweeps >= 1 for c in check.coverage)
    targets = copy.deepcopy(demo.session.targets)
    targets[0]["amplitude"] = 1000
    extraction.live_update = False
    with qtbot.waitSignal(extraction.check_changed, timeout=5000) as changed:
        extraction.set_targets(targets)
    assert changed.args[0].coverage[0].n_sweeps == 0
    assert "unreachable" in {i.kind for i in changed.args[0].issues_for(0)}


def test_check_counts_on_complete_data_only(
    qtbot: Any, demo: Any, extraction: ExtractionController
) -> None:
    from tests.gui.helpers import load_everything

    keys = demo.dataset.entry_keys()
    with qtbot.waitSignal(demo.task_finished, timeout=60_000):
        demo.load_entries(keys[:1])  # one file read for browsing
    qtbot.waitUntil(lambda: not demo._pending_loaded, timeout=5000)
    check = extraction.update_check()
    assert extraction.check_cells() is None, "a partial reading is not the data"
    assert not {"unknown_protocol", "no_rheobase", "unreachable"} & check.kinds()
    assert all(c is None for c in check.coverage)
    load_everything(qtbot, demo)
    check = extraction.update_check()
    assert sum(c.n_sweeps for c in check.coverage) > 0
    result = run_and_wait(qtbot, extraction)
    assert extraction.check_cells() == result.cells


def test_unreadable_file_is_reported_and_skipped(
    qtbot: Any, demo: Any, extraction: ExtractionController
) -> None:
    session = demo.session
    broken = dict(
        session.files_metadata["SimCell1"]["IDRest"][0], filepath="missing.nwb"
    )
    session.files_metadata["SimCell1"]["IDRest"].append(broken)
    result = run_and_wait(qtbot, extraction)
    assert [(cell, Path(path).name) for cell, path, _ in result.skipped] == [
        ("SimCell1", "missing.nwb")
    ]
    assert result.features


def test_b6b8_gui_export_equals_headless_and_oracle(
    qtbot: Any, controller: Any, extraction: ExtractionController, tmp_path: Path
) -> None:
    root = shared_path()
    oracle = shared_path("oracle", "bluepyefe-b6b8")
    inputs = json.loads((oracle / "inputs.json").read_text())
    controller.set_session(Session.from_dict(inputs, root))
    run_and_wait(qtbot, extraction)
    extraction.export(tmp_path / "gui")
    headless_export(controller.session, tmp_path / "headless")
    assert_same_files(tmp_path / "gui", tmp_path / "headless")
    ours = read_json(tmp_path / "gui" / "features.json")
    theirs = read_json(oracle / "features.json")
    assert ours.keys() == theirs.keys()
    for stimulus, locations in theirs.items():
        for mine, ref in zip(ours[stimulus]["soma"], locations["soma"], strict=True):
            assert mine["feature"] == ref["feature"]
            assert mine["val"] == pytest.approx(ref["val"], rel=1e-9)


def test_export_with_plots_writes_the_report_on_the_worker(
    qtbot: Any, demo: Any, extraction: ExtractionController, tmp_path: Path
) -> None:
    session = demo.session  # one cell, its rheobase and IDRest sweeps: fewer pages
    for cell in list(session.files_metadata)[1:]:
        del session.files_metadata[cell]
    for protocol in ("IV", "APWaveform"):
        del session.files_metadata["SimCell1"][protocol]
    session.targets = [t for t in session.targets if t["efeature"] == "Spikecount"]
    run_and_wait(qtbot, extraction)
    with qtbot.waitSignal(extraction.worker.job_finished, timeout=300_000) as job:
        written = extraction.export(tmp_path, plots=True)
    assert [p.name for p in written] == [
        "features.json",
        "protocols.json",
        "holding_threshold_currents.json",
        "efex_provenance.json",
    ]
    assert job.args[0] == "Writing plots"
    pdfs = sorted(p.name for p in tmp_path.rglob("*.pdf"))
    assert "IDRest_Spikecount_amp_rel.pdf" in pdfs
    assert "legend.pdf" in pdfs


def test_targets_and_settings_are_saved_with_the_session(
    qtbot: Any, demo: Any, extraction: ExtractionController, tmp_path: Path
) -> None:
    targets = extraction.targets[:3]
    targets[0]["efel_settings"] = {"Threshold": -5.0}
    extraction.set_targets(targets)
    extraction.set_settings(
        extraction.with_settings(protocol_mode="median", threshold_nvalue_save=2)
    )
    assert demo.is_dirty()
    demo.save_session(tmp_path / "session.json")
    with qtbot.waitSignal(extraction.targets_changed) as shown:
        demo.open_json(tmp_path / "session.json")
    assert shown.args[0] == targets == extraction.targets
    assert extraction.settings.protocol_mode == "median"
    assert extraction.settings.threshold_nvalue_save == 2
    assert extraction.result is None
    assert not extraction.is_stale()


def test_the_progress_bar_shows_only_for_runs_that_last(
    qtbot: Any, demo: Any, extraction: ExtractionController, monkeypatch: Any
) -> None:
    """A rerun after an exclusion (a fraction of a second) draws no bar; a long run
    shows its latest progress, at most every PROGRESS_DELAY_MS."""
    from efex_gui.app.extraction_worker import ExtractionProgress
    from efex_gui.widgets.extraction_panel import PROGRESS_DELAY_MS, ExtractionBar

    bar = ExtractionBar(extraction)
    qtbot.addWidget(bar)
    bar.show()
    monkeypatch.setattr(extraction, "is_running", lambda: True)
    bar._on_started()
    for done in range(1, 4):
        bar._on_progressed(ExtractionProgress("Extraction", done, 3, f"cell {done}"))
    assert bar.progress.isHidden(), "no bar at once"
    qtbot.waitUntil(lambda: not bar.progress.isHidden())
    assert (bar.progress.value(), bar.progress.format()) == (3, "3/3")
    assert bar.state.text() == "cell 3"
    bar._ended()
    assert bar.progress.isHidden()
    bar._on_started()
    bar._ended()  # a short run
    qtbot.wait(2 * PROGRESS_DELAY_MS)
    assert bar.progress.isHidden()


def test_a_folder_of_real_cells_is_extracted_from_what_browsing_read(
    qtbot: Any, controller: Any, extraction: ExtractionController
) -> None:
    """A folder's step windows come from the consensus, written after reading.

    The sweeps read must carry the window written into their entry: the first
    extraction read 445 of the SSCx folder's 505 entries again.
    """
    from efex_gui.core.session.folder_import import import_folder
    from tests.gui.helpers import load_everything

    found = import_folder(shared_path("sscx", "input-traces", "C060109A2-SR-C1"))
    controller.new_session(found.files_metadata, found.root)
    load_everything(qtbot, controller)
    keys = controller.dataset.entry_keys()
    written = [
        k for k in keys if controller.dataset.config(k).get("timing_source")
    ]  # fmt: skip
    assert len(written) > len(keys) // 2, "most entries got a window on reading"
    result = run_and_wait(qtbot, extraction)
    assert result.entries_read == 0
    assert result.entries_cached == len(keys)
