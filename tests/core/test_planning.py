"""The per-cell plans of a session (efex_gui.core.extraction.planning)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from efex_gui.core.extraction.planning import PlanCache
from efex_gui.core.session.dataset import Dataset, EntryKey
from efex_gui.core.session.document import Session
from tests.conftest import SSCX_ENTRY_VALUES


def _session() -> Session:
    def entry(name: str) -> dict[str, object]:
        return {"filepath": name, "i_unit": "nA", "dt": 0.1, "repetition": [1, 2]}

    return Session(
        files_metadata={
            "cell1": {
                "IDRest": [entry("a.ibw"), entry("b.ibw")],
                "IV": [entry("c.ibw")],
            },
            "cell2": {"IDRest": [entry("d.ibw")]},
        },
        data_root=Path("/data"),
    )


def test_a_cell_is_planned_again_only_when_its_metadata_changes() -> None:
    session = _session()
    plans = PlanCache()
    first = plans.plan(session)
    assert plans.planned == ["cell1", "cell2"]
    assert first["cell1"].entries[1].config["filepath"] == str(Path("/data/b.ibw"))
    assert plans.plan(session)["cell1"] is first["cell1"]
    assert plans.planned == []
    cell1 = session.files_metadata["cell1"]
    cell1["IDRest"][0]["repetition"].append(3)  # a nested value changed in place
    assert plans.plan(session)["cell1"] is not first["cell1"]
    assert plans.planned == ["cell1"]
    cell1["IDRest"][1]["dt"] = 0.2  # a value
    plans.plan(session)
    assert plans.planned == ["cell1"]
    cell1["IV"][0]["ljp"] = 14.0  # a key added
    plans.plan(session)
    assert plans.planned == ["cell1"]
    session.files_metadata["cell1"] = {"IV": cell1["IV"], "IDRest": cell1["IDRest"]}
    plans.plan(session)  # the protocols' order counts
    assert plans.planned == ["cell1"]
    plans.plan(session)
    assert plans.planned == []


def test_the_plans_remember_the_metadata_as_tuples_with_shared_keys() -> None:
    # one dict per entry again would be a fourth copy of every entry's metadata
    plans = PlanCache()
    plans.plan(_session())
    columns = [c for memo in plans._memo.values() for _, c in memo.metadata]
    keys = [k for entry_keys, _ in columns for k in entry_keys]
    values = [v for _, entry_values in columns for v in entry_values]
    assert len(keys) == len(values) == 4
    assert all(type(v) is tuple for v in values)
    assert len({id(k) for k in keys}) == 1
    # and the entries' absolute metadata likewise (one keys tuple for all)
    entries = [e for memo in plans._memo.values() for e in memo.plan.entries]
    assert len({id(entry.keys) for entry in entries}) == 1
    assert all(type(entry.values) is tuple for entry in entries)
    assert entries[0].config == {
        "filepath": str(Path("/data/a.ibw")),
        "i_unit": "nA",
        "dt": 0.1,
        "repetition": [1, 2],
    }


def test_the_stamps_of_a_plan_change_with_its_files(tmp_path: Path) -> None:
    # a digest of (path, size, mtime) per file: kept per cell between runs
    for name in ("a.ibw", "b.ibw"):
        (tmp_path / name).write_bytes(b"12345")
    session = Session(
        files_metadata={
            "cell": {"IDRest": [{"filepath": "a.ibw"}, {"filepath": "b.ibw"}]}
        },
        data_root=tmp_path,
    )
    plan = PlanCache().plan(session)["cell"]
    before = plan.stamps()
    assert isinstance(before, str)
    assert len(before) == 32
    assert plan.stamps() == before
    (tmp_path / "b.ibw").write_bytes(b"123456")
    assert plan.stamps() != before
    (tmp_path / "b.ibw").unlink()
    assert plan.stamps() not in (before, "")


def test_the_plans_and_the_browser_share_one_string_per_absolute_path() -> None:
    """A path was held once by the browser's recordings and again by the plans."""
    session = _session()
    plan = PlanCache().plan(session)["cell1"].entries[0].config
    dataset = Dataset(session.files_metadata, session.data_root, session.path_strings)
    browser = dataset.absolute_config(EntryKey("cell1", "IDRest", 0))
    assert browser["filepath"] == plan["filepath"] == str(Path("/data/a.ibw"))
    assert browser["filepath"] is plan["filepath"]
    # the session's own table, not sys.intern (immortal from Python 3.12: a path
    # string per file ever opened would stay until the process ends)
    assert sys.getrefcount(browser["filepath"]) < 1_000
    again = dataset.absolute_config(EntryKey("cell1", "IDRest", 0))
    assert again["filepath"] is browser["filepath"]


def test_read_only_entries_are_remembered_as_themselves_and_replaced_not_changed() -> (
    None
):
    """The GUI's entries are read-only (replaced on an edit): the plans keep the
    entries themselves, nothing per entry, and tell a replaced one by its identity."""
    from tests.conftest import held_bytes

    session = _session()
    dataset = Dataset(session.files_metadata, session.data_root)
    dataset.make_read_only()
    plans = PlanCache()
    first = plans.plan(session)
    assert plans.plan(session)["cell1"] is first["cell1"]
    assert plans.planned == []
    snapshots = [memo.metadata for memo in plans._memo.values()]
    assert held_bytes(snapshots, session.files_metadata) < 1_000
    key = EntryKey("cell1", "IV", 0)
    with pytest.raises(TypeError):
        dataset.config(key)["ljp"] = 14.0  # type: ignore[index]
    dataset.set_config(key, {**dataset.config(key), "ljp": 14.0})
    second = plans.plan(session)
    assert plans.planned == ["cell1"]
    assert second["cell1"].entries[2].config["ljp"] == 14.0
    assert second["cell2"] is first["cell2"]


def test_an_undo_gives_back_the_entry_it_replaced_and_the_plan_with_it() -> None:
    session = _session()
    dataset = Dataset(session.files_metadata, session.data_root)
    dataset.make_read_only()
    plans = PlanCache()
    first = plans.plan(session)
    key = EntryKey("cell2", "IDRest", 0)
    before = dataset.config(key)
    dataset.set_config(key, {**before, "ljp": 14.0})  # an edit
    plans.plan(session)
    assert plans.planned == ["cell2"]
    dataset.set_config(key, before)  # its undo: the very entry comes back
    assert dataset.config(key) is before
    plans.plan(session)
    assert plans.planned == ["cell2"]
    assert (
        plans.plan(session)["cell2"].entries[0].config
        == first["cell2"].entries[0].config
    )


def _igor_entry(stem: str) -> dict[str, object]:
    """An SSCx entry: two Igor waves and eight values."""
    return {
        "ordinal": stem[-1],
        "i_file": f"{stem}_ch0.ibw",
        "v_file": f"{stem}_ch1.ibw",
        **SSCX_ENTRY_VALUES,
    }


def test_the_plans_hold_little_per_entry_of_their_own() -> None:
    """The plans keep an entry's address in slots (not a tuple) and its resolved
    paths by the stored path (not a (folder, path) tuple per file): 440 cells of
    different files hold ~0.3 M entries."""
    from tests.conftest import held_bytes

    n = 300
    session = Session(
        files_metadata={
            f"cell{c}": {"IDRest": [_igor_entry(f"c{c}/e{i}") for i in range(n // 3)]}
            for c in range(3)
        },
        data_root=Path("/data"),
    )
    Dataset(session.files_metadata, session.data_root).make_read_only()
    plans = PlanCache()
    planned = plans.plan(session)
    assert planned["cell1"].entries[2].ref == ("cell1", "IDRest", 2)
    assert planned["cell1"].entries[2].config == {
        **session.files_metadata["cell1"]["IDRest"][2],
        "i_file": str(Path("/data/c1/e2_ch0.ibw")),
        "v_file": str(Path("/data/c1/e2_ch1.ibw")),
    }
    own = held_bytes(plans, session.files_metadata, session.path_strings)
    # 278 B with every value of an entry again, 456 B with a tuple per address
    # and per file as well
    assert own / n < 250


@pytest.mark.parametrize("read_only", [False, True])
def test_an_entrys_plan_is_its_metadata_with_absolute_paths(read_only: bool) -> None:
    # a read-only entry's plan keeps only what differs from it: the same metadata
    entries = [
        _igor_entry("a/e1"),
        {**_igor_entry("a/e2"), "ecode": "Step"},  # its own eCode wins
        {**_igor_entry("a/e3"), "i_file": ""},  # a path not set stays unset
        {"filepath": "a/b.nwb", "repetition": [1, 2]},
    ]
    session = Session(
        files_metadata={"cell": {"IDRest": entries}},
        data_root=Path("/data"),
        ecode_overrides={"IDRest": "Ramp"},
    )
    if read_only:
        Dataset(session.files_metadata, session.data_root).make_read_only()
    plans = PlanCache().plan(session)["cell"].entries
    for plan, entry in zip(plans, entries, strict=True):
        expected = {**entry, "ecode": entry.get("ecode", "Ramp")}
        for key in ("filepath", "i_file", "v_file"):
            if expected.get(key):
                expected[key] = str(Path("/data") / str(expected[key]))
        assert plan.config == expected
        assert list(plan.config) == list(expected)
        assert plan.keys == tuple(expected)
        assert plan.values == tuple(expected.values())
