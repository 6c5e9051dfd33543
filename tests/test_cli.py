"""The ``efex`` command line: outputs equal the oracle, parallel runs equal serial ones,
bad configurations exit 2 naming the key, partial runs exit 3."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from efex_gui.cli import EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, RESULT_FILES, main
from tests.conftest import ROOT, shared_path

ORACLE = "oracle/bluepyefe-b6b8"


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def assert_same(actual: Any, expected: Any, where: str = "") -> None:
    """Same keys (in order) and values, floats within 1e-9 relative, NaN == NaN."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), where
        assert list(actual) == list(expected), where
        for key in expected:
            assert_same(actual[key], expected[key], f"{where}/{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list), where
        assert len(actual) == len(expected), where
        for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
            assert_same(a, e, f"{where}[{i}]")
    elif isinstance(expected, float) and math.isnan(expected):
        assert isinstance(actual, float), where
        assert math.isnan(actual), where
    elif isinstance(expected, (int, float)) and not isinstance(expected, bool):
        assert actual == pytest.approx(expected, rel=1e-9, abs=0.0), where
    else:
        assert actual == expected, where


def assert_outputs_equal(folder: Path, reference: Path) -> None:
    for name in RESULT_FILES:
        assert_same(_load(folder / name), _load(reference / name), name)


@pytest.fixture
def pipeline() -> None:
    pytest.importorskip(
        "efex_gui.core.extraction.pipeline", reason="the pipeline has not landed"
    )


@pytest.fixture
def b6b8(pipeline: None) -> tuple[Path, Path]:
    """(inputs.json, data root) of the B6/B8 oracle."""
    return shared_path(ORACLE, "inputs.json"), shared_path()


def _extract(config: Path, out: Path, *extra: str) -> int:
    return main(["extract", str(config), "-o", str(out), "-q", *extra])


def test_extract_b6b8_equals_the_oracle(
    b6b8: tuple[Path, Path], tmp_path: Path
) -> None:
    inputs, root = b6b8
    assert _extract(inputs, tmp_path, "--data-root", str(root)) == EXIT_OK
    assert_outputs_equal(tmp_path, root / ORACLE)


def test_relative_paths_start_from_the_config_folder(
    b6b8: tuple[Path, Path], tmp_path: Path
) -> None:
    inputs, root = b6b8
    config = tmp_path / "sub" / "inputs.yaml"
    config.parent.mkdir()
    data = _load(inputs)
    # a YAML config one level below the data: paths relative to the config folder
    for protocols in data["files_metadata"].values():
        for entries in protocols.values():
            for entry in entries:
                for key in ("i_file", "v_file"):
                    entry[key] = str(Path("..") / "data" / entry[key])
    (tmp_path / "data").symlink_to(root)
    yaml = pytest.importorskip("yaml")
    config.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    assert _extract(config, tmp_path / "out") == EXIT_OK
    assert_outputs_equal(tmp_path / "out", root / ORACLE)


def test_two_workers_give_the_serial_numbers(
    b6b8: tuple[Path, Path], tmp_path: Path
) -> None:
    inputs, root = b6b8
    assert _extract(inputs, tmp_path, "--data-root", str(root), "--workers", "2") == 0
    assert_outputs_equal(tmp_path, root / ORACLE)


def test_dask_cluster_gives_the_serial_numbers(
    b6b8: tuple[Path, Path], tmp_path: Path
) -> None:
    distributed = pytest.importorskip("dask.distributed")
    inputs, root = b6b8
    with distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
    ) as cluster:
        code = _extract(
            inputs,
            tmp_path,
            "--data-root",
            str(root),
            "--dask",
            cluster.scheduler_address,
        )
    assert code == EXIT_OK
    assert_outputs_equal(tmp_path, root / ORACLE)


def test_dask_local_addresses() -> None:
    from efex_gui.cli_runtime import local_cluster_size
    from efex_gui.core.errors import SettingsError

    assert local_cluster_size("local") == 2
    assert local_cluster_size("local:3") == 3
    assert local_cluster_size("tcp://127.0.0.1:8786") is None
    with pytest.raises(SettingsError, match="local:N"):
        local_cluster_size("local:zero")


def test_session_file_runs_like_its_inputs(
    b6b8: tuple[Path, Path], tmp_path: Path
) -> None:
    session_module = pytest.importorskip("efex_gui.core.session.document")
    inputs, root = b6b8
    session = session_module.Session.from_dict(_load(inputs), base_dir=root)
    session.save(tmp_path / "run.efex.json")
    assert _load(tmp_path / "run.efex.json")["kind"] == "efex-session"
    assert _extract(tmp_path / "run.efex.json", tmp_path / "out") == EXIT_OK
    assert_outputs_equal(tmp_path / "out", root / ORACLE)


def test_legacy_config_is_translated(b6b8: tuple[Path, Path], tmp_path: Path) -> None:
    inputs, root = b6b8
    cells = {
        cell: {"experiments": {"IDRest": {"files": protocols["IDRest"]}}}
        for cell, protocols in _load(inputs)["files_metadata"].items()
    }
    legacy = {
        "path": str(root) + "/",
        "cells": cells,
        "features": {"IDRest": ["Spikecount", "AP_width"]},
        "options": {
            "onoff": {"IDRest": [700.0, 2700.0]},
            "target": [150, 200],
            "tolerance": [20],
            "expthreshold": ["IDRest"],
            "strict_stiminterval": {"base": True},
        },
    }
    (tmp_path / "legacy.json").write_text(json.dumps(legacy), encoding="utf-8")
    assert _extract(tmp_path / "legacy.json", tmp_path / "out") == EXIT_OK
    features = _load(tmp_path / "out" / "features.json")
    assert [f["feature"] for f in features["IDRest_150"]["soma"]] == [
        "Spikecount",
        "AP_width",
    ]
    bluepyefe = pytest.importorskip("bluepyefe.translate_legacy_config")
    extract = pytest.importorskip("bluepyefe.extract")
    kwargs = bluepyefe.translate_legacy_config(json.loads(json.dumps(legacy)))
    extract.extract_efeatures(str(tmp_path / "oracle"), write_files=True, **kwargs)
    assert_outputs_equal(tmp_path / "out", tmp_path / "oracle")


def test_rheobase_prints_each_cell_and_writes_nothing(
    b6b8: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inputs, root = b6b8
    code = main(["rheobase", str(inputs), "--data-root", str(root), "-q"])
    assert code == EXIT_OK
    out = capsys.readouterr().out
    currents = _load(root / ORACLE / "holding_threshold_currents.json")
    for cell, value in currents["all_threshold_current"].items():
        (line,) = [row for row in out.splitlines() if row.startswith(cell)]
        assert line.split()[1] == f"{value:.4f}"
    assert list(tmp_path.iterdir()) == []


def test_missing_file_is_skipped_and_the_run_is_partial(
    b6b8: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inputs, root = b6b8
    data = _load(inputs)
    data["files_metadata"]["MouseNeuron1"]["IDRest"].append(
        {**data["files_metadata"]["MouseNeuron1"]["IDRest"][0], "v_file": "gone.ibw"}
    )
    config = tmp_path / "inputs.json"
    config.write_text(json.dumps(data), encoding="utf-8")
    code = main(
        ["extract", str(config), "-o", str(tmp_path / "out"), "--data-root", str(root)]
    )
    assert code == EXIT_PARTIAL
    assert "gone.ibw" in capsys.readouterr().out
    assert_outputs_equal(tmp_path / "out", root / ORACLE)


@pytest.mark.parametrize(
    ("document", "named"),
    [
        ({"targets": []}, "files_metadata"),
        ({"files_metadata": {"c": {"IDRest": []}}, "targetz": []}, "targetz"),
        ({"files_metadata": {"c": {"IDRest": []}}, "targets": "IDRest"}, "targets"),
        ({"files_metadata": {"c": {"IDRest": [{}]}}, "plot": "yes"}, "plot"),
        (
            {"files_metadata": {"c": {"IDRest": "f.nwb"}}},
            "files_metadata['c']['IDRest']",
        ),
        ({"files_metadata": {}}, "files_metadata"),
    ],
)
def test_bad_config_exits_2_naming_the_key(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    document: dict[str, Any],
    named: str,
) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps(document), encoding="utf-8")
    assert main(["extract", str(config), "-o", str(tmp_path / "out")]) == EXIT_USAGE
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert err.startswith("efex: error: ")
    assert named in err
    assert not (tmp_path / "out").exists()


def test_unreadable_config_and_usage_errors_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    assert main(["extract", str(tmp_path / "bad.json"), "-o", str(tmp_path)]) == 2
    assert "not valid JSON" in capsys.readouterr().err
    assert main(["extract", str(tmp_path / "none.json"), "-o", str(tmp_path)]) == 2
    assert "cannot read" in capsys.readouterr().err
    assert main(["extract"]) == EXIT_USAGE
    assert main(["frobnicate"]) == EXIT_USAGE
    assert main(["extract", str(tmp_path / "bad.json"), "--workers", "0"]) == 2
    assert "--workers" in capsys.readouterr().err


def test_inspect_prints_the_sweeps(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from efex_gui.core.synthetic.demo import StepProtocol, simulate_cell
    from efex_gui.core.synthetic.nwb_writer import write_nwb

    protocols = (
        StepProtocol("IDRest", (150.0, 250.0), 50.0, 250.0, 300.0),
        StepProtocol("IV", (-40.0,), 50.0, 250.0, 300.0),
    )
    path = write_nwb(simulate_cell(seed=1, protocols=protocols), tmp_path / "c.nwb")
    assert main(["inspect", str(path)]) == EXIT_OK
    out = capsys.readouterr().out
    assert "layout: scala" in out
    assert "protocols: IDRest, IV" in out
    for index, protocol in enumerate(["IDRest", "IDRest", "IV"]):
        assert (
            f"CurrentClampSeries_{index:03d}: 3000 samples protocol={protocol}" in out
        )
    assert main(["inspect", "--json", str(path), str(tmp_path / "no.nwb")]) == 3
    captured = capsys.readouterr()
    document = json.loads(captured.out)
    assert [r["protocol"] for r in document["recordings"]] == ["IDRest", "IDRest", "IV"]
    assert "no.nwb" in captured.err


def test_demo_writes_the_dataset_and_the_three_files(
    pipeline: None, demo_cli_run: tuple[Path, str, int]
) -> None:
    tmp_path, out, code = demo_cli_run  # efex demo -o FOLDER, run once per test run
    assert code == EXIT_OK
    for name in ("SimCell1.nwb", "SimCell3.nwb", "files_metadata.json", "config.json"):
        assert (tmp_path / name).is_file()
    for name in RESULT_FILES:
        assert (tmp_path / "efeatures" / name).is_file()
        assert str(tmp_path / "efeatures" / name) in out
    features = _load(tmp_path / "efeatures" / "features.json")
    assert {"IDRest_150", "IDRest_200", "IDRest_250", "IV_-40"} <= set(features)
    currents = _load(tmp_path / "efeatures" / "holding_threshold_currents.json")
    assert set(currents["all_threshold_current"]) == {
        "SimCell1",
        "SimCell2",
        "SimCell3",
    }
    assert all(0.05 < v < 0.3 for v in currents["all_threshold_current"].values())


def test_python_dash_m_runs_the_cli() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "efex_gui", "--version"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0
    assert result.stdout.startswith("efex ")


def test_native_prints_never_reach_stdout(capfd: pytest.CaptureFixture[str]) -> None:
    """efel/LAPACK print from C to fd 1 and 2: nowhere by default, stderr with -v."""
    import os

    from efex_gui.cli_runtime import native_output

    with native_output(quiet=False, verbose=True):
        os.write(1, b"native noise\n")
    out, err = capfd.readouterr()
    assert "native noise" not in out
    assert "native noise" in err
    with native_output(quiet=False):
        os.write(1, b"hidden one\n")
        os.write(2, b"hidden two\n")
    out, err = capfd.readouterr()
    assert "hidden" not in out + err, "without -v the C libraries' noise is kept off"
    with native_output(quiet=True):
        os.write(1, b"one\n")
        os.write(2, b"two\n")
    os.write(1, b"after\n")
    out, err = capfd.readouterr()
    assert out == "after\n"
    assert err == ""


def test_rheobase_honours_a_session_override(
    b6b8: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    session_module = pytest.importorskip("efex_gui.core.session.document")
    inputs, root = b6b8
    session = session_module.Session.from_dict(_load(inputs), base_dir=root)
    session.rheobase_overrides = {"MouseNeuron1": 0.2}
    session.save(tmp_path / "run.efex.json")
    assert main(["rheobase", str(tmp_path / "run.efex.json"), "-q"]) == EXIT_OK
    (line,) = [
        row
        for row in capsys.readouterr().out.splitlines()
        if row.startswith("MouseNeuron1")
    ]
    assert line.split()[1] == "0.2000"
