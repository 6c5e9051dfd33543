"""The extraction UI on the SSCx cells: exclusion → plots time, screenshots.

Opens the ``sscx-dev4`` oracle inputs (4 cells, 1573 targets) as a session in the
real main window, runs the extraction, then excludes sweeps from the feature plot and
measures the time from the click to the redrawn plots (the controller's
``update_timed`` plus the paint of the event loop). Prints the numbers, asserts
nothing; ``--profile`` prints the GUI-side hot spots of one exclusion;
``--screenshots DIR`` saves the target editor, settings, rheobase view, feature plot
and results table.

Usage::

    xvfb-run -a -s "-screen 0 1600x1000x24" python3 benchmarks/extraction_gui.py \
        [--exclusions 5] [--profile] [--screenshots docs/images]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from qt_events import wait_for

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared" / "data"


def build(app: Any) -> tuple[Any, Any]:
    """The main window with the SSCx session opened."""
    from PySide6.QtCore import QSettings

    from efex_gui.app.controller import SessionController
    from efex_gui.app.preferences import Preferences
    from efex_gui.core.session.document import Session
    from efex_gui.widgets.main_window import MainWindow

    inputs = json.loads((SHARED / "oracle" / "sscx-dev4" / "inputs.json").read_text())
    ini = Path(tempfile.mkdtemp()) / "prefs.ini"
    controller = SessionController()
    window = MainWindow(
        controller, Preferences(QSettings(str(ini), QSettings.Format.IniFormat))
    )
    window.confirm_close = False
    window.resize(1600, 1000)
    window.show()
    controller.set_session(Session.from_dict(inputs, SHARED))
    app.processEvents()
    return window, controller


def exclude_once(app: Any, window: Any, index: int) -> tuple[float, float, float]:
    """Exclude one point of the feature plot: (run, controller, painted) seconds."""
    extraction, plot = window.extraction, window.extraction_ui["feature_plot"]
    point = plot.points[index % len(plot.points)]
    plot.select_point(point)
    app.processEvents()
    start = time.perf_counter()
    plot.exclude_button.click()
    (seconds,) = wait_for(app, extraction.update_timed)
    app.processEvents()  # the repaint of the docks
    run = getattr(extraction.result, "seconds", float("nan"))
    return run, seconds, time.perf_counter() - start


def cancel_latency(app: Any, window: Any, stage: str) -> float:
    """Seconds from Cancel to ``run_cancelled`` in a fresh run, during ``stage``."""
    extraction = window.extraction
    kept = extraction.result
    extraction.worker.clear_caches()  # a run that really reads and calls efel
    extraction.set_settings(extraction.with_settings(threshold_nvalue_save=2))
    extraction.run()
    seen: list[Any] = []

    def on_progress(progress: Any) -> None:
        if progress.message.startswith(stage) and progress.done > 5:
            seen.append(progress)

    extraction.run_progressed.connect(on_progress)
    while not seen:
        app.processEvents()
        time.sleep(0.002)
    extraction.run_progressed.disconnect(on_progress)
    start = time.perf_counter()
    window.extraction_ui["bar"].cancel_button.click()
    wait_for(app, extraction.run_cancelled)
    seconds = time.perf_counter() - start
    assert extraction.result is kept, "a cancelled run leaves the results"
    extraction.sc.undo_stack.undo()
    return seconds


def screenshots(app: Any, window: Any, folder: Path) -> None:
    """Save each extraction dock, raised in turn, and the whole window."""
    folder.mkdir(parents=True, exist_ok=True)
    editor = window.extraction_ui["targets"]
    targets = window.extraction.targets or []
    row = next(
        (
            i
            for i, t in enumerate(targets)
            if t["protocol"] == "IDrest" and t["amplitude"] >= 150
        ),
        0,
    )
    editor.view.selectRow(row)
    editor.view.scrollTo(editor.model.index(row, 0))
    names = {
        "targets_dock": "extraction_targets",
        "settings_dock": "extraction_settings",
        "rheobase_dock": "extraction_rheobase",
        "feature_plot_dock": "extraction_feature_plot",
        "results_dock": "extraction_results",
    }
    for dock in window.extraction_ui["docks"]:
        dock.raise_()
        for _ in range(5):
            app.processEvents()
            time.sleep(0.05)
        window.grab().save(str(folder / f"{names[dock.objectName()]}.png"))
    print(f"screenshots in {folder}")


def main(argv: list[str] | None = None) -> int:
    """Run the measurements."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exclusions", type=int, default=5)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--screenshots", type=Path)
    parser.add_argument("--protocol", default="IDrest")
    parser.add_argument("--feature", default="mean_frequency")
    args = parser.parse_args(argv)

    from PySide6.QtWidgets import QApplication

    from efex_gui.app.qt_workarounds import pin_singletons

    pin_singletons()
    app = QApplication.instance() or QApplication(["efex-bench"])
    window, _controller = build(app)
    extraction = window.extraction
    start = time.perf_counter()
    extraction.run()
    wait_for(app, extraction.results_changed)
    print(f"first run: {time.perf_counter() - start:.1f} s")
    plot = window.extraction_ui["feature_plot"]
    window.extraction_ui["docks"][3].raise_()
    plot.choose(args.protocol, args.feature)
    app.processEvents()
    times = [exclude_once(app, window, 3 * i + 1) for i in range(args.exclusions)]
    run, core, painted = ([t[i] for t in times] for i in range(3))
    print(
        f"exclusion → rerun on the worker: median {statistics.median(run):.3f} s,"
        f" max {max(run):.3f} s"
    )
    print(
        f"exclusion → results (controller): median {statistics.median(core):.3f} s,"
        f" max {max(core):.3f} s"
    )
    print(
        f"exclusion click → plots painted: median {statistics.median(painted):.3f} s,"
        f" max {max(painted):.3f} s"
    )
    for stage in ("Reading", "Features"):
        print(
            f"cancel while {stage.lower()}: stopped after "
            f"{cancel_latency(app, window, stage):.3f} s"
        )
    extraction.run()
    wait_for(app, extraction.results_changed)
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        exclude_once(app, window, 7)
        profiler.disable()
        stats = pstats.Stats(profiler).sort_stats("cumulative")
        stats.print_stats(25)
        stats.print_stats("efex_gui", 40)
    if args.screenshots:
        screenshots(app, window, args.screenshots)
    extraction.shutdown()
    window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
