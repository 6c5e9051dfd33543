"""Pickles written by the flat core (before issue 11's rooms) still load.

``tests/data/pickles`` holds a ``cells.pkl`` and a ``protocols.pkl`` written by the
pre-move code (see its README); their class paths are the old ones.
apply_moves: keep (this test names the pre-move paths on purpose)
"""

from __future__ import annotations

import copyreg
import dataclasses
import pickle
import pickletools
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from efex_gui.core import pickle_compat
from efex_gui.core.extraction.protocol import Protocol
from efex_gui.core.extraction.result import SweepRef
from efex_gui.core.recordings.cell import Cell
from efex_gui.core.recordings.ecodes.step import Step
from efex_gui.core.session.dataset import EntryKey, SweepKey
from efex_gui.core.targets.target import EFeatureTarget

PICKLES = Path(__file__).resolve().parents[1] / "data" / "pickles"


def _class_modules(path: Path) -> set[str]:
    """The efex_gui module paths named in a pickle's class references."""
    strings: list[str] = []
    found = set()
    for opcode, arg, _ in pickletools.genops(path.read_bytes()):
        if isinstance(arg, str):
            strings.append(arg)
        if opcode.name == "STACK_GLOBAL":
            found.add(strings[-2])
        elif opcode.name == "GLOBAL":
            found.add(arg.split(" ")[0])
    return {name for name in found if name.startswith("efex_gui")}


@pytest.mark.parametrize("name", ["cells.pkl", "protocols.pkl"])
def test_fixture_holds_old_class_paths(name: str) -> None:
    modules = _class_modules(PICKLES / name)
    assert modules  # else the fixture proves nothing
    assert all(pickle_compat.new_name(module) for module in modules), modules


def test_old_cells_pickle_loads_as_current_classes() -> None:
    with open(PICKLES / "cells.pkl", "rb") as handle:
        cells = pickle.load(handle)
    (cell,) = cells
    assert type(cell) is Cell
    assert cell.name == "SimCell1"
    assert cell.rheobase > 0
    assert [type(r) for r in cell.recordings] == [Step, Step]
    assert {r.protocol_name for r in cell.recordings} == {"IDRest", "IDthresh"}
    recording = cell.recordings[0]
    assert recording.voltage.shape == (40,)
    assert recording.get_params()["amp"] == recording.amp


def test_old_protocols_pickle_loads_as_current_classes() -> None:
    with open(PICKLES / "protocols.pkl", "rb") as handle:
        (protocol,) = pickle.load(handle)
    assert type(protocol) is Protocol
    assert protocol.name == "IDRest"
    assert all(type(t) is EFeatureTarget for t in protocol.feature_targets)
    assert "Spikecount" in [t.efel_feature_name for t in protocol.feature_targets]
    assert isinstance(protocol.recordings[0], Step)
    assert np.isfinite(protocol.recordings[0].amp)


def test_old_paths_load_in_a_fresh_interpreter() -> None:
    """``pickle.load`` alone, as a BluePyEfe user would, with nothing imported first."""
    code = (
        "import pickle, sys\n"
        f"cells = pickle.load(open({str(PICKLES / 'cells.pkl')!r}, 'rb'))\n"
        "import efex_gui.core.recordings.cell as c\n"
        "assert type(cells[0]) is c.Cell\n"
        "assert sys.modules['efex_gui.core.cell'] is c\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_alias_targets_exist() -> None:
    for old, new in pickle_compat.ALIASES.items():
        assert pickle_compat.new_name(old) == new
        __import__(new)


@pytest.mark.parametrize(
    "key",
    [
        SweepRef("cell", "IDRest", 3, 1),
        EntryKey("cell", "IDRest", 3),
        SweepKey("cell", "IDRest", 3, None),
    ],
)
def test_the_per_sweep_keys_are_slotted_and_pickle_as_before(key: Any) -> None:
    """One of each per sweep (71 500 at 440 cells): slots, not an instance dict.

    Saved results hold SweepRefs pickled with a dict state (before slots): a dict
    state still loads, as does the dataclasses' own slotted state (a list).
    """
    assert not hasattr(key, "__dict__")
    names = [f.name for f in dataclasses.fields(key)]
    values = [getattr(key, name) for name in names]
    as_before = dict(zip(names, values, strict=True))

    def reduce_with(state: Any) -> Any:
        return lambda self, protocol: (copyreg.__newobj__, (type(key),), state)

    for state in (as_before, values):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(type(key), "__reduce_ex__", reduce_with(state))
            data = pickle.dumps(key)
        loaded = pickle.loads(data)
        assert loaded == key
        assert hash(loaded) == hash(key)
    assert b"cell" in pickle.dumps(key)  # today's pickles hold the dict, as before
