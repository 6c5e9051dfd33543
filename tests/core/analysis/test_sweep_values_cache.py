"""Sweep values found again without the traces (the extraction drops them)."""

from __future__ import annotations

import copy
import json
from typing import TYPE_CHECKING, Any

from efex_gui.core.analysis.sweep_values import SweepValuesCache
from efex_gui.core.extraction.read_and_extract import _create_cell

if TYPE_CHECKING:
    from pathlib import Path

    import pytest

SETTINGS = {"strict_stiminterval": True, "Threshold": -20.0, "interp_step": 0.025}


def test_values_are_found_on_a_copy_without_traces_and_no_file_is_read(
    demo_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from efex_gui.core.recordings import traces

    files_metadata = json.loads((demo_dir / "files_metadata.json").read_text())
    protocols = {"IV": copy.deepcopy(files_metadata["SimCell1"]["IV"])}
    recordings = _create_cell(("SimCell1", protocols)).recordings
    cache = SweepValuesCache()
    computed = [cache.get(r, SETTINGS) for r in recordings]
    assert all(v is not None for v in computed)
    # the same sweeps read again, their traces dropped (as an extraction leaves them)
    again = _create_cell(("SimCell1", copy.deepcopy(protocols))).recordings
    for recording in again:
        recording.t = recording.voltage = recording.current = None
    read: list[Any] = []
    monkeypatch.setattr(traces, "reload_traces", lambda rs: read.append(rs) or [])
    known = [cache.known(r, SETTINGS) for r in again]
    assert read == []
    assert [k.values for k in known] == [v.values for v in computed]
    assert all(k.recording is r for k, r in zip(known, again, strict=True))
