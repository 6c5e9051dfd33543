"""Session: JSON round trip, relative paths, atomic save, migrations, extract kwargs."""

from __future__ import annotations

import copy
import json
import os
import shutil
from pathlib import Path

import pytest

from efex_gui.core.errors import MetadataError, SettingsError
from efex_gui.core.session.document import (
    FORMAT_VERSION,
    ExtractionSettings,
    Session,
    atomic_write_text,
    migrate,
    open_json,
)
from efex_gui.core.session.exclusions import ExclusionKey, Exclusions, TraceFilter
from tests.conftest import shared_path

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "sessions"


def _session(root: Path) -> Session:
    return Session(
        files_metadata={
            "c1": {
                "IDRest": [
                    {"i_file": "c1/i_1.ibw", "v_file": "c1/v_1.ibw", "i_unit": "pA"},
                    {"i_file": "c1/i_2.ibw", "v_file": "c1/v_2.ibw", "i_unit": "pA"},
                ],
                "IV": [{"filepath": "c1.nwb", "protocol_name": "IV"}],
            }
        },
        data_root=root,
        ecode_overrides={"Chirp": "Ramp"},
        exclusions=Exclusions(
            {
                ExclusionKey("c1", "IDRest", "c1/v_2.ibw"): "seal lost",
                ExclusionKey("c1", "IV", "c1.nwb", 1): "",
            }
        ),
        targets=[
            {
                "efeature": "Spikecount",
                "protocol": "IDRest",
                "amplitude": 150,
                "tolerance": 20,
            }
        ],
        settings=ExtractionSettings(
            protocols_rheobase=["IDRest"], efel_settings={"Threshold": -20.0}
        ),
    )


def test_round_trip_is_identical(tmp_path: Path) -> None:
    session = _session(tmp_path / "data")
    path = tmp_path / "s.json"
    session.save(path)
    loaded = Session.load(path)
    assert loaded == session
    assert loaded.path == path.absolute()
    doc = json.loads(path.read_text())
    assert doc["kind"] == "efex-session"
    assert doc["format_version"] == FORMAT_VERSION
    assert doc["data_root"] == "data", "the data root is stored relative to the file"


def test_session_and_data_can_move_together(tmp_path: Path) -> None:
    session = _session(tmp_path / "project" / "data")
    session.save(tmp_path / "project" / "s.json")
    shutil.move(tmp_path / "project", tmp_path / "moved")
    loaded = Session.load(tmp_path / "moved" / "s.json")
    assert loaded.data_root == tmp_path / "moved" / "data"
    kwargs = loaded.to_extract_kwargs()
    entry = kwargs["files_metadata"]["c1"]["IDRest"][0]
    assert entry["v_file"] == str(tmp_path / "moved" / "data" / "c1" / "v_1.ibw")


def test_save_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "s.json"
    path.write_text("old content")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        _session(tmp_path).save(path)
    assert path.read_text() == "old content"
    assert [p.name for p in tmp_path.iterdir()] == ["s.json"], "no temporary left"
    monkeypatch.undo()
    atomic_write_text(path, "new")
    assert path.read_text() == "new"


def test_extract_kwargs_apply_exclusions(tmp_path: Path) -> None:
    session = _session(tmp_path)
    kwargs = session.to_extract_kwargs()
    assert [e["v_file"] for e in kwargs["files_metadata"]["c1"]["IDRest"]] == [
        str(tmp_path / "c1" / "v_1.ibw")
    ]
    assert kwargs["recording_reader"] == TraceFilter(
        {("c1", str(tmp_path / "c1.nwb"), "IV"): {1}}
    )
    assert kwargs["targets"] == session.targets
    assert kwargs["targets"] is not session.targets
    assert kwargs["protocols_rheobase"] == ["IDRest"]
    assert kwargs["efel_settings"] == {"Threshold": -20.0}
    assert kwargs["rheobase_strategy"] == "absolute"
    session.exclusions = Exclusions()
    assert "recording_reader" not in session.to_extract_kwargs()
    assert len(session.files_metadata["c1"]["IDRest"]) == 2, "session left untouched"


def test_bad_documents_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text("{not json")
    with pytest.raises(MetadataError, match=r"bad\.json"):
        Session.load(path)
    with pytest.raises(MetadataError, match="newer"):
        migrate({"kind": "efex-session", "format_version": FORMAT_VERSION + 1})
    with pytest.raises(MetadataError, match="Not an efex session"):
        migrate({"kind": "something-else", "format_version": 1})
    with pytest.raises(SettingsError, match="bogus"):
        Session.from_dict(
            {
                "kind": "efex-session",
                "format_version": 1,
                "files_metadata": {},
                "settings": {"bogus": 1},
            }
        )
    with pytest.raises(MetadataError, match="files_metadata"):
        Session.from_dict(
            {
                "kind": "efex-session",
                "format_version": 1,
                "files_metadata": {"c": ["x"]},
            }
        )


def test_v1_fixture_still_loads() -> None:
    """A session file written by format version 1 (kept as a fixture) loads."""
    session = Session.load(FIXTURES / "v1" / "b6b8_session.json")
    assert session.data_root == (FIXTURES / "v1").resolve()
    assert (
        session.exclusions.reason(
            ExclusionKey("MouseNeuron1", "IDRest", "B6/B6_Ch3_IDRest_185.ibw")
        )
        == "example exclusion"
    )
    assert session.settings.protocols_rheobase == ["IDRest"]
    assert session.rheobase_overrides == {}, "version 1 had no overrides"


def test_v1_document_is_upgraded_to_the_current_version(tmp_path: Path) -> None:
    v1 = json.loads((FIXTURES / "v1" / "b6b8_session.json").read_text())
    doc = migrate(v1)
    assert doc["format_version"] == FORMAT_VERSION == 2
    assert doc["rheobase_overrides"] == {}
    assert {
        k: v
        for k, v in doc.items()
        if k not in ("format_version", "rheobase_overrides")
    } == {k: v for k, v in v1.items() if k != "format_version"}
    session = Session.load(FIXTURES / "v1" / "b6b8_session.json")
    session.save(tmp_path / "s.json")
    saved = json.loads((tmp_path / "s.json").read_text())
    assert saved["format_version"] == 2
    assert saved["rheobase_overrides"] == {}


def test_v2_fixture_loads_its_rheobase_overrides() -> None:
    session = Session.load(FIXTURES / "v2" / "b6b8_session.json")
    assert session.rheobase_overrides == {"MouseNeuron1": 0.12}
    assert session.to_extract_kwargs()["rheobase_overrides"] == {"MouseNeuron1": 0.12}


def test_rheobase_overrides_round_trip_and_reach_the_kwargs(tmp_path: Path) -> None:
    session = _session(tmp_path)
    assert "rheobase_overrides" not in session.to_extract_kwargs(), (
        "without overrides the kwargs stay BluePyEfe's"
    )
    session.rheobase_overrides = {"c1": 0.25}
    session.save(tmp_path / "s.json")
    loaded = Session.load(tmp_path / "s.json")
    assert loaded == session
    assert loaded.rheobase_overrides == {"c1": 0.25}
    kwargs = loaded.to_extract_kwargs()
    assert kwargs["rheobase_overrides"] == {"c1": 0.25}
    kwargs["rheobase_overrides"]["c1"] = 1.0
    assert loaded.rheobase_overrides == {"c1": 0.25}, "the kwargs are a copy"


@pytest.mark.parametrize(
    "bad", [[0.1], {"c1": "0.1"}, {"c1": float("nan")}, {"c1": True}]
)
def test_impossible_rheobase_overrides_are_refused(bad: object) -> None:
    doc = {
        "kind": "efex-session",
        "format_version": FORMAT_VERSION,
        "files_metadata": {},
        "rheobase_overrides": bad,
    }
    with pytest.raises(MetadataError, match="rheobase_overrides"):
        Session.from_dict(doc)


def test_oracle_inputs_open_as_a_version_0_session() -> None:
    inputs_path = shared_path("oracle", "bluepyefe-b6b8", "inputs.json")
    inputs = json.loads(inputs_path.read_text())
    inputs["data_root"] = ".."  # paths in inputs.json are relative to ../shared/data
    session = Session.from_dict(inputs, inputs_path.parent.parent)
    kwargs = session.to_extract_kwargs()
    for key in (
        "targets",
        "protocols_rheobase",
        "rheobase_strategy",
        "efel_settings",
        "threshold_nvalue_save",
        "absolute_amplitude",
    ):
        assert kwargs[key] == inputs[key], key
    first = kwargs["files_metadata"]["MouseNeuron1"]["IDRest"][0]
    assert Path(first["v_file"]).is_file()


def test_open_json_reads_sessions_configs_and_bare_metadata(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "c1").mkdir(parents=True)
    bare = {
        "c1": {
            "IDRest": [
                {
                    "i_file": str(data / "c1" / "i.ibw"),
                    "v_file": str(data / "c1" / "v.ibw"),
                }
            ]
        }
    }
    (data / "files_metadata.json").write_text(json.dumps(bare))
    session = open_json(data / "files_metadata.json")
    assert session.data_root == data
    assert session.path is None
    assert session.files_metadata["c1"]["IDRest"][0]["v_file"] == "c1/v.ibw"
    config = {
        "files_metadata": {"c1": {"IV": [{"filepath": "c1.nwb"}]}},
        "targets": [],
        "protocols_rheobase": ["IV"],
        "write_files": True,
    }
    (data / "config.json").write_text(json.dumps(config))
    session = open_json(data / "config.json")
    assert session.settings.protocols_rheobase == ["IV"]
    assert session.path is None
    assert session.resolve("c1.nwb") == str(data / "c1.nwb")
    _session(data).save(tmp_path / "s.json")
    assert open_json(tmp_path / "s.json").path == (tmp_path / "s.json").absolute()
    (tmp_path / "list.json").write_text("[1, 2]")
    with pytest.raises(MetadataError, match="neither"):
        open_json(tmp_path / "list.json")


def test_extraction_of_a_session_equals_extraction_without_the_excluded() -> None:
    """The session path (to_extract_kwargs) equals the inputs minus the excluded."""
    extract = pytest.importorskip("efex_gui.extract")
    inputs_path = shared_path("oracle", "bluepyefe-b6b8", "inputs.json")
    inputs = json.loads(inputs_path.read_text())
    inputs["data_root"] = ".."
    session = Session.from_dict(inputs, inputs_path.parent.parent)
    dropped = session.files_metadata["MouseNeuron1"]["IDRest"][3]
    session.exclusions = Exclusions(
        {ExclusionKey("MouseNeuron1", "IDRest", dropped["v_file"]): "noisy"}
    )
    ours = extract.extract_efeatures(
        output_directory=None, **session.to_extract_kwargs()
    )
    reference = copy.deepcopy(inputs)
    del reference["data_root"]
    reference["files_metadata"]["MouseNeuron1"]["IDRest"].pop(3)
    for protocols in reference["files_metadata"].values():
        for entries in protocols.values():
            for entry in entries:
                for key in ("i_file", "v_file"):
                    entry[key] = str(shared_path(entry[key]))
    theirs = extract.extract_efeatures(output_directory=None, **reference)
    assert json.dumps(ours, default=float) == json.dumps(theirs, default=float)
    full = extract.extract_efeatures(
        output_directory=None,
        **Session.from_dict(inputs, inputs_path.parent.parent).to_extract_kwargs(),
    )
    assert json.dumps(full, default=float) != json.dumps(ours, default=float)


def test_trace_filter_leaves_out_one_nwb_sweep() -> None:
    from efex_gui.core.readers import read_file

    nwb = shared_path("bluepyefe-exp-data", "hippocampus-portal", "99111002.nwb")
    session = Session(
        files_metadata={
            "cell": {
                "Step": [
                    {"filepath": nwb.name, "i_unit": "A", "v_unit": "V", "t_unit": "s"}
                ]
            }
        },
        data_root=nwb.parent,
        exclusions=Exclusions({ExclusionKey("cell", "Step", nwb.name, 3): ""}),
    )
    kwargs = session.to_extract_kwargs()
    config = dict(kwargs["files_metadata"]["cell"]["Step"][0], protocol_name="Step")
    kept = kwargs["recording_reader"](config)
    everything = read_file(dict(config))
    assert len(kept) == len(everything) - 1 == 15
    assert [t["id"] for t in kept] == [
        t["id"] for i, t in enumerate(everything) if i != 3
    ]


def test_config_paths_relative_to_a_folder_above_are_found(tmp_path: Path) -> None:
    (tmp_path / "data" / "cellA").mkdir(parents=True)
    (tmp_path / "data" / "cellA" / "a.nwb").write_bytes(b"")
    configs = tmp_path / "data" / "configs" / "run1"
    configs.mkdir(parents=True)
    fm = {"cellA": {"IDRest": [{"filepath": "cellA/a.nwb"}]}}
    (configs / "inputs.json").write_text(json.dumps({"files_metadata": fm}))
    session = open_json(configs / "inputs.json")
    assert session.data_root == tmp_path / "data"
    assert session.files_metadata == fm
    (configs / "missing.json").write_text(
        json.dumps({"cellA": {"IDRest": [{"filepath": "nowhere/b.nwb"}]}})
    )
    assert open_json(configs / "missing.json").data_root == configs, "no guess"


def test_oracle_inputs_open_with_their_data() -> None:
    inputs = shared_path("oracle", "sscx-dev4", "inputs.json")
    session = open_json(inputs)
    assert session.data_root == inputs.parents[2]  # ../shared/data
    kwargs = session.to_extract_kwargs()
    first = kwargs["files_metadata"]["C060109A1-SR-C1"]["IDrest"][0]
    assert Path(first["v_file"]).is_file()
