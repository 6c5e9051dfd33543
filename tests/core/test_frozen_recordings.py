"""FrozenEntries: the browser's cells not in use, pickled and compressed (issue 14)."""

from __future__ import annotations

import numpy as np
import pytest

from efex_gui.core.recordings.compact import (
    CompactMapping,
    KeyMemo,
    compact_for_browsing,
)
from efex_gui.core.recordings.ecodes.step import Step
from efex_gui.core.recordings.frozen import FrozenEntries
from efex_gui.core.recordings.sweep_qc import measure
from efex_gui.core.session.dataset import EntryKey
from tests.conftest import held_bytes


def _entry(cell: str, position: int, n: int) -> list[Step]:
    """An entry's sweeps as the browser keeps them: measured, counted, no traces."""
    t = np.arange(0, 1.0, 1e-4)
    config = {
        "filepath": f"/data/{cell}/sweeps_{position}.nwb",
        "i_unit": "A",
        "v_unit": "V",
        "t_unit": "s",
        "dt": 1e-4,
        "ton": 200.0,
        "toff": 700.0,
        "protocol_name": "IDRest",
    }
    recordings = []
    for index in range(n):
        current = np.where((t > 0.2) & (t < 0.7), (index + 1) * 1e-10, 0.0)
        voltage = -0.07 + 1e-3 * np.sin(t * (50 + index))
        recording = Step(config, {"current": current, "voltage": voltage}, "IDRest")
        measure(recording)
        recording.peak_time = np.array([250.0 + index, 400.0])
        recording.cache_keys = KeyMemo()
        recording.cache_keys["identity"] = f"{cell}-{position}-{index}"
        recording.drop_traces()
        recordings.append(recording)
    compact_for_browsing(recordings)
    return recordings


def test_thawed_recordings_are_those_frozen() -> None:
    entries = {EntryKey("c1", "IDRest", p): _entry("c1", p, 3) for p in range(4)}
    entries[EntryKey("c1", "IV", 0)] = [None, *_entry("c1", 9, 1)]
    frozen = FrozenEntries(entries)
    assert frozen.keys == tuple(entries)
    assert frozen.sweeps == 13
    thawed = frozen.thaw()
    assert list(thawed) == list(entries)
    for key, recordings in entries.items():
        back = thawed[key]
        assert [r is None for r in back] == [r is None for r in recordings]
        for original, copy in zip(recordings, back, strict=True):
            if original is None:
                continue
            assert copy is not original
            assert copy.__getstate__() == original.__getstate__()
            assert copy.spikecount == original.spikecount == 2
            assert copy.cache_keys["identity"] == original.cache_keys["identity"]
            assert isinstance(copy.config_data, CompactMapping)
        assert len({id(r.config_data) for r in back if r is not None}) == 1
    assert (
        frozen.thaw()[EntryKey("c1", "IDRest", 0)][0]
        is not thawed[EntryKey("c1", "IDRest", 0)][0]
    ), "each thaw makes its own recordings"


def test_a_frozen_cell_holds_a_fraction_of_its_recordings() -> None:
    entries = {EntryKey("c1", "IDRest", p): _entry("c1", p, 1) for p in range(200)}
    frozen = FrozenEntries(entries)
    as_objects = held_bytes(entries, *entries) / 200
    as_frozen = held_bytes(frozen, frozen.keys) / 200
    assert as_frozen < as_objects / 3, (as_frozen, as_objects)


def test_recordings_with_traces_are_not_frozen() -> None:
    t = np.arange(0, 1.0, 1e-4)
    config = {"i_unit": "A", "v_unit": "V", "t_unit": "s", "dt": 1e-4, "ton": 200.0}
    trace = {"current": np.zeros_like(t), "voltage": np.zeros_like(t)}
    with pytest.raises(ValueError, match="drop the traces"):
        FrozenEntries({EntryKey("c", "IDRest", 0): [Step(config, trace, "IDRest")]})


def test_thawed_recordings_share_the_sessions_path_strings() -> None:
    entries = {EntryKey("c1", "IDRest", p): _entry("c1", p, 2) for p in range(3)}
    table: dict[str, str] = {}
    for recordings in entries.values():
        path = "".join(recordings[0].config_data["filepath"])  # an equal new string
        table[path] = path
    thawed = FrozenEntries(entries).thaw(table)
    for recordings in thawed.values():
        path = recordings[0].config_data["filepath"]
        assert path is table[path]
        assert all(r.files == [path] and r.files[0] is path for r in recordings)
    alone = FrozenEntries(entries).thaw()
    first = next(iter(alone.values()))[0].config_data["filepath"]
    assert first == next(iter(table))
    assert first is not next(iter(table))


def test_an_earlier_copy_matches_an_equal_recording_only() -> None:
    """Earlier copies are put back by value: any metadata or amplitude change counts."""
    import copy

    from efex_gui.core.extraction.incremental import _copies, _fresh_copy

    (recording,) = _entry("c1", 0, 1)
    (equal,) = FrozenEntries({"k": [recording]}).thaw()["k"]
    earlier = _fresh_copy(recording)
    assert _copies(earlier, equal)
    other = copy.copy(equal)
    other.config_data = CompactMapping({**equal.config_data, "ljp": 14.0})
    assert not _copies(earlier, other)
    other = copy.copy(equal)
    other.amp = equal.amp + 1e-12
    assert not _copies(earlier, other)
    other = copy.copy(equal)
    other.files = ["/data/elsewhere.nwb"]
    assert not _copies(earlier, other)
