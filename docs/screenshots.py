"""Regenerate the user guide's screenshots (``docs/images/guide-*.png``, cell curves).

The application draws them itself: the synthetic demo dataset is written to a
temporary folder and opened in the real main window, which is then driven the way a
user would (import, select and exclude sweeps, targets, settings, extract, rheobase,
feature plot, export), grabbing the window after each step. One command::

    xvfb-run -a -s "-screen 0 1600x1000x24" python3 docs/screenshots.py
    QT_QPA_PLATFORM=offscreen python3 docs/screenshots.py     # no X server needed

``--out DIR`` writes elsewhere; ``--size WxH`` changes the window size. The user's
settings are not touched (preferences go to a temporary file).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run from a checkout without installing

OUT = ROOT / "docs" / "images"


def settle(app: Any, seconds: float = 0.4) -> None:
    """Process events for ``seconds`` (layouts, timers, repaints)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


def wait_until(app: Any, done: Callable[[], bool], timeout_s: float = 300) -> None:
    """Process events until ``done()``; raise after ``timeout_s``."""
    end = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > end:
            raise TimeoutError(f"gave up waiting after {timeout_s} s")
        app.processEvents()
        time.sleep(0.01)


def wait_signal(app: Any, signal: Any, timeout_s: float = 300) -> None:
    """Process events until ``signal`` is emitted once."""
    got: list[Any] = []

    def slot(*args: Any) -> None:
        got.append(args)

    signal.connect(slot)
    try:
        wait_until(app, lambda: bool(got), timeout_s)
    finally:
        signal.disconnect(slot)


class Shooter:
    """Saves grabs of widgets as ``<prefix><name>.png`` (``guide-``) in ``folder``."""

    def __init__(self, app: Any, folder: Path) -> None:
        self.app = app
        self.folder = folder
        self.saved: list[Path] = []
        folder.mkdir(parents=True, exist_ok=True)

    def shot(self, widget: Any, name: str, prefix: str = "guide-") -> None:
        """Let the views settle, then save ``widget``'s picture."""
        settle(self.app)
        path = self.folder / f"{prefix}{name}.png"
        if not widget.grab().save(str(path)):
            raise OSError(f"could not write {path}")
        self.saved.append(path)
        print(f"  {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")  # noqa: T201


def make_window(app: Any, size: tuple[int, int], prefs_file: Path) -> Any:
    """Build the real main window, with preferences kept in ``prefs_file``."""
    from PySide6.QtCore import QSettings

    from efex_gui.app.controller import SessionController
    from efex_gui.app.preferences import Preferences
    from efex_gui.widgets.main_window import MainWindow

    preferences = Preferences(QSettings(str(prefs_file), QSettings.Format.IniFormat))
    window = MainWindow(SessionController(), preferences)
    window.confirm_close = False
    window.resize(*size)
    window.show()
    settle(app)
    return window


def shoot_import(app: Any, shooter: Shooter, window: Any, demo: Path) -> None:
    """Shoot the import dialog on the demo folder (pattern, channels, preview)."""
    from efex_gui.widgets.import_dialog import ImportDialog

    dialog = ImportDialog(demo, None, window.preferences, window)
    dialog.resize(1100, 760)
    dialog.show()
    dialog.update_preview()
    shooter.shot(dialog, "import")
    dialog.close()


def dock_height(app: Any, window: Any, fraction: float) -> None:
    """Give the bottom docks ``fraction`` of the window's height."""
    from PySide6.QtCore import Qt

    docks = window.extraction_ui["docks"]
    height = int(window.height() * fraction)
    window.resizeDocks([docks[0]], [height], Qt.Orientation.Vertical)
    settle(app, 0.2)


def shoot_browse(app: Any, shooter: Shooter, window: Any) -> None:
    """Browse: one sweep shown, one excluded; then two sweeps overlaid."""
    controller = window.controller
    sweeps = controller.dataset.sweeps("SimCell1", "IDRest")
    controller.select_sweeps([sweeps[0]])
    controller.toggle_selection_excluded("noisy baseline")
    controller.select_sweeps([sweeps[4]])
    dock_height(app, window, 0.22)
    shooter.shot(window, "browse")
    controller.select_sweeps([sweeps[2], sweeps[5]])
    shooter.shot(window, "overlay")
    controller.select_sweeps([sweeps[4]])
    dock_height(app, window, 0.42)


def raise_dock(window: Any, name: str) -> Any:
    """Raise the extraction dock ``name`` (targets, settings, rheobase, ...)."""
    names = ["targets", "settings", "rheobase", "feature_plot", "results"]
    dock = window.extraction_ui["docks"][names.index(name)]
    dock.raise_()
    return dock


def shoot_extraction(app: Any, shooter: Shooter, window: Any, export: Path) -> None:
    """Targets, settings, a run, the rheobase view, the feature plot, the export."""
    ui, extraction = window.extraction_ui, window.extraction
    raise_dock(window, "targets")
    targets = list(extraction.targets or [])
    extra = [  # a typo and an amplitude no sweep reaches: what the check says
        {"efeature": "AP_widht", "protocol": "IDRest", "amplitude": 200,
         "tolerance": 20},
        {"efeature": "AP_width", "protocol": "IDRest", "amplitude": 400,
         "tolerance": 20},
    ]  # fmt: skip
    extraction.set_targets(targets + extra, "Add two targets")
    settle(app)
    ui["targets"].view.selectRow(len(targets) + 1)
    shooter.shot(window, "targets")
    window.controller.undo_stack.undo()
    raise_dock(window, "settings")
    shooter.shot(window, "settings")
    if extraction.run():
        wait_signal(app, extraction.results_changed)
    raise_dock(window, "rheobase")
    ui["rheobase"].select_cell("SimCell2")
    shooter.shot(window, "rheobase")
    raise_dock(window, "feature_plot")
    settle(app)  # the plot fills its lists when it is shown
    ui["feature_plot"].choose("IDRest", "mean_frequency")
    shooter.shot(window, "feature-plot")
    shoot_menu(app, shooter, window, "Extraction", "extraction-menu")
    ui["bar"].export_to(export)
    wait_until(app, lambda: (export / "features.json").is_file())
    raise_dock(window, "results")
    shooter.shot(window, "export")


def shoot_cell_curves(app: Any, shooter: Shooter, window: Any) -> None:
    """Shoot the Cell curves dock (f-I, then I-V) beside six IV sweeps of SimCell1."""
    from PySide6.QtWidgets import QDockWidget

    from efex_gui.widgets.cell_plots import CellPlots

    controller = window.controller
    controller.select_sweeps(controller.dataset.sweeps("SimCell1", "IV")[:6])
    dock = next(
        d for d in window.findChildren(QDockWidget) if d.windowTitle() == "Cell curves"
    )
    dock.show()
    dock.raise_()
    plots = window.findChild(CellPlots)
    wait_until(app, lambda: not plots.note.text().startswith("0 cells"))
    plots.tabs.setCurrentIndex(0)
    shooter.shot(window, "cell-curves-fi", prefix="")
    plots.tabs.setCurrentIndex(1)
    shooter.shot(window, "cell-curves-iv", prefix="")


def shoot_menu(app: Any, shooter: Shooter, window: Any, title: str, name: str) -> None:
    """Open the menu ``title`` of the menu bar and save its picture."""
    bar = window.menuBar()
    action = next(a for a in bar.actions() if a.text().replace("&", "") == title)
    menu = action.menu()
    menu.popup(bar.mapToGlobal(bar.actionGeometry(action).bottomLeft()))
    shooter.shot(menu, name)
    menu.close()


def run(out: Path, size: tuple[int, int]) -> list[Path]:
    """Write the demo dataset, drive the window, save every screenshot."""
    import pyqtgraph as pg
    from PySide6.QtWidgets import QApplication

    from efex_gui.app.qt_workarounds import pin_singletons
    from efex_gui.core.synthetic.demo import write_demo_dataset

    pin_singletons()
    app = QApplication.instance() or QApplication(["efex-gui"])
    app.setOrganizationName("efex_gui-docs")
    app.setApplicationName("efex-gui")
    pg.setConfigOptions(antialias=True, background="w", foreground="k")
    shooter = Shooter(app, out)
    # A fixed folder, so the paths shown in the pictures do not change between runs.
    tmp = Path(tempfile.gettempdir()) / "efex-docs"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        demo = tmp / "demo"
        write_demo_dataset(demo)
        window = make_window(app, size, tmp / "prefs.ini")
        shoot_import(app, shooter, window, demo)
        window.open_path(demo / "config.json")
        window.controller.load_all()
        wait_until(app, lambda: not window.controller.is_busy())
        shoot_browse(app, shooter, window)
        shoot_extraction(app, shooter, window, tmp / "export")
        shoot_cell_curves(app, shooter, window)
        window.extraction.shutdown()
        window.controller.shutdown()
        window.close()
        window.deleteLater()
        settle(app, 0.2)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return shooter.saved


def main(argv: list[str] | None = None) -> int:
    """Regenerate the screenshots; returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help="folder to write")
    parser.add_argument("--size", default="1500x950", help="window size (WxH)")
    args = parser.parse_args(argv)
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    width, height = (int(v) for v in args.size.lower().split("x"))
    print(f"screenshots into {args.out}:")  # noqa: T201
    saved = run(args.out, (width, height))
    print(f"{len(saved)} screenshots written")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
