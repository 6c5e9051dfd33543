"""Flag rate of every automatic QC check, and window accuracy, on the shared data.

Each path is opened as ``efex inspect`` opens it (a folder: the GUI's default import
with the consensus windows; a file: the same import of that file alone). Prints, per
check, how many sweeps it applies to and how many it flags; then, for the SSCx
cells, the share of IDrest/IDthresh/APWaveform/IV windows within 3 ms of the lab's
timings and each cell's rheobase against the ``sscx-dev4`` oracle.

Usage::

    PYTHONPATH=. python3 benchmarks/qc_flag_rates.py [SHARED_DATA]
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from efex_gui.cli_inspect import load_path
from efex_gui.core.errors import EfexError
from efex_gui.core.extraction.read_and_extract import read_recordings
from efex_gui.core.extraction.request import RunExtras
from efex_gui.core.recordings.qc_settings import CHECKS
from efex_gui.core.recordings.sweep_qc import evaluate_recordings
from efex_gui.core.rheobase.strategies import compute_rheobase

LAB = {"IDrest": (700, 2700), "IDthresh": (700, 2700), "APWaveform": (5, 55),
       "IV": (20, 1020)}  # fmt: skip
PATHS = (
    "sscx/input-traces",
    "bluepyefe-exp-data/B6",
    "bluepyefe-exp-data/B8",
    "bluepyefe-exp-data/hippocampus-portal",
    "formats/abf",
)


def _cells(path: Path) -> list[Any]:
    loaded = load_path(path)
    kwargs = loaded.kwargs
    return read_recordings(
        kwargs["files_metadata"], None, map, kwargs.get("efel_settings"),
        RunExtras(consensus_timing=bool(kwargs.get("consensus_timing"))),
    )  # fmt: skip


def main(shared: Path) -> None:
    """Print the flag rates, window accuracy and rheobases."""
    counts = {c.name: [0, 0] for c in CHECKS}
    sweeps = flagged_sweeps = 0
    by_dataset: dict[str, list[Any]] = {}
    for relative in PATHS:
        start = time.perf_counter()
        try:
            cells = _cells(shared / relative)
        except EfexError as exc:
            print(f"{relative}: not read ({exc})")
            continue
        by_dataset[relative] = cells
        n = 0
        for cell in cells:
            for row in evaluate_recordings(cell.recordings):
                n += 1
                sweeps += 1
                flagged_sweeps += any(r.flagged for r in row)
                for r in row:
                    counts[r.check][0] += r.applicable
                    counts[r.check][1] += r.flagged
        print(f"{relative}: {n} sweeps, {time.perf_counter() - start:.1f} s")
    print(f"\n{sweeps} sweeps, {flagged_sweeps} flagged by at least one check "
          f"({100 * flagged_sweeps / max(sweeps, 1):.1f} %)")  # fmt: skip
    print(f"{'check':22s} {'applies':>8s} {'flagged':>8s} {'rate':>7s}")
    for check in CHECKS:
        applies, flagged = counts[check.name]
        rate = 100 * flagged / applies if applies else 0.0
        print(f"{check.name:22s} {applies:8d} {flagged:8d} {rate:6.1f}%")
    _sscx(shared, by_dataset.get("sscx/input-traces", []))


def _sscx(shared: Path, cells: list[Any]) -> None:
    total = close = 0
    for cell in cells:
        for recording in cell.recordings:
            if recording.protocol_name in LAB:
                ton, toff = LAB[recording.protocol_name]
                total += 1
                close += (
                    abs(recording.ton - ton) <= 3 and abs(recording.toff - toff) <= 3
                )
    if not total:
        return
    print(f"\nSSCx windows within 3 ms of the lab's: {close}/{total}")
    oracle = json.loads(
        (shared / "oracle/sscx-dev4/holding_threshold_currents.json").read_text()
    )["all_threshold_current"]
    compute_rheobase(cells, ["IDrest", "IDthresh"], "absolute", {"spike_threshold": 1})
    for cell in cells:
        ref = oracle[cell.name]
        print(f"  {cell.name}: rheobase {cell.rheobase:.4f} nA, oracle {ref:.4f} nA "
              f"({100 * (cell.rheobase / ref - 1):+.2f} %)")  # fmt: skip


if __name__ == "__main__":
    here = Path(__file__).resolve().parents[1]
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else here.parent / "shared" / "data")
