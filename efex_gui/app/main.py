"""``efex-gui``: start the application.

Usage::

    efex-gui                      # empty window
    efex-gui PATH                 # a folder (import dialog), a session or metadata JSON
    efex-gui --demo               # write the synthetic demo dataset and open it
    efex-gui --screenshot out.png [PATH | --demo]   # render the window to a PNG, exit

``--screenshot`` works with ``QT_QPA_PLATFORM=offscreen``: folders are imported with
the best-matching name pattern without showing the dialog, every sweep is read, and
one sweep is selected (``--select CELL/PROTOCOL/ROW``) before the window is grabbed.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the GUI modules are imported when the app starts
    from collections.abc import Callable, Sequence

    from efex_gui.app.controller import SessionController
    from efex_gui.core.session.dataset import SweepKey

from efex_gui.core.log_summary import RepeatSummary

logger = logging.getLogger(__name__)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the command line of ``efex-gui``."""
    parser = argparse.ArgumentParser(
        prog="efex-gui",
        description="See, curate and extract e-features from patch-clamp recordings.",
    )
    parser.add_argument("path", nargs="?", help="folder, session, or metadata JSON")
    parser.add_argument(
        "--demo",
        action="store_true",
        help="open the synthetic demo dataset (written on first use)",
    )
    parser.add_argument(
        "--screenshot",
        metavar="PNG",
        help="render the main window to this PNG file and exit",
    )
    parser.add_argument(
        "--size",
        default="1600x1000",
        help="window size for --screenshot (default 1600x1000)",
    )
    parser.add_argument(
        "--select",
        metavar="CELL/PROTOCOL/ROW",
        help="sweep to select before the screenshot",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="log every warning line (default: one per distinct warning, counted)",
    )
    parser.add_argument(
        "--no-restore",
        action="store_true",
        help="do not offer to restore an autosaved session",
    )
    return parser.parse_args(argv)


def demo_folder() -> Path:
    """Where ``--demo`` writes the synthetic dataset (the user's data folder)."""
    from PySide6.QtCore import QStandardPaths

    base = QStandardPaths.writableLocation(
        QStandardPaths.StandardLocation.AppLocalDataLocation
    )
    return Path(base or Path.home() / ".efex_gui") / "demo"


def ensure_demo(folder: Path) -> Path:
    """Write the demo dataset into ``folder`` unless it is there; its config file."""
    config = folder / "config.json"
    if not config.exists():
        from efex_gui.core.synthetic.demo import write_demo_dataset

        write_demo_dataset(folder)
    return config


def wait_until(predicate: Callable[[], bool], timeout_s: float = 120.0) -> bool:
    """Run the event loop until ``predicate()`` holds (or the timeout passes)."""
    from PySide6.QtWidgets import QApplication

    end = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > end:
            return False
        QApplication.processEvents()
        QApplication.instance().thread().msleep(10)  # type: ignore[union-attr]
    return True


def main(argv: Sequence[str] | None = None) -> int:
    """Start the GUI; returns the exit code."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    repeats = _one_line_per_warning(args.verbose)
    # Qt is imported here, not at module level, so `import efex_gui` stays light.
    import pyqtgraph as pg
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    from efex_gui.app.qt_workarounds import (
        collect_garbage_in_gui_thread,
        pin_singletons,
    )

    collect_garbage_in_gui_thread(app)
    pin_singletons()  # harmless elsewhere; needed with PySide6 6.12.0 on CPython 3.11
    app.setOrganizationName("efex_gui")
    app.setApplicationName("efex-gui")
    pg.setConfigOptions(antialias=False, background="w", foreground="k")

    from efex_gui.app.autosave import Autosaver
    from efex_gui.app.controller import SessionController
    from efex_gui.app.preferences import Preferences
    from efex_gui.widgets.main_window import MainWindow

    preferences = Preferences()
    controller = SessionController()
    window = MainWindow(controller, preferences)
    autosaver = Autosaver(controller, period_s=preferences.autosave_seconds())
    autosaver.keep_results(window.extraction)
    if args.screenshot:
        code = _screenshot(args, window, controller)
        autosaver.close()
        _teardown(window, controller)
        return code
    if not args.no_restore:
        _offer_restore(window, controller, autosaver)
    if not _open_initial(args, window, controller, interactive=True):
        logger.warning("Could not open %s", args.path)
    window.show()
    if args.select:
        wait_until(lambda: not controller.is_busy(), timeout_s=120)
        sweep = _pick_sweep(controller, args.select)
        if sweep is not None:
            controller.select_sweeps([sweep])
    code = app.exec()
    for handler in logging.getLogger().handlers:
        repeats.log_summary(handler)
    if app.property("efex_clean_exit"):
        autosaver.close()
    else:
        autosaver.stop()
    _teardown(window, controller)
    return int(code)


def _one_line_per_warning(verbose: bool) -> RepeatSummary:
    """Log each distinct warning once (counted at exit), unless ``verbose``.

    Without ``verbose``, efel's own warnings are left out too.
    """
    repeats = RepeatSummary()
    if not verbose:
        for handler in logging.getLogger().handlers:
            handler.addFilter(repeats)
        logging.getLogger("efel").setLevel(logging.ERROR)
    return repeats


def _teardown(*objects: object) -> None:
    """Delete the Qt objects while the interpreter is still whole.

    Left to interpreter shutdown, PySide6 and pyqtgraph objects are freed in an
    order that can crash ("bool_dealloc") after an otherwise clean run.
    """
    import gc

    from PySide6.QtCore import QCoreApplication
    from PySide6.QtWidgets import QApplication

    for obj in objects:
        obj.deleteLater()  # type: ignore[attr-defined]
    QApplication.processEvents()
    QCoreApplication.sendPostedEvents(None, 0)
    gc.collect()


def _open_initial(
    args: argparse.Namespace, window: object, controller: object, interactive: bool
) -> bool:
    from efex_gui.widgets.import_dialog import ImportDialog
    from efex_gui.widgets.main_window import MainWindow

    assert isinstance(window, MainWindow)
    path = (
        Path(ensure_demo(demo_folder()))
        if args.demo
        else (Path(args.path) if args.path else None)
    )
    if path is None:
        return True
    if path.is_dir() and not interactive:
        dialog = ImportDialog(path.absolute(), None, window.preferences, window)
        return window.import_files(path.absolute(), None, dialog)
    return window.open_path(path)  # a JSON starts reading in the background


def _offer_restore(window: object, controller: object, autosaver: object) -> None:
    """Offer each recovery copy left by a crashed instance, once, newest first.

    The question goes through ``QMessageBox.question`` (patched in tests). A
    restored session behaves like a reopened saved one: its last result (autosaved
    with it) is shown at once and its files are read in the background. It is
    autosaved by this instance before the old copy goes; a declined one is moved to
    ``recovery/declined`` and never offered again.
    """
    from PySide6.QtWidgets import QMessageBox, QWidget

    from efex_gui.app.autosave import Autosaver, find_recoveries
    from efex_gui.app.controller import SessionController

    assert isinstance(controller, SessionController)
    assert isinstance(autosaver, Autosaver)
    found = find_recoveries(autosaver.root)
    for position, recovery in enumerate(found):
        original = recovery.original
        answer = QMessageBox.question(
            window if isinstance(window, QWidget) else None,
            "Restore the autosaved session?",
            "efex-gui did not close cleanly last time. Restore the session it had "
            f"autosaved{f' (from {original})' if original else ''}?",
        )
        if answer != QMessageBox.StandardButton.Yes:
            kept = recovery.decline()
            logger.warning("Autosaved session not restored; kept in %s", kept)
            continue
        session = recovery.session
        session.path = Path(original) if original else None
        controller.set_session(session, saved=False)
        extraction = getattr(window, "extraction", None)
        if extraction is not None:  # not saved with the session file: still unsaved
            extraction.restore_results(recovery.results_file, saved=False)
        controller.load_all()
        if autosaver.save_now():  # the copy is ours before the old one goes
            recovery.adopted()
        else:
            recovery.release()
        for rest in found[position + 1 :]:
            rest.release()  # offered at a later start
        return


def _screenshot(args: argparse.Namespace, window: object, controller: object) -> int:
    from efex_gui.app.controller import SessionController
    from efex_gui.widgets.main_window import MainWindow

    assert isinstance(window, MainWindow)
    assert isinstance(controller, SessionController)
    window.confirm_close = False
    width, height = (int(v) for v in args.size.lower().split("x"))
    window.resize(width, height)
    window.show()
    if not _open_initial(args, window, controller, interactive=False):
        print(f"efex-gui: cannot open {args.path}", file=sys.stderr)  # noqa: T201
        return 2
    controller.load_all()
    wait_until(lambda: not controller.is_busy(), timeout_s=600)
    sweep = _pick_sweep(controller, args.select)
    if sweep is not None:
        controller.select_sweeps([sweep])
        window.plot.redraw()
    wait_until(lambda: False, timeout_s=0.3)  # let the views settle
    ok = window.grab().save(args.screenshot)
    window.close()
    controller.shutdown()
    return 0 if ok else 1


def _pick_sweep(controller: SessionController, spec: str | None) -> SweepKey | None:
    dataset = controller.dataset
    if not dataset.cells():
        return None
    if spec:
        cell, protocol, row = spec.split("/")
        return dataset.sweeps(cell, protocol)[int(row)]
    cell = dataset.cells()[0]
    protocols = dataset.protocols(cell)
    protocol = next((p for p in protocols if "idrest" in p.lower()), protocols[0])
    sweeps = dataset.sweeps(cell, protocol)
    return sweeps[len(sweeps) // 2]


if __name__ == "__main__":
    sys.exit(main())
