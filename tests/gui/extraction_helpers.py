"""Helpers of the extraction GUI tests (targets → run → cancel → exclude → export)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from efex_gui.app.qt_workarounds import pin_singletons

if TYPE_CHECKING:
    from pathlib import Path

    from efex_gui.app.extraction_controller import ExtractionController
    from efex_gui.core.session.document import Session

# PySide6 6.12 releases True/None on every emit: without this, runs abort at random
pin_singletons()

THREE_FILES = ("features.json", "protocols.json", "holding_threshold_currents.json")


def open_demo(controller: Any, demo_dir: Path) -> None:
    """Open the demo dataset's extraction config as the session."""
    controller.open_json(demo_dir / "config.json")


def run_and_wait(qtbot: Any, extraction: ExtractionController) -> Any:
    """Start a run and return its result (fails if the run fails or is cancelled)."""
    with qtbot.waitSignal(extraction.results_changed, timeout=300_000) as blocker:
        assert extraction.run()
    assert blocker.args[0] is not None
    return blocker.args[0]


def headless_export(session: Session, folder: Path) -> None:
    """What ``efex_gui.extract.extract_efeatures`` writes for the same session.

    With rheobase overrides (not a BluePyEfe argument) the core's
    ``extract_efeatures``, which ``efex extract session.json`` runs.
    """
    from efex_gui.core.extraction import pipeline
    from efex_gui.extract import extract_efeatures

    kwargs = session.to_extract_kwargs()
    run = (
        pipeline.extract_efeatures
        if "rheobase_overrides" in kwargs
        else (extract_efeatures)
    )
    run(str(folder), write_files=True, **kwargs)


def assert_same_files(gui: Path, headless: Path) -> None:
    """The three BluePyEfe files are identical, byte for byte."""
    for name in THREE_FILES:
        assert (gui / name).read_bytes() == (headless / name).read_bytes(), name


def read_json(path: Path) -> Any:
    """Read a JSON file that may hold NaN."""
    return json.loads(path.read_text(encoding="utf-8"))
