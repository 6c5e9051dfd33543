"""``efex summary``: the cell summary headless, from a config, a session or a folder."""

from __future__ import annotations

import csv
import json
from typing import TYPE_CHECKING, Any

import pytest

from efex_gui.cli import EXIT_OK, EXIT_USAGE, main
from efex_gui.core.analysis.cell_summary import MEASURES
from efex_gui.core.session.document import open_json
from efex_gui.core.session.exclusions import ExclusionKey
from tests.conftest import shared_path

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture(scope="module")
def demo(demo_dir: Path) -> Path:
    """The session's demo dataset (read only: outputs go to ``tmp_path``)."""
    return demo_dir


def _json(capsys: Any, *argv: str) -> dict[str, Any]:
    assert main(["summary", *argv, "--json", "-q"]) == EXIT_OK
    return json.loads(capsys.readouterr().out)


@pytest.fixture(scope="module")
def from_config(demo: Path) -> dict[str, Any]:
    from efex_gui.cli_config import load_run_config
    from efex_gui.core.analysis.summary_io import summarize_run, summary_document

    summaries, _ = summarize_run(load_run_config(demo / "config.json").kwargs)
    return json.loads(json.dumps(summary_document(summaries)))


def test_json_schema_and_values(capsys: Any, demo: Path, from_config: Any) -> None:
    document = _json(capsys, str(demo / "config.json"))
    assert list(document) == ["cells"]
    assert list(document["cells"]) == ["SimCell1", "SimCell2"]
    for cell in document["cells"].values():
        assert list(cell) == [*MEASURES, "n"]
        assert all(isinstance(cell[m], float) for m in MEASURES)
        assert set(cell["n"]) == set(MEASURES)
        assert all(isinstance(n, int) and n > 0 for n in cell["n"].values())
    assert document == from_config


def test_csv_output(capsys: Any, demo: Path, tmp_path: Path, from_config: Any) -> None:
    out = tmp_path / "cells.csv"
    assert main(["summary", str(demo / "config.json"), "-o", str(out)]) == EXIT_OK
    assert "2 cells written" in capsys.readouterr().out
    rows = list(csv.DictReader(out.read_text(encoding="utf-8").splitlines()))
    assert [r["cell"] for r in rows] == ["SimCell1", "SimCell2"]
    expected = from_config["cells"]["SimCell2"]
    assert float(rows[1]["rmp_mV"]) == pytest.approx(expected["rmp_mV"])
    assert (
        int(rows[1]["n_input_resistance_MOhm"])
        == expected["n"]["input_resistance_MOhm"]
    )


def test_session_exclusions_and_overrides(
    capsys: Any, demo: Path, tmp_path: Path, from_config: Any
) -> None:
    session = open_json(demo / "config.json")
    session.exclusions = session.exclusions.with_excluded([ExclusionKey("SimCell2")])
    session.rheobase_overrides = {"SimCell1": 0.2}
    path = tmp_path / "session.json"
    session.save(path)
    document = _json(capsys, str(path))
    assert list(document["cells"]) == ["SimCell1"]
    cell = document["cells"]["SimCell1"]
    assert cell["rheobase_nA"] == 0.2
    assert cell["rmp_mV"] == from_config["cells"]["SimCell1"]["rmp_mV"]
    # the f-I slope reads the steps above the (overridden) rheobase
    assert (
        cell["n"]["fi_slope_Hz_per_nA"]
        < from_config["cells"]["SimCell1"]["n"]["fi_slope_Hz_per_nA"]
    )


def test_bare_folder(capsys: Any, demo: Path, from_config: Any) -> None:
    document = _json(capsys, str(demo))
    assert list(document["cells"]) == ["SimCell1", "SimCell2"]
    for name, expected in from_config["cells"].items():
        # default settings (Threshold -20 mV as the demo config); every protocol.
        # The folder has no timings: each protocol's consensus window stands in for
        # the config's exact ones (the goal: within 1 %).
        assert document["cells"][name]["rheobase_nA"] == pytest.approx(
            expected["rheobase_nA"], rel=0.005
        )
        assert document["cells"][name]["input_resistance_MOhm"] == pytest.approx(
            expected["input_resistance_MOhm"], rel=0.005
        )


def test_changed_protocols_and_bad_inputs(
    capsys: Any, demo: Path, tmp_path: Path
) -> None:
    mapping = tmp_path / "map.json"
    mapping.write_text(json.dumps({"input_resistance": ["IDRest"]}))
    document = _json(capsys, str(demo / "config.json"), "--protocols", str(mapping))
    assert document["cells"]["SimCell1"]["input_resistance_MOhm"] is None
    assert document["cells"]["SimCell1"]["n"]["input_resistance_MOhm"] == 0
    mapping.write_text(json.dumps({"rin": ["IV"]}))
    code = main(["summary", str(demo / "config.json"), "--protocols", str(mapping)])
    assert code == EXIT_USAGE
    assert "unknown measure 'rin'" in capsys.readouterr().err
    code = main(["summary", str(demo / "config.json"), "-o", str(tmp_path / "x.txt")])
    assert code == EXIT_USAGE
    assert ".csv, .json, .xlsx" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["summary", str(empty)]) == EXIT_USAGE
    assert "no recording file" in capsys.readouterr().err.lower()


def test_bare_sscx_folder_uses_the_consensus_windows(
    capsys: Any, tmp_path: Path
) -> None:
    """A real cell opened as a bare folder: the rheobase of the lab's timings.

    Per-sweep detection on C060109A1's noisy current gives 0.110 nA; the protocol's
    consensus window (the folder import of ``efex inspect`` / ``rheobase``) gives
    BluePyEfe's value with the lab's timings (oracle ``sscx-dev4``) within 1 %.
    """
    import shutil

    source = shared_path("sscx", "input-traces", "C060109A1-SR-C1")
    oracle = json.loads(
        shared_path(
            "oracle", "sscx-dev4", "holding_threshold_currents.json"
        ).read_text()
    )["all_threshold_current"][source.name]
    cell = tmp_path / "cells" / source.name
    cell.mkdir(parents=True)
    for path in source.iterdir():
        if "_IDrest_" in path.name or "_IDthresh_" in path.name:
            shutil.copy(path, cell / path.name)
    document = _json(capsys, str(tmp_path / "cells"))
    rheobase = document["cells"][source.name]["rheobase_nA"]
    assert rheobase == pytest.approx(oracle, rel=0.01)
