"""CompactMapping: the browser's and the result's per-sweep dicts (issue 14)."""

from __future__ import annotations

import copy
import json
import pickle

import pytest

from efex_gui.core.recordings.compact import (
    CompactMapping,
    SharedValues,
    compact_features,
    compact_for_browsing,
)
from efex_gui.core.recordings.ecodes.step import Step
from tests.conftest import SSCX_ENTRY_VALUES, held_bytes

CONFIG = {  # an SSCx entry's, with its protocol's consensus window
    "ordinal": "411",
    "i_file": "/data/cell/ch0_411.ibw",
    "v_file": "/data/cell/ch1_411.ibw",
    **SSCX_ENTRY_VALUES,
    "stimulus_source": "consensus",
    "protocol_name": "IDRest",
}


def test_it_reads_and_compares_as_the_dict_it_was_made_from() -> None:
    compact = CompactMapping(CONFIG)
    assert compact == CONFIG
    assert CONFIG == compact  # noqa: SIM300  (the dict's side of the comparison)
    assert compact != {**CONFIG, "ljp": 0}
    assert compact != {k: v for k, v in CONFIG.items() if k != "ljp"}
    assert list(compact) == list(CONFIG)
    assert list(compact.items()) == list(CONFIG.items())
    assert compact["ton"] == 10
    assert compact.get("v_corr") is None
    assert "v_corr" not in compact
    assert "dt" in compact
    assert len(compact) == len(CONFIG)
    assert dict(compact) == CONFIG
    assert repr(compact) == repr(CONFIG)
    with pytest.raises(KeyError):
        compact["v_corr"]
    with pytest.raises(TypeError):
        compact["ton"] = 5  # type: ignore[index]


def test_pickles_copies_and_its_dict_copy_are_plain_dicts() -> None:
    compact = CompactMapping(CONFIG)
    for made in (
        pickle.loads(pickle.dumps(compact)),
        copy.deepcopy(compact),
        copy.copy(compact),
        compact.copy(),
    ):
        assert type(made) is dict
        assert made == CONFIG
        assert list(made) == list(CONFIG)
    assert json.loads(json.dumps(compact.copy())) == CONFIG


def _as_read(i: int) -> dict[str, object]:
    """An entry's metadata as reading makes it: a deep copy, the protocol added."""
    given = {k: v for k, v in CONFIG.items() if k != "protocol_name"}
    config = copy.deepcopy({**given, "v_file": f"/data/cell/ch1_{i}.ibw"})
    config.setdefault("protocol_name", "IDRest")
    return config


def test_mappings_with_the_same_keys_share_one_layout_and_take_half() -> None:
    dicts = [_as_read(i) for i in range(2_000)]
    compact = [CompactMapping(d) for d in dicts]
    assert compact[0]._layout is compact[-1]._layout
    assert compact[7] == dicts[7]
    strings = [list(d.values()) for d in dicts]  # the values are not theirs
    per_dict = held_bytes(dicts, strings) / len(dicts)
    per_compact = held_bytes(compact, strings, compact[0]._layout) / len(compact)
    assert per_compact < per_dict / 2, (per_compact, per_dict)  # 192 B, 472 B


def _steps(n: int) -> list[Step]:
    import numpy as np

    t = np.arange(0, 1.0, 1e-4)
    current = np.where((t > 0.2) & (t < 0.7), 2e-10, 0.0)
    voltage = np.full_like(t, -0.07)
    config = {**CONFIG, "t_unit": "s", "dt": 1e-4, "ton": 200.0, "toff": 700.0}
    trace = {"current": current, "voltage": voltage}
    return [Step(dict(config), dict(trace), "IDRest") for _ in range(n)]


def test_the_browser_keeps_one_compact_metadata_per_entry_and_one_export_list() -> None:
    entry = _steps(3)
    shared_config = entry[0].config_data
    for recording in entry[1:]:
        recording.config_data = shared_config  # one entry's traces share its dict
    other = _steps(1)
    compact_for_browsing(entry)
    compact_for_browsing([*other, None])
    assert isinstance(entry[0].config_data, CompactMapping)
    assert entry[0].config_data == shared_config
    assert entry[1].config_data is entry[0].config_data is entry[2].config_data
    assert entry[0].export_attr is other[0].export_attr
    assert entry[0].export_attr == list(Step._exported)


def test_final_features_become_compact_and_keep_their_values() -> None:
    (recording,) = _steps(1)
    recording.efeatures = {"Spikecount": 0.0, "voltage_base": -70.0}
    compact_features([recording])
    assert isinstance(recording.efeatures, CompactMapping)
    assert recording.efeatures == {"Spikecount": 0.0, "voltage_base": -70.0}
    assert pickle.loads(pickle.dumps(recording)).efeatures == recording.efeatures


def test_the_browser_keeps_spike_times_packed_and_reads_them_back() -> None:
    import numpy as np

    first, none, pending = _steps(3)
    times = np.array([250.0, 300.5, 410.25])
    first.peak_time = times.copy()
    none.peak_time = None
    assert pending.spikecount_pending
    held = held_bytes(first._peak_time)
    compact_for_browsing([first, none, pending])
    assert type(first._peak_time) is bytes
    assert held_bytes(first._peak_time) < held / 2
    assert first.spikecount == 3
    np.testing.assert_array_equal(first.peak_time, times)
    assert none.spikecount is None
    assert none.peak_time is None
    assert pending.spikecount_pending, "a deferred count is left for later"
    assert pending.spikecount is None  # counted when asked (efel: no peak)
    assert not pending.spikecount_pending
    again = pickle.loads(pickle.dumps(first))
    np.testing.assert_array_equal(again.peak_time, times)
    assert copy.copy(first).spikecount == 3


def test_shared_values_are_one_object_per_value_and_type() -> None:
    import numpy as np

    table = SharedValues()
    first = np.float64(700.0)
    assert table.share(first) is first
    assert table.share(np.float64(700.0)) is first
    # equal, but another type or sign: never swapped for one another
    assert type(table.share(700.0)) is float
    assert type(table.share(np.float32(700.0))) is np.float32
    negative_zero = table.share(-0.0)
    assert str(table.share(0.0)) == "0.0"
    assert str(negative_zero) == "-0.0"
    nan = table.share(float("nan"))
    assert table.share(float("nan")) is nan
    units = "".join(["m", "V"])  # a string object of its own
    assert table.share("mV") is table.share(units)
    long_path = "/data/" + "cell/" * 10 + "ch0_411.ibw"  # per file: not kept
    assert table.share(long_path) is long_path
    assert long_path not in {key for _, key in table._known}
    mutable = [1.0]
    assert table.share(mutable) is mutable


def test_a_results_recordings_share_their_window_and_metadata_values() -> None:
    steps = _steps(4)
    for recording in steps[2:]:  # the last two: one entry's, one metadata dict
        recording.config_data = steps[2].config_data
    before = [(dict(r.config_data), r.ton, r.dt, r.hypamp) for r in steps]
    assert steps[0].ton is not steps[1].ton
    SharedValues().share_recordings(steps)
    assert [(dict(r.config_data), r.ton, r.dt, r.hypamp) for r in steps] == before
    assert all(type(r.ton) is type(before[0][1]) for r in steps)
    assert steps[0].ton is steps[1].ton is steps[3].ton
    assert steps[0].dt is steps[1].dt
    first, second = steps[0].config_data, steps[1].config_data
    assert isinstance(first, CompactMapping)
    assert first["i_unit"] is second["i_unit"]
    assert first["dt"] is second["dt"]
    assert steps[2].config_data is steps[3].config_data  # still one per entry
    per_sweep = held_bytes(steps[1], steps[0], Step._exported)
    unshared = held_bytes(_steps(1)[0], Step._exported)
    assert per_sweep < unshared - 150, (per_sweep, unshared)


def test_pickling_or_copying_a_recording_leaves_it_no_attribute_dict() -> None:
    import gc

    from efex_gui.core.recordings.recording import _slots

    def has_dict(recording: Step) -> bool:  # without making one, as __dict__ would
        held = [getattr(recording, name, None) for name in _slots(Step)]
        return any(
            type(ref) is dict and not any(ref is value for value in held)
            for ref in gc.get_referents(recording)
        )

    recording, other = _steps(2)
    assert not has_dict(recording)
    pickle.dumps(recording)
    copied = copy.copy(recording)
    assert not has_dict(recording)
    assert not has_dict(copied)
    other.user_note = "kept"  # an attribute outside the slots survives both
    assert pickle.loads(pickle.dumps(other)).user_note == "kept"
    assert copy.copy(other).user_note == "kept"
