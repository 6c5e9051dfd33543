"""SessionController: commands in, signals out; reading off the GUI thread; undo."""

from __future__ import annotations

import threading
import tracemalloc
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import pytest

from efex_gui.app.controller import SessionController
from efex_gui.app.entries_read import EntriesRead
from efex_gui.app.worker import ErrorReport, TaskContext
from efex_gui.core.session.dataset import EntryKey, SweepKey
from efex_gui.core.session.document import Session
from efex_gui.core.session.exclusions import ExclusionKey
from tests.conftest import shared_path
from tests.gui.helpers import b6b8_files_metadata, load_everything

if TYPE_CHECKING:
    from pathlib import Path


def test_opening_lists_without_reading(
    qtbot: Any, controller: SessionController, demo_dir: Path
) -> None:
    with qtbot.waitSignal(controller.session_changed):
        controller.open_json(demo_dir / "config.json")
    assert controller.dataset.cells() == ["SimCell1", "SimCell2"]
    assert not any(
        controller.dataset.is_loaded(k) for k in controller.dataset.entry_keys()
    )
    sweep = controller.dataset.sweeps("SimCell1", "IDRest")[0]
    assert controller.summary(sweep).status == "not read"


def test_reading_happens_on_the_worker_thread(
    qtbot: Any,
    controller: SessionController,
    demo_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import efex_gui.app.loading as loading

    threads = []
    original = loading.load_protocol_group

    def spy(jobs: Any, *args: Any, **kwargs: Any) -> Any:
        threads.extend([threading.current_thread()] * len(jobs))  # one per entry
        return original(jobs, *args, **kwargs)

    monkeypatch.setattr(loading, "load_protocol_group", spy)
    controller.open_json(demo_dir / "config.json")
    with qtbot.waitSignal(controller.rheobase_changed, timeout=120_000) as rheobase:
        controller.load_all()
        controller.load_all()  # a second request must not read anything twice
    assert threads
    assert threading.main_thread() not in threads
    assert len(threads) == len(controller.dataset.entry_keys())
    assert set(rheobase.args[0]) == {"SimCell1", "SimCell2"}
    qtbot.waitUntil(
        lambda: all(
            controller.dataset.is_loaded(k) for k in controller.dataset.entry_keys()
        )
    )
    sweeps = controller.dataset.sweeps("SimCell1", "IDRest")
    assert len(sweeps) == 8
    summaries = [controller.summary(s) for s in sweeps]
    assert all(s.status == "ok" and s.amp is not None for s in summaries)
    assert any(s.amp_rel is not None for s in summaries)
    pending = [r.spikecount_pending for _s, r in controller.store.read_recordings()]
    assert pending
    assert not any(pending), "spikes are counted by the worker"


def test_read_recordings_lists_what_was_read_in_tree_order(
    qtbot: Any, controller: SessionController, demo_dir: Path
) -> None:
    controller.open_json(demo_dir / "config.json")
    assert list(controller.store.read_recordings()) == []
    load_everything(qtbot, controller)
    expected = [
        (s, controller.store.recording(s)) for s in controller.dataset.all_sweeps()
    ]
    assert list(controller.store.read_recordings()) == expected
    assert all(r is not None for _s, r in expected)


def test_exclusions_undo_and_redo(
    qtbot: Any, controller: SessionController, demo_dir: Path
) -> None:
    controller.open_json(demo_dir / "config.json")
    key = ExclusionKey("SimCell1", "IV")
    with qtbot.waitSignal(controller.exclusions_changed) as changed:
        controller.set_excluded([key], True, "leaky seal")
    assert changed.args[0].reason(key) == "leaky seal"
    assert controller.is_dirty()
    with qtbot.waitSignal(controller.exclusions_changed):
        controller.undo_stack.undo()
    assert not controller.is_excluded(key)
    controller.undo_stack.redo()
    assert controller.session.exclusions.reason(key) == "leaky seal"
    controller.set_excluded([ExclusionKey("SimCell1", "IV", "SimCell1.nwb")], False)
    assert not controller.is_excluded(key)


def test_an_exclusion_recomputes_the_rheobase_of_its_cell(
    qtbot: Any, controller: SessionController, demo_dir: Path
) -> None:
    from efex_gui.app.rheobases import compute_rheobases

    controller.open_json(demo_dir / "config.json")
    load_everything(qtbot, controller)
    before = dict(controller.store.rheobases)
    assert all(v is not None for v in before.values())
    with qtbot.waitSignal(controller.rheobase_changed) as changed:
        controller.set_excluded([ExclusionKey("SimCell1")], True)
    full = compute_rheobases(
        controller.dataset, controller.store._recordings, controller.session
    )
    assert changed.args[0] == full == {"SimCell1": None, "SimCell2": before["SimCell2"]}
    sweep = controller.dataset.sweeps("SimCell1", "IDRest")[0]
    assert controller.summary(sweep).amp_rel is None
    controller.undo_stack.undo()
    assert controller.store.rheobases == before
    assert controller.summary(sweep).amp_rel is not None


def test_metadata_edit_rereads_and_undoes(
    qtbot: Any, controller: SessionController, demo_dir: Path
) -> None:
    controller.open_json(demo_dir / "config.json")
    load_everything(qtbot, controller)
    entry = EntryKey("SimCell1", "IDRest", 0)
    sweep = SweepKey("SimCell1", "IDRest", 0, 3)
    before = controller.recordings_for(sweep)[0].voltage.copy()
    with qtbot.waitSignal(controller.metadata_changed):
        controller.set_metadata([entry], {"ljp": 10.0})
    assert controller.dataset.config(entry)["ljp"] == 10.0
    after = controller.recordings_for(sweep)[0].voltage
    assert after == pytest.approx(before - 10.0)
    controller.undo_stack.undo()
    assert "ljp" not in controller.dataset.config(entry)
    assert controller.session.files_metadata["SimCell1"]["IDRest"][
        0
    ] == controller.dataset.config(entry)


def test_the_gui_keeps_read_only_entries_and_an_edit_replaces_one(
    qtbot: Any, controller: SessionController, demo_dir: Path, tmp_path: Path
) -> None:
    """Read-only entries are what lets a run and the plans share them instead of
    copying them (0.4 kB a sweep); an edit or an undo replaces one."""
    import json

    from efex_gui.core.recordings.compact import CompactMapping

    controller.open_json(demo_dir / "config.json")
    given = json.loads((demo_dir / "config.json").read_text())["files_metadata"]
    entry = EntryKey("SimCell1", "IV", 0)
    config = controller.dataset.config(entry)
    assert isinstance(config, CompactMapping)
    with pytest.raises(TypeError):
        config["ljp"] = 14.0  # type: ignore[index]
    with qtbot.waitSignal(controller.metadata_changed):
        controller.set_metadata([entry], {"ljp": 14.0})
    edited = controller.dataset.config(entry)
    assert edited is not config
    assert isinstance(edited, CompactMapping)
    assert "ljp" not in config
    path = controller.save_session(tmp_path / "s.json")
    saved = json.loads(path.read_text())["files_metadata"]
    assert saved["SimCell1"]["IV"][0] == {**given["SimCell1"]["IV"][0], "ljp": 14.0}
    assert saved["SimCell2"] == given["SimCell2"]


def test_corrupt_file_is_an_error_row(
    qtbot: Any, controller: SessionController, demo_dir: Path, tmp_path: Path
) -> None:
    (tmp_path / "broken.nwb").write_bytes(b"\x89HDF\r\n\x1a\n" + b"\x00" * 50)
    good = demo_dir / "SimCell1.nwb"
    fm = {
        "good": {
            "IDRest": [
                {"filepath": str(good), "i_unit": "A", "v_unit": "V", "t_unit": "s"}
            ]
        },
        "bad": {
            "IDRest": [
                {"filepath": "broken.nwb", "i_unit": "A", "v_unit": "V", "t_unit": "s"}
            ]
        },
    }
    controller.new_session(fm, tmp_path)
    load_everything(qtbot, controller)
    (bad,) = controller.dataset.sweeps("bad", "IDRest")
    summary = controller.summary(bad)
    assert summary.status == "unreadable"
    assert "broken.nwb" in summary.reason
    assert controller.recordings_for(bad) == []
    assert all(
        controller.summary(s).status == "ok"
        for s in controller.dataset.sweeps("good", "IDRest")
    )


def test_session_save_and_reopen_is_identical(
    qtbot: Any, controller: SessionController, demo_dir: Path, tmp_path: Path
) -> None:
    controller.open_json(demo_dir / "config.json")
    load_everything(qtbot, controller)
    sweep = controller.dataset.sweeps("SimCell2", "IDRest")[2]
    controller.set_excluded([controller.exclusion_key(sweep)], True, "drift")
    controller.set_metadata([EntryKey("SimCell1", "IV", 0)], {"ljp": 14.0})
    controller.set_ecode_override("APWaveform", "Step")
    path = controller.save_session(tmp_path / "project" / "s.json")
    assert not controller.is_dirty()
    before = controller.session
    other = SessionController()
    try:
        other.open_json(path)
        assert other.session == before
        assert other.session.exclusions.reason(other.exclusion_key(sweep)) == "drift"
        assert not other.is_dirty()
        assert Session.load(path).to_extract_kwargs() == before.to_extract_kwargs()
    finally:
        other.shutdown()


def test_worker_reports_failure_and_cancellation(
    qtbot: Any, controller: SessionController
) -> None:
    def boom(context: TaskContext) -> None:
        raise ValueError("bad value in file x")

    with qtbot.waitSignal(controller.task_failed) as failed:
        controller.run_in_worker("Boom", boom)
    report = failed.args[0]
    assert isinstance(report, ErrorReport)
    assert "bad value" in report.message
    assert "ValueError" in report.details

    started = threading.Event()

    def endless(context: TaskContext) -> None:
        started.set()
        while True:
            context.check()
            context.progress(1, 2, "waiting")

    with qtbot.waitSignal(controller.task_cancelled, timeout=10_000):
        controller.run_in_worker("Endless", endless)
        qtbot.waitUntil(started.is_set)
        controller.cancel_task()
    assert not controller.is_busy()


def test_b6b8_relative_amplitudes_follow_the_spec(
    qtbot: Any, controller: SessionController
) -> None:
    root = shared_path("bluepyefe-exp-data")
    controller.new_session(b6b8_files_metadata(), root)
    controller.session.settings.protocols_rheobase = ["IDRest"]
    load_everything(qtbot, controller)
    # spec §10.2: absolute rheobases 0.118744 / 0.093745; sweep 183 at 200 %
    rheobases = controller.store.rheobases
    assert rheobases["MouseNeuron1"] == pytest.approx(0.118744, abs=1e-6)
    assert rheobases["MouseNeuron2"] == pytest.approx(0.093745, abs=1e-6)
    third = controller.summary(controller.dataset.sweeps("MouseNeuron1", "IDRest")[2])
    assert third.amp_rel == pytest.approx(200.0, abs=0.01)
    assert third.spikecount == 68


def test_what_was_read_is_handed_to_each_rerun_as_a_snapshot(
    qtbot: Any, controller: SessionController, demo_dir: Path
) -> None:
    """Every rerun after an exclusion asks for what the browser read (7 000 entries
    at 44 cells): the same snapshot until something is read or forgotten; one
    handed out never changes; it holds the store's recordings, not copies."""
    controller.open_json(demo_dir / "config.json")
    load_everything(qtbot, controller)
    store = controller.store
    first = store.entries_read()
    assert first
    assert store.entries_read() is first
    key = next(iter(controller.dataset.entry_keys()))
    ref = (key.cell, key.protocol, key.entry)
    _, recordings = first[ref]
    assert recordings[0] is store.recording(SweepKey(*ref, 0))
    store.forget(key)
    second = store.entries_read()
    assert second is not first
    assert ref in first
    assert ref not in second
    with qtbot.waitSignal(controller.entries_loaded, timeout=60_000):
        store.load([key])
    third = store.entries_read()
    assert ref in third
    other = next(r for r in second if r != ref)
    assert third[other][1] is second[other][1] is first[other][1]
    # the entries read with the same settings share one read-only settings object
    assert len({id(settings) for settings, _ in third.values()}) == 1
    assert ("no such cell", "IDRest", 0) not in third
    assert "not a reference" not in third


def test_the_snapshot_of_what_was_read_holds_nothing_per_entry_of_its_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A tuple, a key, a settings dict and a list per entry took 0.4 kB a sweep."""
    from efex_gui.app import browsed_recordings

    monkeypatch.setattr(browsed_recordings, "LIVE_SWEEPS", 10**6)
    settings = MappingProxyType({"Threshold": -20.0})
    keys = [EntryKey(f"cell{i // 100}", "IDRest", i % 100) for i in range(5_000)]
    recordings = browsed_recordings.BrowsedRecordings(lambda cell, entries: None)
    for key in keys:
        recordings.set(key, [object()])
    read = dict.fromkeys(keys, settings)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        snapshot = EntriesRead(recordings, read)
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert len(snapshot) == len(keys)
    assert snapshot["cell3", "IDRest", 7] == (settings, recordings.live(keys[307]))
    assert held / len(keys) < 150
