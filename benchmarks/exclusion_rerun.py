"""The GUI's rerun after an exclusion, without the GUI: how long, and what it touched.

Builds a session from an inputs/config JSON (cells replicated ``--copies`` times on
the same files: the copies share the feature values, only the number of cells
grows), runs the :class:`~efex_gui.core.extraction.incremental.IncrementalExtractor`
once, then excludes ``--exclusions`` sweeps that a target window holds (one at a
time, in different cells, as a user clicking in the feature plot) and times each
rerun, as the GUI reruns after an edit (``check_files=False``; ``--check-files``
stats every file as a Run does). With ``--check`` every rerun's three output dicts
are compared with a full ``extract_efeatures`` on the same exclusions. With
``--profile FILE`` the reruns are profiled (cProfile) into FILE. Prints one JSON
document::

    {"cells": int, "first_run_s": float, "rerun_ms": [float, ...],
     "rerun_ms_median": float, "identical": bool | null}

Asserts nothing; never run as a test.

Usage::

    python3 benchmarks/exclusion_rerun.py ../shared/data/oracle/sscx-dev4/inputs.json \\
        --data-root ../shared/data [--copies 11] [--check] [--profile out.prof]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def exclusion_keys(result: Any, session: Any, n: int) -> list[Any]:
    """``n`` sweeps held by target windows, each in another cell when possible."""
    from efex_gui.core.importing.file_names import entry_file
    from efex_gui.core.session.exclusions import ExclusionKey

    keys: list[Any] = []
    seen: set[str] = set()
    for protocol in result.protocols:
        for recording in protocol.recordings:
            ref = result.sweep_ref(recording)
            if ref is None or ref.cell in seen:
                continue
            config = session.files_metadata[ref.cell][ref.protocol][ref.entry]
            keys.append(
                ExclusionKey(ref.cell, ref.protocol, entry_file(config), ref.index)
            )
            seen.add(ref.cell)
            if len(keys) == n:
                return keys
    return keys


def same_outputs(result: Any, session: Any) -> bool:
    """Whether the result's three dicts equal a full extraction's, bit for bit."""
    from efex_gui.core.extraction.pipeline import extract_efeatures

    outputs = extract_efeatures(None, **session.to_extract_kwargs())
    mine = (result.features, result.protocol_definitions, result.currents)
    return all(
        json.dumps(a, sort_keys=True, default=repr)
        == json.dumps(b, sort_keys=True, default=repr)
        for a, b in zip(mine, outputs, strict=True)
    )


def main(argv: list[str] | None = None) -> int:
    """Run the reruns and print their numbers."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("inputs", type=Path)
    parser.add_argument("--data-root", type=Path, default=None)
    parser.add_argument("--copies", type=int, default=1)
    parser.add_argument("--exclusions", type=int, default=5)
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--profile", type=Path, default=None)
    parser.add_argument("--cache-dir", type=Path, default=None)
    parser.add_argument(
        "--check-files",
        action="store_true",
        help="stat every file on each rerun (the GUI's automatic rerun does not)",
    )
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)

    from gui_workflow import prepare_json

    from efex_gui.core.extraction.feature_cache import FeatureCache
    from efex_gui.core.extraction.feature_store import FeatureStore
    from efex_gui.core.extraction.incremental import IncrementalExtractor
    from efex_gui.core.session.document import open_json

    work = Path(tempfile.mkdtemp(prefix="efex-exclusion-"))
    root = args.data_root or args.inputs.parent
    session = open_json(prepare_json(args.inputs, root, args.copies, work, True))
    store = FeatureStore(args.cache_dir) if args.cache_dir else None
    extractor = IncrementalExtractor(FeatureCache(store=store))
    start = time.perf_counter()
    result = extractor.run(session)
    first = time.perf_counter() - start
    profiler = cProfile.Profile() if args.profile else None
    times, identical = [], []
    for key in exclusion_keys(result, session, args.exclusions):
        session.exclusions = session.exclusions.with_excluded([key])
        start = time.perf_counter()
        if profiler is not None:
            profiler.enable()
        result = extractor.run(session, check_files=args.check_files)
        if profiler is not None:
            profiler.disable()
        times.append(1000 * (time.perf_counter() - start))
        if args.check:
            identical.append(same_outputs(result, session))
    if profiler is not None:
        profiler.dump_stats(str(args.profile))
    document = {
        "cells": len(session.files_metadata),
        "first_run_s": first,
        "rerun_ms": times,
        "rerun_ms_median": statistics.median(times) if times else None,
        "identical": all(identical) if args.check else None,
    }
    print(json.dumps(document))
    return 0


if __name__ == "__main__":
    sys.exit(main())
