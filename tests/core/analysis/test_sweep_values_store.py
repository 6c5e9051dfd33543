"""The cell summary's per-sweep values kept in the persistent feature store (#14).

A second summary of the same sweeps (a reopened session, a second window: new
recording objects, an empty in-memory cache) takes every value from the store: no
efel call, no file read, the same summary. A changed efel setting or metadata value
gives other keys: those sweeps are computed again. Counted, not timed.
"""

from __future__ import annotations

import copy
import json
from typing import TYPE_CHECKING, Any

import pytest

from efex_gui.core.analysis.cell_summary import SummaryContext, summarize_cells
from efex_gui.core.analysis.sweep_values import SweepValuesCache
from efex_gui.core.extraction.feature_store import FeatureStore
from efex_gui.core.extraction.read_and_extract import _create_cell

if TYPE_CHECKING:
    from pathlib import Path

SETTINGS = {"strict_stiminterval": True, "Threshold": -20.0, "interp_step": 0.025}


def _cell(demo_dir: Path, ljp: float | None = None) -> Any:
    """SimCell1 read anew, traces dropped as an extraction leaves them."""
    files_metadata = json.loads((demo_dir / "files_metadata.json").read_text())
    protocols = copy.deepcopy(files_metadata["SimCell1"])
    if ljp is not None:
        protocols["IV"][0]["ljp"] = ljp
    cell = _create_cell(("SimCell1", protocols))
    for recording in cell.recordings:
        recording.t = recording.voltage = recording.current = None
    return cell


def _summary(cell: Any, store: FeatureStore | None, **settings: Any) -> Any:
    """The cell's summary and sweep values, from a fresh in-memory cache."""
    context = SummaryContext(
        efel_settings={**SETTINGS, **settings}, cache=SweepValuesCache(), store=store
    )
    summary = summarize_cells([cell], context)[0].to_json()
    protocols = {r.protocol_name for r in cell.recordings}
    values = [
        (s.recording.protocol_name, s.values) for s in context.sweeps(cell, protocols)
    ]
    return summary, values


def test_a_second_summary_takes_every_value_from_the_store(
    demo_dir: Path,
    tmp_path: Path,
    efel_calls: list[int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from efex_gui.core.recordings import traces

    cell = _cell(demo_dir)
    first = _summary(cell, FeatureStore(tmp_path))
    swept = sum(r.amp is not None for r in cell.recordings)
    assert efel_calls[0] >= swept > 0, "the first summary computes every sweep"
    efel_calls[0] = 0
    read: list[Any] = []
    real_reload = traces.reload_traces
    monkeypatch.setattr(
        traces, "reload_traces", lambda rs: read.extend(rs) or real_reload(rs)
    )
    # as after a reopen: other recording objects, another store object
    again = _summary(_cell(demo_dir), FeatureStore(tmp_path))
    assert efel_calls[0] == 0, "every value came from the persistent store"
    assert read == [], "and no file was read for efel"
    assert again == first


def test_a_changed_setting_or_metadata_value_computes_again(
    demo_dir: Path, tmp_path: Path, efel_calls: list[int]
) -> None:
    store = FeatureStore(tmp_path)
    cell = _cell(demo_dir)
    first = _summary(cell, store)
    swept = sum(r.amp is not None for r in cell.recordings)
    efel_calls[0] = 0
    _summary(_cell(demo_dir), store, Threshold=-25.0)
    assert efel_calls[0] == swept, "another efel setting: every sweep computed"
    efel_calls[0] = 0
    changed = _cell(demo_dir, ljp=10.0)
    shifted = _summary(changed, store)
    iv = sum(r.amp is not None and r.protocol_name == "IV" for r in changed.recordings)
    assert 0 < iv < swept
    assert efel_calls[0] == iv, "another IV metadata value: the IV sweeps only"
    # the IV values are the new ones (ljp subtracted), the others as before
    for (protocol, new), (_, old) in zip(shifted[1], first[1], strict=True):
        if protocol == "IV":
            shift = new["voltage_base"] - old["voltage_base"]
            assert shift == pytest.approx(-10.0)
        else:
            assert new == old


def test_a_damaged_stored_value_is_computed_again(
    demo_dir: Path, tmp_path: Path, efel_calls: list[int]
) -> None:
    store = FeatureStore(tmp_path)
    cell = _cell(demo_dir)
    first = _summary(cell, store)
    cache = SweepValuesCache()
    keys = [cache.stored_key(r, SETTINGS) for r in cell.recordings]
    damaged = next(k for k in keys if k is not None)
    store.put_many({damaged: {"voltage_base": "not a number"}})
    efel_calls[0] = 0
    assert _summary(_cell(demo_dir), store) == first
    assert efel_calls[0] == 1, "the damaged sweep only"
