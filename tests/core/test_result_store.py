"""Saved results beside a session file, and the atomic writer's permissions."""

from __future__ import annotations

import os
import pickle
import stat
import sys
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

from efex_gui.core.atomic_files import atomic_write_text
from efex_gui.core.export.outputs import write_json_atomic
from efex_gui.core.extraction import result_store
from efex_gui.core.session.document import Session

if TYPE_CHECKING:
    from pathlib import Path


class _Boom:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, ("echo pwned > /dev/null",))


def test_a_results_file_cannot_run_code(tmp_path: Path) -> None:
    path = tmp_path / "evil.efex-results"
    document = {"kind": result_store.KIND, "format_version": 1, "result": _Boom()}
    path.write_bytes(pickle.dumps(document))
    assert result_store.load_result(path) is None


def test_foreign_or_missing_results_are_ignored(tmp_path: Path) -> None:
    assert result_store.load_result(tmp_path / "none.efex-results") is None
    path = tmp_path / "x.efex-results"
    path.write_bytes(pickle.dumps({"kind": "other"}))
    assert result_store.load_result(path) is None


def test_results_path_sits_beside_the_session(tmp_path: Path) -> None:
    assert result_store.results_path(tmp_path / "cur.json") == (
        tmp_path / "cur.efex-results"
    )


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_saved_and_exported_files_respect_the_umask(tmp_path: Path, umask: int) -> None:
    old = os.umask(umask)
    try:
        atomic_write_text(tmp_path / "a.txt", "x")
        write_json_atomic(tmp_path / "features.json", {"a": 1})
        Session(files_metadata={}).save(tmp_path / "s.json")
    finally:
        os.umask(old)
    for name in ("a.txt", "features.json", "s.json"):
        mode = stat.S_IMODE((tmp_path / name).stat().st_mode)
        assert mode == 0o666 & ~umask, (name, oct(mode))


def _demo_result(demo_dir: Path) -> tuple[Session, Any]:
    import copy
    import json

    from efex_gui.core.extraction.incremental import IncrementalExtractor
    from efex_gui.core.session.document import ExtractionSettings
    from efex_gui.core.synthetic.demo import DEMO_TARGETS

    files_metadata = json.loads((demo_dir / "files_metadata.json").read_text())
    session = Session(
        files_metadata=files_metadata,
        targets=copy.deepcopy(list(DEMO_TARGETS)),
        settings=ExtractionSettings(protocols_rheobase=["IDthresh", "IDRest"]),
    )
    return session, IncrementalExtractor().run(session)


def test_saved_results_hold_no_trace_and_leave_the_shown_ones_alone(
    demo_dir: Path, tmp_path: Path
) -> None:
    """Results files grow with the sweeps, not their samples; traces re-read later."""
    from efex_gui.core.recordings.traces import reload_traces, traces_reloaded

    session, result = _demo_result(demo_dir)
    recordings = [r for cell in result.cells for r in cell.recordings]
    shown = reload_traces(recordings[:5])  # the GUI draws these right now
    assert len(shown) == 5
    path = result_store.save_result(result, session, tmp_path / "s.efex-results")

    assert all(r.voltage is not None for r in shown), "the drawn traces stay"
    stored = result_store.load_result(path)
    assert stored is not None
    loaded = [r for cell in stored.result.cells for r in cell.recordings]
    assert len(loaded) == len(recordings)
    assert all(
        getattr(r, name) is None
        for r in loaded
        for name in (*result_store.TRACE_ATTRIBUTES, "reader_data")
    )
    assert [r.efeatures for r in loaded] == [r.efeatures for r in recordings]
    with traces_reloaded(loaded[:5]) as back:
        assert len(back) == 5
        for again, original in zip(back, shown, strict=True):
            assert np.array_equal(again.voltage, original.voltage)
    assert stored.result.sweep_ref(loaded[0]) == result.sweep_ref(recordings[0])


def test_reading_results_back_pauses_the_garbage_collector(
    demo_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Unpickling makes thousands of containers: the collector must not walk them."""
    import gc

    session, result = _demo_result(demo_dir)
    path = result_store.save_result(result, session, tmp_path / "s.efex-results")
    collecting: list[bool] = []
    original = result_store._SafeUnpickler.load

    def load(self: Any) -> Any:
        collecting.append(gc.isenabled())
        return original(self)

    monkeypatch.setattr(result_store._SafeUnpickler, "load", load)
    was_enabled = gc.isenabled()
    gc.enable()
    try:
        stored = result_store.load_result(path, check_files=False)
        enabled_after = gc.isenabled()
    finally:
        if not was_enabled:
            gc.disable()
    assert stored is not None
    assert len(stored.result.cells) == len(result.cells)
    assert collecting == [False], "no automatic collection while unpickling"
    assert enabled_after, "the collector is switched on again"


def test_results_read_back_are_as_compact_as_a_run_leaves_them(
    demo_dir: Path, tmp_path: Path
) -> None:
    """A reopened result took the memory of plain dicts again (issue 14)."""
    from efex_gui.core.recordings.compact import CompactMapping
    from tests.conftest import held_bytes

    session, result = _demo_result(demo_dir)
    path = result_store.save_result(result, session, tmp_path / "s.efex-results")
    plain = pickle.loads(path.read_bytes())["result"]  # what was read before
    stored = result_store.load_result(path, check_files=False)
    assert stored is not None
    loaded = [r for cell in stored.result.cells for r in cell.recordings]
    before = [r for cell in plain.cells for r in cell.recordings]
    assert all(isinstance(r.efeatures, CompactMapping) for r in loaded)
    assert all(isinstance(r.config_data, CompactMapping) for r in loaded)
    assert [r.efeatures for r in loaded] == [dict(r.efeatures) for r in before]
    assert [r.config_data for r in loaded] == [r.config_data for r in before]
    assert [r.spikecount for r in loaded] == [r.spikecount for r in before]
    assert held_bytes(loaded) < 0.9 * held_bytes(before)  # 0.85 on the demo
