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


def test_a_cancelled_summary_stops_within_the_cell(demo_dir: Path) -> None:
    """The cancel is seen before each file is read for efel, not only between cells.

    The extraction shares the summary's thread: after an exclusion it must not wait
    for the summary of a whole cell.
    """
    import threading

    import pytest

    from efex_gui.core.analysis.cell_summary import SummaryContext, summarize_cells
    from efex_gui.core.errors import Cancelled

    files_metadata = json.loads((demo_dir / "files_metadata.json").read_text())
    cell = _create_cell(("SimCell1", copy.deepcopy(files_metadata["SimCell1"])))
    for recording in cell.recordings:  # as the extraction leaves them
        recording.t = recording.voltage = recording.current = None
    cancel = threading.Event()
    computed: list[Any] = []

    class StopAfterOne(SweepValuesCache):
        def get(self, recording: Any, efel_settings: Any = None) -> Any:
            computed.append(recording)
            cancel.set()  # asked to stop while the first sweep is computed
            return super().get(recording, efel_settings)

    context = SummaryContext(efel_settings=SETTINGS, cache=StopAfterOne())
    with pytest.raises(Cancelled):
        summarize_cells([cell], context, cancel=cancel)
    # the sweeps of the first file read (the demo's NWB file holds several), no more
    assert 0 < len(computed) < len(cell.recordings)
    assert len({r.config_data["filepath"] for r in computed}) == 1
