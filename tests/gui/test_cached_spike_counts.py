"""The browser's spike counts come from the persistent cache when it has them (#14).

Reopening a session (or a second window on the same data) reads the files again for
the browser; the spike count of every sweep (one efel call each: 10 800 on 44 cells)
is taken from the persistent feature cache the first reading filled. Counted, not
timed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from efex_gui.app.controller import SessionController

if TYPE_CHECKING:
    from pathlib import Path

    import pytest


def _read(qtbot: Any, demo_dir: Path) -> dict[Any, Any]:
    """Open the demo in a new controller, read it all; the spike count per sweep."""
    controller = SessionController()
    try:
        controller.open_json(demo_dir / "config.json")
        controller.load_all()
        qtbot.waitUntil(lambda: not controller.is_busy(), timeout=120_000)
        return {
            sweep: recording.spikecount
            for sweep, recording in controller.store.read_recordings()
        }
    finally:
        controller.shutdown()


def test_a_second_reading_counts_spikes_from_the_persistent_cache(
    qtbot: Any, demo_dir: Path, efel_calls: list[int]
) -> None:
    calls = efel_calls
    first = _read(qtbot, demo_dir)
    assert calls[0] >= len(first) > 0, "the first reading counts every sweep"
    assert any(count for count in first.values()), "the demo has spiking sweeps"
    calls[0] = 0
    second = _read(qtbot, demo_dir)
    assert calls[0] == 0, "every count came from the persistent cache"
    assert second == first


def test_without_the_cache_every_sweep_is_counted(
    qtbot: Any, demo_dir: Path, monkeypatch: pytest.MonkeyPatch, efel_calls: list[int]
) -> None:
    monkeypatch.setenv("EFEX_NO_CACHE", "1")
    first = _read(qtbot, demo_dir)
    calls = efel_calls
    calls[0] = 0
    second = _read(qtbot, demo_dir)
    assert calls[0] >= len(second), "no cache: each sweep counted again"
    assert second == first
