"""The browser's reading plan names each read as it is read (its protocol_name)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

    import pytest


def test_an_nwb_file_listed_twice_in_a_cell_is_read_once(
    qtbot: Any, controller: Any, demo_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An NWB read depends on its protocol_name: the plan must carry it to match."""
    from tests.core.test_shared_reads import count_nwb_reads

    demo = json.loads((demo_dir / "files_metadata.json").read_text())
    entry = dict(demo["SimCell1"]["IDRest"][0])
    del entry["protocol_name"]  # read under its protocol's name, as BluePyEfe does
    controller.new_session({"SimCell1": {"IDRest": [entry, dict(entry)]}}, demo_dir)
    reads = count_nwb_reads(monkeypatch)
    controller.load_all()
    qtbot.waitUntil(lambda: not controller.is_busy(), timeout=120_000)
    read = controller.store.cell_recordings("SimCell1")
    assert {sweep.entry for sweep, _ in read} == {0, 1}  # both entries, all sweeps
    assert reads == {("SimCell1.nwb", "IDRest"): 1}
