"""One resolution of a files_metadata entry's paths (session, browser and plans)."""

from __future__ import annotations

from pathlib import Path

from efex_gui.core.importing.file_names import absolute_path, with_absolute_paths
from efex_gui.core.session.dataset import Dataset, EntryKey
from efex_gui.core.session.document import Session


def test_a_path_is_joined_to_the_root_and_kept_as_one_string() -> None:
    strings: dict[str, str] = {}
    first = absolute_path("cell/a.ibw", Path("/data"), strings)
    again = absolute_path("cell/a.ibw", Path("/data"), strings)
    assert first == str(Path("/data/cell/a.ibw"))
    assert again is first
    assert absolute_path("/elsewhere/b.ibw", Path("/data"), strings) == str(
        Path("/elsewhere/b.ibw")
    )
    assert absolute_path("cell/a.ibw", None, strings) == str(Path("cell/a.ibw"))


def test_an_entry_is_copied_with_its_paths_resolved_deep_unless_told() -> None:
    entry = {"v_file": "v.ibw", "i_file": "i.ibw", "repetition": [1, 2], "dt": 0.1}
    deep = with_absolute_paths(entry, str.upper)
    assert deep == {**entry, "v_file": "V.IBW", "i_file": "I.IBW"}
    assert deep["repetition"] is not entry["repetition"]
    shallow = with_absolute_paths(entry, str.upper, deep=False)
    assert shallow["repetition"] is entry["repetition"]
    assert entry["v_file"] == "v.ibw", "the entry is not changed"


def test_the_session_and_the_browser_resolve_to_the_same_strings() -> None:
    session = Session(
        files_metadata={"c": {"IDRest": [{"filepath": "c/a.nwb", "dt": 0.1}]}},
        data_root=Path("/data"),
    )
    dataset = Dataset(session.files_metadata, session.data_root, session.path_strings)
    browsed = dataset.absolute_config(EntryKey("c", "IDRest", 0))["filepath"]
    exported = session.absolute_files_metadata()["c"]["IDRest"][0]["filepath"]
    assert browsed == str(Path("/data/c/a.nwb"))
    assert exported is browsed
