"""The core, efex_gui.extract and the CLI import and run with Qt and matplotlib blocked.

A child Python process installs a ``sys.meta_path`` finder that refuses PySide6,
pyqtgraph, superqt and matplotlib, imports ``efex_gui``, ``efex_gui.extract`` (and
``efex_gui.cli`` when it exists), runs a small extraction on B6/B8 and reports the
modules it loaded.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from typing import TYPE_CHECKING

import pytest

from tests.conftest import ROOT, shared_path

if TYPE_CHECKING:
    from pathlib import Path

BLOCKED = ("PySide6", "pyqtgraph", "superqt", "matplotlib", "shiboken6")

CHILD = textwrap.dedent("""
    import importlib, importlib.util, json, sys

    BLOCKED = {blocked!r}

    class Blocker:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ImportError(f"{{name}} is blocked in this test")
            return None

    sys.meta_path.insert(0, Blocker())
    import efex_gui
    import efex_gui.extract as extract
    if importlib.util.find_spec("efex_gui.cli") is not None:
        import efex_gui.cli
    result = {{}}
    files_metadata = {files_metadata!r}
    if files_metadata:
        targets = [{{"efeature": "Spikecount", "protocol": "IDRest", "amplitude": 150,
                    "tolerance": 20}}]
        features, protocols, currents = extract.extract_efeatures(
            {output!r}, files_metadata, targets=targets, protocols_rheobase=["IDRest"],
            write_files=True)
        result["spikecount"] = features["IDRest_150"]["soma"][0]["val"]
    result["modules"] = sorted(m for m in sys.modules
                               if m.split(".")[0] in BLOCKED)
    print(json.dumps(result))
""")


def _run_child(files_metadata: dict | None, output: Path) -> dict:
    code = CHILD.format(
        blocked=BLOCKED, files_metadata=files_metadata, output=str(output)
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_blocker_works(tmp_path: Path) -> None:
    code = CHILD.format(blocked=BLOCKED, files_metadata=None, output=str(tmp_path))
    code += "\nimport matplotlib\n"
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode != 0
    assert "matplotlib is blocked" in done.stderr


def test_imports_without_qt(tmp_path: Path) -> None:
    assert _run_child(None, tmp_path)["modules"] == []


@pytest.mark.shared
def test_extraction_without_qt(tmp_path: Path) -> None:
    root = shared_path("bluepyefe-exp-data")
    files_metadata = {
        cell: {
            "IDRest": [
                {
                    "i_file": str(root / folder / f"{folder}_Ch0_IDRest_{n}.ibw"),
                    "v_file": str(root / folder / f"{folder}_Ch3_IDRest_{n}.ibw"),
                    "i_unit": "pA",
                    "v_unit": "mV",
                    "t_unit": "s",
                    "dt": 0.00025,
                    "ljp": 14.0,
                }
                for n in sweeps
            ]
        }
        for cell, folder, sweeps in (
            ("MouseNeuron1", "B6", (181, 182)),
            ("MouseNeuron2", "B8", (145, 146)),
        )
    }
    result = _run_child(files_metadata, tmp_path)
    assert result["modules"] == []
    assert result["spikecount"] == [47.0, 3.0]  # spec §6.1, IDRest_150
    assert (tmp_path / "features.json").is_file()
