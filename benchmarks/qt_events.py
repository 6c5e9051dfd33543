"""Waiting in the GUI benchmarks: process Qt events until a signal or a condition.

Shared by ``gui_workflow.py`` and ``extraction_gui.py`` (run as scripts from this
folder, which Python puts first on ``sys.path``).
"""

from __future__ import annotations

import time
from typing import Any


def wait_for(app: Any, signal: Any, timeout_s: float = 3600.0) -> list[Any]:
    """Process events until ``signal`` is emitted; return its arguments."""
    got: list[Any] = []

    def slot(*args: Any) -> None:
        got.append(args)

    signal.connect(slot)
    try:
        spin_until(app, lambda: bool(got), timeout_s, f"no {signal}")
    finally:
        signal.disconnect(slot)
    return list(got[0])


def spin_until(
    app: Any, done: Any, timeout_s: float = 3600.0, what: str = "condition not reached"
) -> None:
    """Process events until ``done()`` is true."""
    end = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > end:
            raise TimeoutError(f"{what} within {timeout_s} s")
        app.processEvents()
        time.sleep(0.001)


def settle(app: Any, seconds: float) -> None:
    """Process events for ``seconds`` (what a person's next click leaves the app)."""
    end = time.monotonic() + seconds
    spin_until(app, lambda: time.monotonic() >= end)
