"""Memory flat with the number of cells: counts of what holds traces (issue 14).

Counted, never measured as RSS: the background reads hand the GUI thread numbers, not
samples; the browser keeps the traces of at most ``TRACE_CACHE_ENTRIES`` entries (the
most recently drawn) and reads the others again when drawn; an extraction result
holds no trace.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import efex_gui.app.loading as loading
from efex_gui.core.session.dataset import SweepKey
from tests.gui.extraction_helpers import run_and_wait

if TYPE_CHECKING:
    from pathlib import Path

    import pytest

    from efex_gui.app.controller import SessionController


def _read_everything(qtbot: Any, controller: SessionController) -> None:
    controller.load_all()
    qtbot.waitUntil(lambda: not controller.is_busy(), timeout=120_000)


def _entries_with_traces(controller: SessionController) -> set[Any]:
    return {
        sweep.entry_key
        for sweep, recording in controller.store.read_recordings()
        if recording.voltage is not None
    }


def test_background_reads_hand_over_numbers_not_traces(
    qtbot: Any, controller: SessionController, demo_dir: Path
) -> None:
    batches: list[Any] = []
    controller.store._worker.yielded.connect(batches.append)
    controller.open_json(demo_dir / "config.json")
    _read_everything(qtbot, controller)
    handed = [job[0] for batch in batches for group in batch for job in group]
    assert len(handed) == len(controller.dataset.entry_keys())
    recordings = [r for entry in handed for r in entry.recordings if r is not None]
    assert recordings
    assert all(r.voltage is None and r.reader_data is None for r in recordings)
    assert not any(r.spikecount_pending for r in recordings), "counted on the worker"
    assert all(entry.raw == {} for entry in handed)
    assert not _entries_with_traces(controller)


def test_the_browser_keeps_the_traces_of_the_last_drawn_entries_only(
    qtbot: Any,
    controller: SessionController,
    demo_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(loading, "TRACE_CACHE_ENTRIES", 3)
    controller.open_json(demo_dir / "config.json")
    _read_everything(qtbot, controller)
    keys = controller.dataset.entry_keys()[:7]
    assert len(keys) == 7
    for key in keys:
        drawn = controller.recordings_for(
            SweepKey(key.cell, key.protocol, key.entry, None)  # every trace
        )
        assert drawn
        assert all(r.voltage is not None for r in drawn)
    assert _entries_with_traces(controller) == set(keys[-3:])

    from efex_gui.app.extraction_controller import ExtractionController

    extraction = ExtractionController(controller)
    try:
        result = run_and_wait(qtbot, extraction)
        held = [r for cell in result.cells for r in cell.recordings]
        assert held
        assert not any(r.voltage is not None for r in held), "the result holds none"
        assert _entries_with_traces(controller) == set(keys[-3:])
    finally:
        assert extraction.shutdown()


def test_free_memory_goes_back_to_the_system_after_reading_and_extracting(
    qtbot: Any,
    controller: SessionController,
    demo_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The traces read are freed, but the C heaps keep the pages until trimmed."""
    import efex_gui.app.extraction_controller as extraction_module
    from efex_gui.app.extraction_controller import ExtractionController

    calls: list[str] = []
    monkeypatch.setattr(
        loading, "give_back_free_memory", lambda: calls.append("read") or True
    )
    monkeypatch.setattr(
        extraction_module,
        "give_back_free_memory",
        lambda: calls.append("extracted") or True,
    )
    controller.open_json(demo_dir / "config.json")
    _read_everything(qtbot, controller)
    assert calls == ["read"]
    extraction = ExtractionController(controller)
    try:
        result = run_and_wait(qtbot, extraction)
        assert result.stats.computed  # efel ran on traces (read again, or borrowed)
        assert calls == ["read", "extracted"]
    finally:
        assert extraction.shutdown()


def test_the_c_library_trim_is_found_on_glibc() -> None:
    import platform
    import sys

    import pytest

    from efex_gui.app import os_memory

    if not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc":
        pytest.skip("malloc_trim is glibc's: elsewhere nothing is trimmed")
    assert os_memory._malloc_trim() is not None
    assert isinstance(os_memory.give_back_free_memory(), bool)


def test_a_run_shares_the_entry_dicts_the_gui_replaces_and_never_changes(
    qtbot: Any, controller: SessionController, demo_dir: Path
) -> None:
    """The worker's copy of files_metadata held a deep copy of every entry (0.3 kB a
    sweep): it shares them now, because the GUI replaces an entry's dict (an edit, a
    consensus window written in on reading), never changes it in place."""
    from efex_gui.app.extraction_controller import _SessionSnapshots
    from tests.conftest import held_bytes

    controller.open_json(demo_dir / "config.json")
    key = controller.dataset.entry_keys()[0]
    given = controller.dataset.config(key)
    assert "ton" not in given  # the demo's windows come from the consensus
    _read_everything(qtbot, controller)
    written = controller.dataset.config(key)
    assert "ton" in written
    assert written is not given
    assert "ton" not in given, "written into a new dict, not into the old one"

    snapshots = _SessionSnapshots()
    run = snapshots.copy(controller.session).files_metadata
    assert run[key.cell][key.protocol][key.entry] is written
    assert snapshots.copy(controller.session).files_metadata is run  # unchanged
    whole = held_bytes(controller.session.files_metadata)
    assert held_bytes(run, controller.session.files_metadata) < whole / 4

    controller.set_metadata([key], {"ljp": 5.0})
    assert run[key.cell][key.protocol][key.entry] is written
    assert written.get("ljp") != 5.0
    again = snapshots.copy(controller.session).files_metadata
    assert again is not run
    assert again[key.cell][key.protocol][key.entry]["ljp"] == 5.0


def test_the_browser_and_the_result_keep_compact_per_sweep_dicts(
    qtbot: Any, controller: SessionController, demo_dir: Path
) -> None:
    from efex_gui.app.extraction_controller import ExtractionController
    from efex_gui.core.recordings.compact import CompactMapping

    controller.open_json(demo_dir / "config.json")
    _read_everything(qtbot, controller)
    read = [r for _, r in controller.store.read_recordings()]
    assert read
    assert all(isinstance(r.config_data, CompactMapping) for r in read)
    assert len({id(r.export_attr) for r in read}) == len({type(r) for r in read})
    extraction = ExtractionController(controller)
    try:
        result = run_and_wait(qtbot, extraction)
        held = [r for cell in result.cells for r in cell.recordings]
        assert any(r.efeatures for r in held)
        assert all(isinstance(r.efeatures, CompactMapping) for r in held)
        # an exclusion reruns on the kept copies: features compact, numbers there
        ref = result.sweep_ref(held[4])
        key = controller.exclusion_key(
            SweepKey(ref.cell, ref.protocol, ref.entry, ref.index)
        )
        with qtbot.waitSignal(extraction.update_timed, timeout=60_000):
            controller.set_excluded([key], True, "test")
        second = extraction.result
        assert second is not result
        assert (second.stats.computed, second.stats.efel_calls) == (0, 0)
        again = [r for cell in second.cells for r in cell.recordings]
        assert len(again) == len(held) - 1
        assert all(isinstance(r.efeatures, CompactMapping) for r in again)
        assert second.features
    finally:
        assert extraction.shutdown()


def test_once_everything_is_read_the_store_keeps_no_table_per_entry_for_nothing(
    qtbot: Any, controller: SessionController, demo_dir: Path
) -> None:
    """No entry's "no fix needed", no emptied table of reads in flight (28 B each)."""
    import sys

    controller.open_json(demo_dir / "config.json")
    _read_everything(qtbot, controller)
    store = controller.store
    assert len(list(store.read_recordings())) > 8
    assert store._fix == {}, "every demo sweep is interpreted"
    assert store._in_flight == {}
    assert sys.getsizeof(store._in_flight) == sys.getsizeof({})
