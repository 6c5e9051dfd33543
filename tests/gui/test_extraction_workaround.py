"""The PySide6 6.12 reference-count workaround (efex_gui.app.qt_workarounds)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from tests.conftest import ROOT

SCRIPT = textwrap.dedent("""
    import os, sys
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtCore import QObject, Signal
    from PySide6.QtWidgets import QApplication
    if sys.argv[1] == "pinned":
        from efex_gui.app.qt_workarounds import pin_singletons
        assert pin_singletons() and not pin_singletons()
    app = QApplication([])
    class Emitter(QObject):
        signal = Signal(object)
    emitter = Emitter()
    received = []
    emitter.signal.connect(lambda value: received.append(value))
    for _ in range(200_000):
        emitter.signal.emit(1)
    print("survived", len(received))
""")


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="True is immortal on 3.12+")
def test_many_emits_survive_once_singletons_are_pinned() -> None:
    pinned = subprocess.run(
        [sys.executable, "-c", SCRIPT, "pinned"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert pinned.returncode == 0, pinned.stderr
    assert "survived 200000" in pinned.stdout
