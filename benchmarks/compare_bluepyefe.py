"""Run efex_gui's and BluePyEfe's extraction on the same inputs, side by side.

Each run happens in a fresh subprocess so wall time and peak memory (max RSS of that
process and its children) are measured the same way for both. Prints one line per run
and the ratios efex/BluePyEfe, and checks that the numbers agree.

Usage (from the project root, with ../shared beside it)::

    python benchmarks/compare_bluepyefe.py                 # sscx-dev4, serial
    python benchmarks/compare_bluepyefe.py --workers 2     # both with 2 processes
    python benchmarks/compare_bluepyefe.py --replicate 11  # 44 cells (4 x 11)
    python benchmarks/compare_bluepyefe.py --only efex     # skip BluePyEfe
    python benchmarks/compare_bluepyefe.py --repeat 3      # 3 alternating pairs

``cpu`` is the user + system time of the run's process and its pool workers (less
sensitive than wall time to other jobs on a shared machine; with workers it includes
their start-up). With ``--repeat`` the ratios use the medians.

BluePyEfe (``pip install bluepyefe==2.3.63``) is used here only as the reference.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"

RUNNER = r"""
import json, resource, sys, time, warnings, logging
warnings.filterwarnings("ignore")
logging.disable(logging.WARNING)
cfg = json.load(open(sys.argv[1]))
lib, out = sys.argv[2], sys.argv[3]
workers, low_memory = int(sys.argv[4]), sys.argv[5] == "1"
if lib == "efex":
    from efex_gui.extract import extract_efeatures
else:
    from bluepyefe.extract import extract_efeatures
kwargs = dict(cfg)
pool = None
if workers > 1:
    import multiprocessing
    pool = multiprocessing.Pool(workers)
    kwargs["map_function"] = pool.map
if low_memory:
    kwargs["low_memory_mode"] = True
def cpu():
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime
t0, c0 = time.perf_counter(), cpu()
extract_efeatures(output_directory=out, write_files=True, **kwargs)
wall = time.perf_counter() - t0
if pool is not None:
    pool.close(); pool.join()
cpu_s = cpu() - c0
self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
child_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"wall_s": wall, "cpu_s": cpu_s,
                  "peak_mb": max(self_kb, child_kb) / 1024,
                  "sum_peak_mb": (self_kb + child_kb) / 1024}))
"""


def load_inputs(dataset: str, replicate: int) -> dict:
    """Oracle inputs with absolute paths, the cells replicated ``replicate`` times."""
    inputs = json.loads((SHARED / "oracle" / dataset / "inputs.json").read_text())
    files_metadata = {}
    for k in range(replicate):
        for cell, protocols in inputs["files_metadata"].items():
            name = cell if replicate == 1 else f"{cell}-r{k}"
            files_metadata[name] = {
                protocol: [
                    {
                        key: (
                            str(SHARED / val)
                            if key in ("i_file", "v_file", "filepath")
                            else val
                        )
                        for key, val in meta.items()
                    }
                    for meta in metas
                ]
                for protocol, metas in protocols.items()
            }
    inputs["files_metadata"] = files_metadata
    return inputs


def run(lib: str, config: Path, out: Path, workers: int, low_memory: bool) -> dict:
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            RUNNER,
            str(config),
            lib,
            str(out),
            str(workers),
            "1" if low_memory else "0",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if proc.returncode != 0:
        raise SystemExit(f"{lib} run failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def max_rel_diff(a: object, b: object, path: str = "") -> tuple[float, str]:
    """Largest relative difference between two JSON trees (inf if the keys differ)."""
    if isinstance(a, dict) and isinstance(b, dict):
        if list(a) != list(b):
            return math.inf, f"{path}: keys differ"
        worst = (0.0, "")
        for key in a:
            worst = max(worst, max_rel_diff(a[key], b[key], f"{path}/{key}"))
        return worst
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return math.inf, f"{path}: lengths differ"
        worst = (0.0, "")
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            worst = max(worst, max_rel_diff(x, y, f"{path}[{i}]"))
        return worst
    if (
        isinstance(a, (int, float))
        and isinstance(b, (int, float))
        and not isinstance(a, bool)
    ):
        if math.isnan(a) and math.isnan(b):
            return 0.0, ""
        if a == b:
            return 0.0, ""
        return abs(a - b) / max(abs(a), abs(b)), path
    return (0.0, "") if a == b else (math.inf, f"{path}: {a!r} != {b!r}")


def _medians(runs: list[dict]) -> dict:
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="sscx-dev4")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--replicate", type=int, default=1)
    parser.add_argument("--only", choices=["efex", "bluepyefe"])
    parser.add_argument(
        "--repeat", type=int, default=1, help="alternate the runs N times (medians)"
    )
    parser.add_argument(
        "--bluepyefe-low-memory",
        action="store_true",
        help="also run BluePyEfe in its low_memory_mode (memory reference)",
    )
    args = parser.parse_args()

    inputs = load_inputs(args.dataset, args.replicate)
    n_cells = len(inputs["files_metadata"])
    n_files = sum(len(m) for p in inputs["files_metadata"].values() for m in p.values())
    print(
        f"dataset {args.dataset}: {n_cells} cells, {n_files} file entries, "
        f"workers={args.workers}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "inputs.json"
        config.write_text(json.dumps(inputs))
        runs = []
        if args.only != "bluepyefe":
            runs.append(("efex", False))
        if args.only != "efex":
            runs.append(("bluepyefe", False))
            if args.bluepyefe_low_memory:
                runs.append(("bluepyefe", True))
        results: dict[str, tuple[list[dict], Path]] = {}
        for _ in range(args.repeat):
            for lib, low in runs:
                label = lib + (" low_memory_mode" if low else "")
                out = Path(tmp) / label.replace(" ", "_")
                res = run(lib, config, out, args.workers if not low else 1, low)
                results.setdefault(label, ([], out))[0].append(res)
                print(
                    f"{label:28s} wall {res['wall_s']:8.2f} s"
                    f"   cpu {res['cpu_s']:8.2f} s   peak {res['peak_mb']:8.1f} MB",
                    flush=True,
                )
        med = {label: _medians(rs) for label, (rs, _) in results.items()}
        if args.repeat > 1:
            for label, m in med.items():
                print(
                    f"{label:28s} median wall {m['wall_s']:8.2f} s"
                    f"   cpu {m['cpu_s']:8.2f} s   peak {m['peak_mb']:8.1f} MB"
                )
        if "efex" in results and "bluepyefe" in results:
            e, b = med["efex"], med["bluepyefe"]
            print(
                f"ratio efex/bluepyefe: time {e['wall_s'] / b['wall_s']:.3f} "
                f"(speed-up x{b['wall_s'] / e['wall_s']:.1f}), "
                f"cpu {e['cpu_s'] / b['cpu_s']:.3f}, "
                f"peak memory {e['peak_mb'] / b['peak_mb']:.3f}"
            )
            if "bluepyefe low_memory_mode" in results:
                lm = med["bluepyefe low_memory_mode"]
                print(
                    f"efex peak / bluepyefe low_memory_mode peak: "
                    f"{e['peak_mb'] / lm['peak_mb']:.3f}"
                )
            for name in (
                "features.json",
                "protocols.json",
                "holding_threshold_currents.json",
            ):
                ours = json.loads((results["efex"][1] / name).read_text())
                theirs = json.loads((results["bluepyefe"][1] / name).read_text())
                diff, where = max_rel_diff(ours, theirs)
                print(f"{name:34s} max relative difference {diff:.3g} {where}")


if __name__ == "__main__":
    main()
