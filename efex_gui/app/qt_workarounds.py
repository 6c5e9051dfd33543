"""Work around a reference-count bug of PySide6 6.12 on CPython < 3.12.

With PySide6 6.12.0, every ``Signal.emit()`` made from Python releases one reference
to ``True`` that it never took, and C++ signals delivered to Python functions release
``None`` (measured: ``sys.getrefcount(True)`` drops by one per ``emit``, with or
without a connected slot). On CPython 3.11 these singletons are ordinary objects: after
some ten thousand emissions their count reaches zero and the interpreter aborts with
``Fatal Python error: bool_dealloc: deallocating True or False`` (or ``none_dealloc``),
often at exit, which fails test runs at random and would end a long GUI session.

:func:`pin_singletons` adds a very large count to ``True``, ``False`` and ``None`` (what
CPython 3.12 does by making them immortal), so the stray releases can never reach zero.
It is idempotent and does nothing on CPython 3.12 and later.
"""

from __future__ import annotations

import ctypes
import gc
import sys

from PySide6.QtCore import QObject, QTimer

_PIN = 1 << 40
_pinned = False


def pin_singletons() -> bool:
    """Make ``True``, ``False`` and ``None`` effectively immortal (CPython < 3.12).

    Returns
    -------
    bool
        Whether the counts were raised by this call.
    """
    global _pinned
    if _pinned or sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False
    for singleton in (True, False, None):
        ctypes.c_ssize_t.from_address(id(singleton)).value += _PIN
    _pinned = True
    return True


def collect_garbage_in_gui_thread(parent: QObject, interval_ms: int = 1000) -> QTimer:
    """Run Python's cyclic garbage collector in the GUI thread only.

    With automatic collection, a collection can start in a worker thread (any
    allocation may trigger it, e.g. h5py's while a file is read) and free a Qt
    wrapper there; shiboken then defers the deletion to the GUI thread, whose
    ``~QObject`` waits for a Qt mutex the worker holds while the worker waits for
    the GIL: a deadlock (seen as a hung extraction in the test suite). Automatic
    collection is switched off and a timer in the GUI thread collects each
    generation that passed its threshold (pyqtgraph's GarbageCollector recipe).

    Parameters
    ----------
    parent : QObject
        Owner of the timer (the application).
    interval_ms : int
        Milliseconds between checks.

    Returns
    -------
    QTimer
        The running timer (stop it and call ``gc.enable()`` to undo).
    """
    thresholds = gc.get_threshold()

    def collect() -> None:
        counts = gc.get_count()
        for generation in (2, 1, 0):
            if counts[generation] > thresholds[generation]:
                gc.collect(generation)
                return

    gc.disable()
    timer = QTimer(parent)
    timer.timeout.connect(collect)
    timer.start(interval_ms)
    return timer
