"""``efex extract``: never overwrites silently; reports skipped files and warnings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from efex_gui.cli import EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, RESULT_FILES, main
from tests.reliability.conftest import extraction_kwargs
from tests.reliability.corpus import truncated

if TYPE_CHECKING:
    import pytest


def _config(folder: Path, files_metadata: dict) -> Path:
    document = {"files_metadata": files_metadata, **extraction_kwargs()}
    path = folder / "inputs.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def _results(out: Path) -> dict[str, bytes]:
    return {name: (out / name).read_bytes() for name in RESULT_FILES}


def test_an_existing_export_is_kept_unless_overwrite(
    files_metadata: dict, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, out = _config(tmp_path, files_metadata), tmp_path / "out"
    assert main(["extract", str(config), "-o", str(out), "-q"]) == EXIT_OK
    (out / "features.json").write_text('{"edited": "by hand"}')
    before = _results(out)
    capsys.readouterr()
    assert main(["extract", str(config), "-o", str(out), "-q"]) == EXIT_USAGE
    error = capsys.readouterr().err
    assert "--overwrite" in error
    assert str(out) in error
    assert "features.json" in error
    assert _results(out) == before
    code = main(["extract", str(config), "-o", str(out), "-q", "--overwrite"])
    assert code == EXIT_OK
    assert json.loads((out / "features.json").read_text()) != {"edited": "by hand"}


def test_demo_refuses_to_replace_an_earlier_demo_extraction(tmp_path: Path) -> None:
    efeatures = tmp_path / "efeatures"
    efeatures.mkdir()
    (efeatures / "protocols.json").write_text("{}")
    assert main(["demo", "-o", str(tmp_path), "--cells", "1", "-q"]) == EXIT_USAGE
    assert (efeatures / "protocols.json").read_text() == "{}"
    assert not (tmp_path / "SimCell1.nwb").exists()  # refused before any work


def test_summary_lists_skipped_files_and_warnings_per_cell(
    files_metadata: dict, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    damaged = truncated(Path(files_metadata["SimCell2"]["IV"][0]["filepath"]), tmp_path)
    files_metadata["SimCell2"]["IV"][0]["filepath"] = str(damaged)
    for entry in files_metadata["SimCell1"]["IDRest"]:
        entry["v_unit"] = "mV"  # the file holds volts
    config, out = _config(tmp_path, files_metadata), tmp_path / "out"
    assert main(["extract", str(config), "-o", str(out)]) == EXIT_PARTIAL
    stdout = capsys.readouterr().out
    assert f"skipped (SimCell2) {damaged}" in stdout
    summary = stdout[stdout.index("warnings (details in efex_provenance.json):") :]
    assert "  SimCell1: " in summary
    assert "warning(s)" in summary
    assert "fix v_unit" in summary
