"""``efex extract --dask ADDRESS`` on a real scheduler and two worker processes.

The test starts ``dask scheduler`` and two ``dask worker`` processes on 127.0.0.1
(random ports, no dashboard), runs the CLI against the scheduler in a subprocess on the
session's 2-cell demo (a cell per worker) and compares the outputs with a serial run of
the same command in this process; the processes are stopped whatever happens.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from typing import TYPE_CHECKING

import pytest

from tests.conftest import ROOT

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pytest.importorskip("distributed")
DASK = shutil.which("dask")
STARTUP_S = 90
RUN_S = 600


def _stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)


@pytest.fixture
def scheduler(tmp_path: Path) -> Iterator[str]:
    """The address of a scheduler with two single-threaded worker processes."""
    if DASK is None:
        pytest.skip("the 'dask' command (dask[distributed]) is not installed")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    info = tmp_path / "scheduler.json"
    processes = [
        subprocess.Popen(
            [
                DASK,
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--no-dashboard",
                "--scheduler-file",
                str(info),
            ],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    ]
    try:
        deadline = time.monotonic() + STARTUP_S
        while not info.exists() or not info.read_text().strip():
            assert processes[0].poll() is None, "the scheduler exited"
            assert time.monotonic() < deadline, "no scheduler file in time"
            time.sleep(0.2)
        address = json.loads(info.read_text())["address"]
        for name in ("w1", "w2"):
            processes.append(
                subprocess.Popen(
                    [
                        DASK,
                        "worker",
                        address,
                        "--nworkers",
                        "1",
                        "--nthreads",
                        "1",
                        "--no-dashboard",
                        "--name",
                        name,
                        "--local-directory",
                        str(tmp_path / name),
                    ],
                    env=env,
                    cwd=tmp_path,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        from distributed import Client

        with Client(address, timeout=STARTUP_S) as client:
            client.wait_for_workers(2, timeout=STARTUP_S)
            assert len(client.scheduler_info()["workers"]) == 2
        yield address
    finally:
        _stop(processes[1:])
        _stop(processes[:1])


def test_cli_on_a_dask_scheduler_with_two_workers(
    tmp_path: Path, scheduler: str, demo_dir: Path
) -> None:
    from efex_gui.cli import EXIT_OK, main

    config = demo_dir / "config.json"
    common = [str(config), "-q", "--no-cache"]
    assert main(["extract", *common, "-o", str(tmp_path / "serial")]) == EXIT_OK
    on_dask = ["-o", str(tmp_path / "dask"), "--dask", scheduler]
    subprocess.run(
        [sys.executable, "-m", "efex_gui", "extract", *common, *on_dask],
        check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
        timeout=RUN_S,
    )
    for name in ("features.json", "protocols.json", "holding_threshold_currents.json"):
        serial = json.loads((tmp_path / "serial" / name).read_text())
        distributed = json.loads((tmp_path / "dask" / name).read_text())
        assert json.dumps(distributed, sort_keys=True) == json.dumps(
            serial, sort_keys=True
        ), name
    assert json.loads((tmp_path / "dask" / "features.json").read_text())
