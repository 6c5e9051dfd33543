"""``efex extract efex_provenance.json -o OUT``: the sidecar alone reproduces a run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from efex_gui.cli import EXIT_OK, RESULT_FILES, main
from efex_gui.core.session.document import Session
from efex_gui.core.session.exclusions import ExclusionKey
from tests.conftest import shared_path

if TYPE_CHECKING:
    import pytest

THREE = [n for n in RESULT_FILES if n != "efex_provenance.json"]


def _extract(config: Path, out: Path, *extra: str) -> int:
    return main(["extract", str(config), "-o", str(out), "-q", *extra])


def _replay_elsewhere(first: Path, tmp_path: Path) -> Path:
    """Copy the sidecar alone to another folder and extract from it."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.copy(first / "efex_provenance.json", elsewhere)
    again = tmp_path / "again"
    assert _extract(elsewhere / "efex_provenance.json", again) == EXIT_OK
    return again


def _same_three(a: Path, b: Path) -> None:
    for name in THREE:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_a_curated_session_is_reproduced_from_its_sidecar(
    demo_dir: Path, tmp_path: Path
) -> None:
    session = Session.load(demo_dir / "config.json")  # a config opens as a session
    session.data_root = demo_dir
    cell = next(iter(session.files_metadata))
    session.exclusions = session.exclusions.with_excluded(
        [ExclusionKey(cell, "IDRest", "SimCell1.nwb", 3)], "noisy baseline"
    )
    session.rheobase_overrides = {"SimCell2": 0.05}
    session.save(tmp_path / "s.json")
    first = tmp_path / "first"
    assert _extract(tmp_path / "s.json", first) == EXIT_OK
    sidecar = json.loads((first / "efex_provenance.json").read_text())
    recipe = sidecar["recipe"]
    assert recipe["dropped_traces"] == [["SimCell1.nwb", "IDRest", [3], cell]]
    assert recipe["options"]["rheobase_overrides"] == {"SimCell2": 0.05}
    assert sidecar["exclusions"][0]["reason"] == "noisy baseline"
    used = sidecar["recordings"][0]
    assert used["ecode"]
    assert used["files"] == ["SimCell1.nwb"]
    assert used["metadata"]["i_unit"]["source"] == "user"
    assert used["metadata"]["ton"]["source"] == "detected"
    _same_three(first, _replay_elsewhere(first, tmp_path))


def test_a_changed_input_file_is_named_and_stops_the_run(
    demo_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    shutil.copytree(demo_dir, data)
    first = tmp_path / "first"
    assert _extract(data / "config.json", first) == EXIT_OK
    with (data / "SimCell2.nwb").open("ab") as handle:
        handle.write(b"\0")
    code = _extract(first / "efex_provenance.json", tmp_path / "again")
    assert code != EXIT_OK
    err = capsys.readouterr().err
    assert "SimCell2.nwb" in err
    assert "changed" in err
    assert not (tmp_path / "again" / "features.json").exists()


def test_the_real_b6b8_recordings_are_reproduced_from_the_sidecar(
    tmp_path: Path,
) -> None:
    inputs = shared_path("oracle", "bluepyefe-b6b8", "inputs.json")
    root = inputs.parents[2]
    first = tmp_path / "first"
    assert _extract(inputs, first, "--data-root", str(root)) == EXIT_OK
    recipe = json.loads((first / "efex_provenance.json").read_text())["recipe"]
    assert Path(recipe["data_root"]).is_relative_to(root)
    _same_three(first, _replay_elsewhere(first, tmp_path))


def test_a_folder_run_is_reproduced_from_its_sidecar(tmp_path: Path) -> None:
    """``efex extract FOLDER``: consensus windows, Ramp windows and the lab rule."""
    folder = shared_path("sscx", "input-traces")
    first = tmp_path / "first"
    assert _extract(folder, first) == EXIT_OK
    recipe = json.loads((first / "efex_provenance.json").read_text())["recipe"]
    assert recipe["options"]["consensus_timing"] is True
    assert recipe["auto_targets"][0]["protocols"][0] == "Step"
    _same_three(first, _replay_elsewhere(first, tmp_path))
