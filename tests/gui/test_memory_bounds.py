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
        assert result.entries_read
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
