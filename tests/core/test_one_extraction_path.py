"""The CLI's and the GUI's extraction: one reading, one per-cell task, same numbers."""

from __future__ import annotations

import copy
import json
from collections import Counter
from typing import TYPE_CHECKING, Any

import pytest

from efex_gui.core.extraction.cell_task import CellTask
from efex_gui.core.extraction.incremental import IncrementalExtractor
from efex_gui.core.extraction.pipeline import extract_efeatures
from efex_gui.core.session.document import ExtractionSettings, Session
from efex_gui.core.synthetic.demo import DEMO_TARGETS
from tests.core.test_shared_reads import count_nwb_reads

if TYPE_CHECKING:
    from pathlib import Path


def _session(demo_dir: Path, targets: Any = "demo") -> Session:
    files_metadata = json.loads(
        (demo_dir / "files_metadata.json").read_text(encoding="utf-8")
    )
    return Session(
        files_metadata=files_metadata,
        targets=list(copy.deepcopy(DEMO_TARGETS)) if targets == "demo" else targets,
        settings=ExtractionSettings(protocols_rheobase=["IDthresh", "IDRest"]),
    )


def _outputs(outputs: Any) -> list[str]:
    return [json.dumps(o, sort_keys=True, default=repr) for o in outputs]


def test_a_file_listed_under_two_protocols_is_read_once_by_both_paths(
    demo_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # SSCx's layout: a "Step" protocol whose entries are the IDRest sweeps
    session = _session(demo_dir)
    cell = session.files_metadata["SimCell1"]
    cell["Step"] = [{**cell["IDRest"][0], "protocol_name": "IDRest"}]
    session.targets.append(
        {**session.targets[0], "protocol": "Step", "efeature": "Spikecount"}
    )
    reads = count_nwb_reads(monkeypatch)
    result = IncrementalExtractor().run(session)
    gui_reads = dict(reads)
    assert gui_reads[("SimCell1.nwb", "IDRest")] == 1, "IDRest and Step read once"
    assert set(gui_reads.values()) == {1}
    protocols = Counter(r.protocol_name for r in result.cell("SimCell1").recordings)
    assert protocols["Step"] == protocols["IDRest"] > 0
    reads.clear()
    full = extract_efeatures(None, **session.to_extract_kwargs())
    assert dict(reads) == gui_reads
    mine = (result.features, result.protocol_definitions, result.currents)
    assert _outputs(mine) == _outputs(full)


def _spy(
    monkeypatch: pytest.MonkeyPatch, step: str, calls: list[tuple[str, str]]
) -> None:
    """Record ``(step, cell)`` for each call of the per-cell step ``step``."""
    real = getattr(CellTask, step)

    def spy(task: CellTask, cell: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append((step, cell.name))
        return real(task, cell, *args, **kwargs)

    monkeypatch.setattr(CellTask, step, spy)


@pytest.mark.parametrize("targets", ["demo", None], ids=["targets", "auto"])
def test_both_paths_run_the_same_per_cell_steps(
    demo_dir: Path, monkeypatch: pytest.MonkeyPatch, targets: Any
) -> None:
    calls: list[tuple[str, str]] = []
    for step in ("compute_rheobase", "features"):
        _spy(monkeypatch, step, calls)
    session = _session(demo_dir, targets)
    rheobase = IncrementalExtractor().run(session).cell("SimCell2").rheobase
    session.rheobase_overrides = {"SimCell2": rheobase * 0.8}
    calls.clear()
    result = IncrementalExtractor().run(session)
    gui_calls = sorted(calls)
    calls.clear()
    full = extract_efeatures(None, **session.to_extract_kwargs())
    assert sorted(calls) == gui_calls
    assert gui_calls == sorted(
        (step, cell)
        for step in ("compute_rheobase", "features")
        for cell in ("SimCell1", "SimCell2")
    )
    assert result.cell("SimCell2").rheobase == rheobase * 0.8
    assert result.computed_rheobase["SimCell2"] == rheobase
    mine = (result.features, result.protocol_definitions, result.currents)
    assert _outputs(mine) == _outputs(full)


def test_low_memory_stage_is_the_stage_with_traces_dropped(demo_dir: Path) -> None:
    from efex_gui.extract import _read_extract, _read_extract_low_memory

    files_metadata = _session(demo_dir).files_metadata
    targets = list(copy.deepcopy(DEMO_TARGETS))
    settings = {"Threshold": -20.0, "interp_step": 0.025, "strict_stiminterval": True}
    low = _read_extract_low_memory(
        copy.deepcopy(files_metadata), None, copy.deepcopy(targets), settings
    )
    full = _read_extract(
        copy.deepcopy(files_metadata), None, map, copy.deepcopy(targets), settings
    )
    assert _outputs(r.efeatures for c in low for r in c.recordings) == _outputs(
        r.efeatures for c in full for r in c.recordings
    )
    assert any(r.efeatures for c in low for r in c.recordings)
    assert all(r.voltage is None for c in low for r in c.recordings)
    assert all(r.voltage is not None for c in full for r in c.recordings)
