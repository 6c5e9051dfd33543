"""The GUI at the scale of the full SSCx set: measures and prints, asserts nothing.

The 4 SSCx cells of ``../shared/data/sscx/input-traces`` are duplicated by symbolic
links into 44 cells (about 11,000 files), then the real widgets are driven:

1. the import dialog: scan the folder, guess the name pattern, pair the files (the
   first file of each cell and channel is opened to read its unit), fill the preview;
2. the tree: a new session listed in the browser (nothing read yet);
3. selecting an unread sweep until the trace plot has drawn it;
4. reading everything on the worker thread for ``--load-seconds``, while a 5 ms
   QTimer measures how long the event loop stalls and sweeps are selected and drawn;
5. selecting sweeps that were already read.

Usage::

    QT_QPA_PLATFORM=offscreen python3 benchmarks/gui_scale.py \
        [--copies 11] [--folder /tmp/efex_sscx44] [--load-seconds 60]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared" / "data" / "sscx" / "input-traces"


def make_folder(source: Path, target: Path, copies: int) -> int:
    """Symlink every cell folder of ``source`` ``copies`` times into ``target``."""
    count = 0
    for cell in sorted(p for p in source.iterdir() if p.is_dir()):
        for copy in range(copies):
            folder = target / f"{cell.name}-{copy:02d}"
            folder.mkdir(parents=True, exist_ok=True)
            for file in cell.iterdir():
                link = folder / file.name
                if not link.exists():
                    link.symlink_to(file.resolve())
                count += 1
    return count


class StallMeter:
    """A 5 ms QTimer; the longest gap between two ticks is the worst stall."""

    def __init__(self) -> None:
        from PySide6.QtCore import QTimer

        self.gaps: list[float] = []
        self._last = time.perf_counter()
        self.timer = QTimer(interval=5)
        self.timer.timeout.connect(self._tick)

    def start(self) -> None:
        self.gaps, self._last = [], time.perf_counter()
        self.timer.start()

    def stop(self) -> dict[str, float]:
        self.timer.stop()
        gaps = sorted(self.gaps) or [0.0]
        return {
            "max_ms": gaps[-1] * 1000,
            "p99_ms": gaps[int(0.99 * (len(gaps) - 1))] * 1000,
            "median_ms": statistics.median(gaps) * 1000,
        }

    def _tick(self) -> None:
        now = time.perf_counter()
        self.gaps.append(now - self._last)
        self._last = now


def spin(seconds: float) -> None:
    """Run the event loop for ``seconds``."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()


def time_draw(window: Any, sweep: Any) -> float:
    """Seconds from selecting ``sweep`` to the plot's ``drawn`` signal."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    window.plot.drawn.connect(loop.quit)
    QTimer.singleShot(30_000, loop.quit)
    start = time.perf_counter()
    window.controller.select_sweeps([sweep])
    loop.exec()
    elapsed = time.perf_counter() - start
    window.plot.drawn.disconnect(loop.quit)
    return elapsed


def pick_sweeps(controller: Any, n: int) -> list[Any]:
    """One sweep of ``n`` different (cell, protocol) pairs, spread over the set."""
    dataset = controller.dataset
    pairs = [(c, p) for c in dataset.cells() for p in dataset.protocols(c)]
    step = max(1, len(pairs) // n)
    picked = []
    for cell, protocol in pairs[::step][:n]:
        sweeps = dataset.sweeps(cell, protocol)
        picked.append(sweeps[len(sweeps) // 2])
    return picked


def report(name: str, values: list[float]) -> None:
    ms = [v * 1000 for v in values]
    print(
        f"{name}: median {statistics.median(ms):.0f} ms, max {max(ms):.0f} ms "
        f"(n={len(ms)})"
    )


def run(folder: Path, load_seconds: float) -> None:
    """Drive the widgets on ``folder`` and print the numbers."""
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    from efex_gui.app.qt_workarounds import pin_singletons

    pin_singletons()
    from efex_gui.app.controller import SessionController
    from efex_gui.app.preferences import Preferences
    from efex_gui.core.importing.file_names import scan_folder
    from efex_gui.widgets.import_dialog import ImportDialog
    from efex_gui.widgets.main_window import MainWindow

    ini = Path(tempfile.mkdtemp()) / "prefs.ini"
    preferences = Preferences(QSettings(str(ini), QSettings.Format.IniFormat))
    controller = SessionController()
    window = MainWindow(controller, preferences)
    window.confirm_close = False
    window.resize(1600, 1000)
    window.show()
    app.processEvents()
    out = print

    start = time.perf_counter()
    files = scan_folder(folder)
    out(f"scan_folder: {len(files)} files in {time.perf_counter() - start:.2f} s")
    start = time.perf_counter()
    dialog = ImportDialog(folder, None, preferences, window)
    dialog.show()
    app.processEvents()
    out(
        f"import dialog open (scan, guess pattern, pair, preview): "
        f"{time.perf_counter() - start:.2f} s -> {dialog.summary.text()}"
    )
    start = time.perf_counter()
    dialog.update_preview()
    app.processEvents()
    out(f"import preview refresh (pattern edit): {time.perf_counter() - start:.2f} s")
    files_metadata = dialog.files_metadata()
    dialog.close()

    start = time.perf_counter()
    controller.new_session(files_metadata, folder, dialog.ecode_overrides)
    app.processEvents()
    model = window.browser.model
    out(
        f"tree listed: {model.rowCount()} cells, "
        f"{len(controller.dataset.entry_keys())} entries in "
        f"{time.perf_counter() - start:.2f} s (nothing read)"
    )

    sweeps = pick_sweeps(controller, 12)
    report("select unread sweep -> drawn", [time_draw(window, s) for s in sweeps])

    meter = StallMeter()
    meter.start()
    controller.load_all()
    during: list[float] = []
    end = time.perf_counter() + load_seconds
    others = pick_sweeps(controller, 40)[12:]
    while controller.is_busy() and time.perf_counter() < end:
        spin(0.5)
        if others:
            during.append(time_draw(window, others.pop()))
    read = sum(controller.dataset.is_loaded(k) for k in controller.dataset.entry_keys())
    elapsed = load_seconds - max(0.0, end - time.perf_counter())
    stalls = meter.stop()
    out(
        f"background reading: {read} entries in {elapsed:.0f} s "
        f"({read / max(elapsed, 1e-9):.0f}/s); event-loop stall max "
        f"{stalls['max_ms']:.0f} ms, p99 {stalls['p99_ms']:.0f} ms, median "
        f"{stalls['median_ms']:.1f} ms (5 ms timer)"
    )
    if during:
        report("select sweep -> drawn, while reading", during)
    controller.cancel_task()
    spin(0.5)
    loaded = controller.dataset.is_loaded
    read = [s for s in pick_sweeps(controller, 40) if loaded(s.entry_key)][:12]
    if read:
        report("select read sweep -> drawn", [time_draw(window, s) for s in read])
    if read:
        report("exclude/include a read sweep -> drawn", toggle_times(window, read))
    window.close()
    controller.shutdown()


def toggle_times(window: Any, sweeps: list[Any]) -> list[float]:
    """Seconds from toggling a sweep's exclusion to the plot's redraw."""
    from PySide6.QtCore import QEventLoop, QTimer

    times = []
    for sweep in sweeps[:6]:
        time_draw(window, sweep)
        for _ in range(2):
            loop = QEventLoop()
            window.plot.drawn.connect(loop.quit)
            QTimer.singleShot(30_000, loop.quit)
            start = time.perf_counter()
            window.controller.toggle_selection_excluded()
            loop.exec()
            times.append(time.perf_counter() - start)
            window.plot.drawn.disconnect(loop.quit)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=11)
    parser.add_argument("--folder", type=Path, default=Path("/tmp/efex_sscx44"))
    parser.add_argument("--load-seconds", type=float, default=60.0)
    parser.add_argument("--source", type=Path, default=SHARED)
    args = parser.parse_args(argv)
    if not args.source.is_dir():
        print(f"no SSCx data at {args.source}")
        return 1
    start = time.perf_counter()
    links = make_folder(args.source, args.folder, args.copies)
    print(
        f"{args.folder}: {links} files ({args.copies} copies of each cell) "
        f"ready in {time.perf_counter() - start:.1f} s"
    )
    run(args.folder, args.load_seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
