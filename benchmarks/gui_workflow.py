"""A day in the GUI, timed: open, read all, extract, exclude, save, close, reopen.

In one process, with the real main window (offscreen): open INPUTS (an inputs or
extraction-config JSON, a saved session, or a folder of recordings), read every
entry in the browser, extract, make 5 exclusions from the feature plot (click to
redrawn plots), save the session as File > Save does (the session and its results
beside it), close and free the window, open the saved session in a new window as
File > Open does and wait for its results. Then, in a subprocess, ``efex extract``
on the same inputs. Prints one JSON document::

    {"cells": int,
     "gui": {"open_s", "read_all_s", "extract_s", "exclusion_ms_median",
             "reopen_results_s", "peak_rss_mb", ...},
     "cli": {"extract_s", "peak_rss_mb", "gui_over_cli"},
     "load_average": {"start", "gui_done", "end"}}

Besides the issue's keys, ``gui`` holds ``memory_mb`` (VmRSS and VmHWM after each
stage), ``reopen_efel_calls`` (efel calls until the reopened results were shown,
until the browser's background reads ended and until the cell summary was shown),
``results_file_mb``, the single exclusion times and ``extract_entries`` (the entries
the extraction read from their files, and those it borrowed from browsing).

``--memory-only`` stops after the extraction (memory scaling runs: VmRSS/VmHWM after
reading and after extracting, wall and CPU seconds). ``--reopen-only N``: INPUTS is
a saved session with its results, reopened N times (``--profile-reopen F``: cProfile
of the GUI thread during the last). ``--copies K`` replicates the cells K times
(symlinked copies of their files under new paths, so that no replica shares a cache
entry with another: 4 SSCx cells → 44 with ``--copies 11``; ``--shared-files``: the
replicas read the same paths, so the values of the first copy serve the others). The
GUI and the CLI each start from an empty persistent feature cache of their own (the
reopen uses the GUI's, as a user's would). ``--no-cli`` skips the CLI;
``--profile-memory`` prints tracemalloc's largest allocation sites at each stage
(slow). Asserts nothing; never run as a test.

Usage::

    QT_QPA_PLATFORM=offscreen python3 benchmarks/gui_workflow.py \\
        ../shared/data/oracle/sscx-dev4/inputs.json --data-root ../shared/data \\
        [--copies 11] --json
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import logging
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

from qt_events import settle, spin_until, wait_for

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PATH_KEYS = ("filepath", "v_file", "i_file")
#: seconds between selecting a point and clicking Exclude (the selection is drawn)
SELECTION_SETTLE_S = 0.3


# --- inputs --------------------------------------------------------------------------


def _replica(path: str, root: Path, copy: int, work: Path) -> str:
    """``path`` (absolute) seen through a symlink under ``work/copy<k>``."""
    source = Path(path)
    try:
        relative = source.relative_to(root)
    except ValueError:
        relative = Path(*source.parts[1:])
    target = work / f"copy{copy}" / relative
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(source)
    return str(target)


def prepare_json(
    inputs: Path, data_root: Path, copies: int, work: Path, shared_files: bool = False
) -> Path:
    """A copy of an inputs/config JSON with absolute paths and replicated cells.

    Replicas read symlinks under their own folder (distinct paths: no cache entry
    shared), or with ``shared_files`` the very same paths (memory runs: the values of
    the first copy serve the others, only the number of cells held grows).
    """
    document = json.loads(inputs.read_text())
    files_metadata = document["files_metadata"]
    replicated: dict[str, Any] = {}
    for k in range(copies):
        for cell, protocols in files_metadata.items():
            name = cell if copies == 1 else f"{cell}-c{k}"
            replicated[name] = {
                protocol: [
                    {
                        key: (
                            _replica(
                                str((data_root / value).absolute()),
                                data_root.absolute(),
                                k,
                                work,
                            )
                            if key in PATH_KEYS and copies > 1 and not shared_files
                            else str((data_root / value).absolute())
                            if key in PATH_KEYS
                            else value
                        )
                        for key, value in entry.items()
                    }
                    for entry in entries
                ]
                for protocol, entries in protocols.items()
            }
    document["files_metadata"] = replicated
    document.pop("output_directory", None)
    out = work / "inputs.json"
    out.write_text(json.dumps(document))
    return out


def prepare_folder(
    folder: Path, copies: int, work: Path, controller: Any, preferences: Any
) -> Path:
    """Import a folder with the import dialog's guesses; save it as a session."""
    from efex_gui.widgets.import_dialog import ImportDialog

    source = folder
    if copies > 1:
        source = work / "folder"
        for k in range(copies):
            target = source / f"copy{k}"
            target.mkdir(parents=True, exist_ok=True)
            for item in folder.iterdir():
                (target / item.name).symlink_to(item.absolute())
    dialog = ImportDialog(source, None, preferences, None)
    files_metadata = dialog.files_metadata()
    controller.new_session(files_metadata, source, dialog.ecode_overrides)
    dialog.close()
    out = work / "imported-session.json"
    controller.save_session(out)
    return out


# --- the GUI -------------------------------------------------------------------------


def make_window(app: Any, work: Path) -> tuple[Any, Any]:
    """A main window on a fresh controller (offscreen), preferences in ``work``."""
    from PySide6.QtCore import QSettings

    from efex_gui.app.controller import SessionController
    from efex_gui.app.preferences import Preferences
    from efex_gui.widgets.main_window import MainWindow

    ini = work / f"prefs-{time.monotonic_ns()}.ini"
    controller = SessionController()
    window = MainWindow(
        controller, Preferences(QSettings(str(ini), QSettings.Format.IniFormat))
    )
    window.confirm_close = False
    window.resize(1600, 1000)
    window.show()
    app.processEvents()
    return window, controller


def extraction_reads(window: Any) -> dict[str, int]:
    """Entries the last extraction read from their files, and borrowed from browsing."""
    result = window.extraction.result
    return {"read": result.entries_read, "borrowed": result.entries_cached}


def exclude_once(app: Any, window: Any, index: int) -> float:
    """Exclude one point of the feature plot: click → plots redrawn, in ms."""
    extraction, plot = window.extraction, window.extraction_ui["feature_plot"]
    point = plot.points[index % len(plot.points)]
    plot.select_point(point)
    settle(app, SELECTION_SETTLE_S)  # the selection drawn, as before a person's click
    start = time.perf_counter()
    plot.exclude_button.click()
    wait_for(app, extraction.update_timed)
    app.processEvents()  # the repaint of the docks
    return 1000 * (time.perf_counter() - start)


def show_a_feature(app: Any, window: Any) -> None:
    """Raise the feature plot on the first target's protocol and feature."""
    plot = window.extraction_ui["feature_plot"]
    window.extraction_ui["docks"][3].raise_()
    pairs = [(t["protocol"], t["efeature"]) for t in window.extraction.result.targets]
    if ("IDrest", "mean_frequency") in pairs:  # the SSCx view of the other benchmark
        pairs.insert(0, ("IDrest", "mean_frequency"))
    for protocol, feature in dict.fromkeys(pairs):
        plot.choose(protocol, feature)
        app.processEvents()
        if len(plot.points) >= 10:
            return


def gui_run(app: Any, opened: Path, work: Path, n_exclusions: int) -> dict[str, Any]:
    """The GUI part of the workflow; returns its numbers."""
    numbers: dict[str, Any] = {"memory_mb": {}}
    saved = first_window(app, opened, work, n_exclusions, numbers)
    numbers["memory_mb"]["first_window_closed"] = memory_mb("first_window_closed")
    numbers["reopen_results_s"], numbers["reopen_efel_calls"] = reopen(app, saved, work)
    numbers["memory_mb"]["reopened"] = memory_mb("reopened")
    return numbers


def first_window(
    app: Any, opened: Path, work: Path, n_exclusions: int, numbers: dict[str, Any]
) -> Path:
    """Open, read all, extract, exclude, save, close; returns the saved session."""
    window, controller = make_window(app, work)
    memory = numbers["memory_mb"]
    start = time.perf_counter()
    controller.open_json(opened)
    app.processEvents()
    numbers["open_s"] = time.perf_counter() - start
    start = time.perf_counter()
    controller.load_all()
    spin_until(app, lambda: not controller.is_busy())
    numbers["read_all_s"] = time.perf_counter() - start
    memory["read_all"] = memory_mb("read_all")
    start = time.perf_counter()
    window.extraction.run()
    wait_for(app, window.extraction.results_changed)
    numbers["extract_s"] = time.perf_counter() - start
    numbers["extract_entries"] = extraction_reads(window)
    memory["extracted"] = memory_mb("extracted")
    show_a_feature(app, window)
    clicks = [exclude_once(app, window, 3 * i + 1) for i in range(n_exclusions)]
    numbers["exclusion_ms_median"] = statistics.median(clicks)
    numbers["exclusion_ms"] = clicks
    memory["excluded"] = memory_mb("excluded")
    saved = work / "saved-session.json"
    start = time.perf_counter()
    if not window._save_to(saved):  # File > Save: the session and its results
        raise RuntimeError(f"could not save {saved}")
    numbers["save_s"] = time.perf_counter() - start
    results = saved.with_suffix(".efex-results")
    numbers["results_file_mb"] = results.stat().st_size / 2**20
    numbers["cells"] = len(controller.session.files_metadata)
    close_window(app, window, controller)
    return saved


def memory_run(app: Any, opened: Path, work: Path) -> dict[str, Any]:
    """Open, read all, extract in one window; memory, wall and CPU seconds."""
    window, controller = make_window(app, work)
    numbers: dict[str, Any] = {"memory_mb": {}}
    controller.open_json(opened)
    start, cpu = time.perf_counter(), time.process_time()
    controller.load_all()
    spin_until(app, lambda: not controller.is_busy())
    numbers["read_all_s"] = time.perf_counter() - start
    numbers["read_all_cpu_s"] = time.process_time() - cpu
    numbers["memory_mb"]["read_all"] = memory_mb("read_all")
    start, cpu = time.perf_counter(), time.process_time()
    window.extraction.run()
    wait_for(app, window.extraction.results_changed)
    numbers["extract_s"] = time.perf_counter() - start
    numbers["extract_cpu_s"] = time.process_time() - cpu
    numbers["extract_entries"] = extraction_reads(window)
    numbers["memory_mb"]["extracted"] = memory_mb("extracted")
    numbers["cells"] = len(controller.session.files_metadata)
    numbers["sweeps"] = sum(1 for _ in controller.store.read_recordings())
    close_window(app, window, controller)
    return numbers


def close_window(app: Any, window: Any, controller: Any) -> None:
    """Close a window and free it (its recordings, results and plots)."""
    window.extraction.shutdown()
    window.close()
    controller.shutdown()
    window.deleteLater()
    app.processEvents()
    app.sendPostedEvents(None, 0)  # DeferredDelete
    app.processEvents()
    gc.collect()


def reopen(
    app: Any, saved: Path, work: Path, profile: Path | None = None
) -> tuple[float, dict[str, int]]:
    """Seconds from File > Open of the saved session to its results shown.

    Also returns the efel calls made until the results were shown (0: nothing
    recomputed), until the background reads of the browser ended and until the
    cell summary was shown (the Cells dock; worker thread). ``profile``:
    cProfile of the GUI thread from the open to the results shown, then 2 s more
    (the target check and the first repaints), written there.
    """
    window, controller = make_window(app, work)
    extraction = window.extraction
    shown: list[Any] = []
    extraction.results_changed.connect(
        lambda result: shown.append(result) if result is not None else None
    )
    summarised: list[Any] = []
    window.cell_analysis.summaries_changed.connect(
        lambda summaries: summarised.append(summaries) if summaries else None
    )
    calls = _count_efel_calls()
    profiler = cProfile.Profile() if profile is not None else None
    if profiler is not None:
        profiler.enable()
    start = time.perf_counter()
    window.open_path(saved)  # reads the files in the background, as File > Open
    app.processEvents()
    if not shown and extraction.result is None and not extraction.worker.is_running():
        extraction.run()  # nothing restored the results: extract (cache: no efel)
    spin_until(app, lambda: bool(shown))
    app.processEvents()
    seconds = time.perf_counter() - start
    if profiler is not None and profile is not None:
        spin_until(app, lambda: time.perf_counter() - start > seconds + 2)
        profiler.disable()
        profiler.dump_stats(str(profile))
    efel_calls = {"until_results": calls()}
    spin_until(app, lambda: not controller.is_busy())  # the background reads
    efel_calls["with_background_reads"] = calls()
    spin_until(app, lambda: bool(summarised), what="no cell summary")
    efel_calls["with_cell_summary"] = calls()
    close_window(app, window, controller)
    return seconds, efel_calls


def _count_efel_calls() -> Any:
    """Count efel calls from now on; returns a function giving the count so far."""
    import efel

    count = [0]
    original = efel.get_feature_values

    def counted(*args: Any, **kwargs: Any) -> Any:
        count[0] += 1
        return original(*args, **kwargs)

    efel.get_feature_values = counted
    return lambda: count[0]


def _print_allocations(stage: str) -> None:
    """Python's live memory and its largest allocation sites (efex frames first)."""
    traced, peak = tracemalloc.get_traced_memory()
    print(
        f"--- {stage}: {traced / 2**20:.1f} MB traced (peak {peak / 2**20:.1f} MB)",
        file=sys.stderr,
    )
    snapshot = tracemalloc.take_snapshot()
    for stat in snapshot.statistics("traceback")[:15]:
        frames = [f for f in stat.traceback if "efex_gui" in f.filename]
        where = frames[-1] if frames else stat.traceback[-1]
        top = stat.traceback[-1]
        print(
            f"{stat.size / 2**20:8.1f} MB {stat.count:8d} blocks "
            f"{where.filename.split('/')[-1]}:{where.lineno} "
            f"(in {top.filename.split('/')[-1]}:{top.lineno})",
            file=sys.stderr,
        )


def memory_mb(stage: str = "") -> dict[str, float]:
    """Resident size now (``VmRSS``, after a collection) and peak so far (``VmHWM``).

    Under ``--profile-memory`` the largest live allocation sites go to stderr.
    """
    gc.collect()
    if tracemalloc.is_tracing():
        _print_allocations(stage)
    status = Path("/proc/self/status").read_text().splitlines()
    values = {
        line.split(":")[0]: float(line.split()[1]) / 1024
        for line in status
        if line.startswith(("VmRSS:", "VmHWM:"))
    }
    return {"rss": values.get("VmRSS", -1.0), "peak": values.get("VmHWM", -1.0)}


# --- the CLI -------------------------------------------------------------------------


def cli_run(opened: Path, work: Path) -> dict[str, float]:
    """``efex extract`` in a subprocess with its own empty cache."""
    env = {
        **os.environ,
        "EFEX_CACHE_DIR": str(work / "cli-cache"),
        "PYTHONPATH": str(ROOT),
    }
    # /usr/bin/time measures the child alone (a forked child of this big process
    # would inherit its resident size in ru_maxrss)
    rss_file = work / "cli-maxrss.txt"
    start = time.perf_counter()
    subprocess.run(
        [
            "/usr/bin/time",
            "-f",
            "%M",
            "-o",
            str(rss_file),
            sys.executable,
            "-m",
            "efex_gui",
            "extract",
            str(opened),
            "-o",
            str(work / "cli-out"),
            "-q",
            "--overwrite",
        ],
        check=False,
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    seconds = time.perf_counter() - start
    peak_kb = float(rss_file.read_text().split()[-1])
    return {"extract_s": seconds, "peak_rss_mb": peak_kb / 1024}


def main(argv: list[str] | None = None) -> int:
    """Run the workflow and print its numbers."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("inputs", type=Path)
    parser.add_argument("--copies", type=int, default=1)
    parser.add_argument(
        "--data-root",
        type=Path,
        default=None,
        help="folder the JSON's relative paths start from (default: the JSON's folder)",
    )
    parser.add_argument("--exclusions", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print only the JSON")
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument(
        "--shared-files",
        action="store_true",
        help="replicas read the same paths (memory scaling runs)",
    )
    parser.add_argument("--no-cli", action="store_true", help="skip the CLI run")
    parser.add_argument(
        "--memory-only",
        action="store_true",
        help="open, read all, extract; report memory and CPU (memory scaling runs)",
    )
    parser.add_argument(
        "--reopen-only",
        type=int,
        default=0,
        metavar="N",
        help="INPUTS is a saved session (with its results): only reopen it N times",
    )
    parser.add_argument(
        "--profile-reopen",
        type=Path,
        default=None,
        help="cProfile of the GUI thread during the (last) reopen, written there",
    )
    parser.add_argument(
        "--profile-memory",
        action="store_true",
        help="tracemalloc: the largest allocation sites on stderr at each stage (slow)",
    )
    args = parser.parse_args(argv)
    if args.profile_memory:
        tracemalloc.start(12)
    load = {"start": os.getloadavg()[0]}
    work = args.work or Path(tempfile.mkdtemp(prefix="efex-workflow-"))
    work.mkdir(parents=True, exist_ok=True)
    os.environ["EFEX_CACHE_DIR"] = str(work / "gui-cache")
    logging.disable(logging.WARNING)  # the per-sweep notes of the eCodes

    from PySide6.QtWidgets import QApplication

    from efex_gui.app.qt_workarounds import (
        collect_garbage_in_gui_thread,
        pin_singletons,
    )

    pin_singletons()
    app = QApplication.instance() or QApplication(["efex-workflow"])
    collect_garbage_in_gui_thread(app)  # as efex-gui does (app/main.py)
    if args.reopen_only:
        print(json.dumps(reopen_only(app, args, work, load)))
        return 0
    if args.inputs.is_dir():
        from PySide6.QtCore import QSettings

        from efex_gui.app.controller import SessionController
        from efex_gui.app.preferences import Preferences

        prefs = Preferences(
            QSettings(str(work / "import.ini"), QSettings.Format.IniFormat)
        )
        importer = SessionController()  # stopped here: its thread must not outlive it
        try:
            opened = prepare_folder(args.inputs, args.copies, work, importer, prefs)
        finally:
            importer.shutdown()
    elif _is_session(args.inputs):
        opened = args.inputs
    else:
        root = args.data_root or args.inputs.parent
        opened = prepare_json(args.inputs, root, args.copies, work, args.shared_files)
    if args.memory_only:
        print(json.dumps({**memory_run(app, opened, work), "load_average": load}))
        return 0
    gui = gui_run(app, opened, work, args.exclusions)
    gui["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    cells = gui.pop("cells")
    load["gui_done"] = os.getloadavg()[0]
    cli = {} if args.no_cli else cli_run(opened, work)
    load["end"] = os.getloadavg()[0]
    if cli:
        cli["gui_over_cli"] = gui["extract_s"] / cli["extract_s"]
    document = {"cells": cells, "gui": gui, "cli": cli, "load_average": load}
    if not args.json:
        print(f"work folder: {work}")
    print(json.dumps(document, indent=None if args.json else 2))
    return 0


def reopen_only(
    app: Any, args: argparse.Namespace, work: Path, load: dict[str, float]
) -> dict[str, Any]:
    """Reopen the saved session ``args.inputs`` ``args.reopen_only`` times."""
    seconds, calls = [], []
    for k in range(args.reopen_only):
        last = k == args.reopen_only - 1
        profile = args.profile_reopen if last else None
        took, efel_calls = reopen(app, args.inputs, work, profile)
        seconds.append(took)
        calls.append(efel_calls)
    load["end"] = os.getloadavg()[0]
    return {
        "reopen_results_s": seconds,
        "reopen_efel_calls": calls,
        "memory_mb": memory_mb("reopened"),
        "load_average": load,
    }


def _is_session(path: Path) -> bool:
    try:
        document = json.loads(path.read_text())
    except (OSError, ValueError):
        return False
    return isinstance(document, dict) and "format_version" in document


if __name__ == "__main__":
    raise SystemExit(main())
