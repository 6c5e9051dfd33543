"""Guard against a reference-counting bug of PySide6 6.12.0 on Python 3.11.

With that combination every ``Signal.emit()`` from Python drops one reference to
``True`` and every Python slot called from C++ drops one to ``None``. On Python 3.12+
these singletons are immortal and nothing happens; on 3.11 their count reaches zero
after a few hundred signals and the interpreter aborts ("bool_dealloc" /
"none_dealloc: deallocating None"). The objects themselves are static and never
freed, so holding extra references is a complete fix: :func:`top_up` keeps a reserve
of references to ``None``, ``True`` and ``False``, and :class:`RefcountGuard` renews
it from a timer. The guard only runs when the bug is detected.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, QTimer, Signal

#: references kept in reserve for each singleton (8 bytes each)
RESERVE = 250_000
#: milliseconds between two checks (far fewer leaks than RESERVE happen in between)
CHECK_MS = 250
_SINGLETONS: tuple[object, ...] = (None, True, False)
_reserves: list[tuple[object, ...]] = []


class _Probe(QObject):
    fired = Signal()


def refcount_bug_present() -> bool:
    """Whether emitting a signal drops references to ``True`` (the PySide6 bug)."""
    if sys.version_info >= (3, 12):
        return False  # immortal singletons: the bug, if any, is harmless
    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(8):
        probe.fired.emit()
    return sys.getrefcount(True) < before


def top_up(reserve: int = RESERVE) -> None:
    """Add ``reserve`` references to each singleton whose count fell below it."""
    for obj in _SINGLETONS:
        if sys.getrefcount(obj) < reserve:
            _reserves.append((obj,) * reserve)


class RefcountGuard(QObject):
    """Renews the reserve of references every ``CHECK_MS`` milliseconds."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        top_up()
        self._timer = QTimer(self)
        self._timer.setInterval(CHECK_MS)
        self._timer.timeout.connect(top_up)
        self._timer.start()


_guard: RefcountGuard | None = None


def install_refcount_guard(parent: QObject | None = None) -> RefcountGuard | None:
    """Start the guard once if this PySide6/Python pair needs it (else None)."""
    global _guard
    if _guard is None and refcount_bug_present():
        _guard = RefcountGuard(parent)
    return _guard
