"""The one progress / cancel protocol of the core's slow functions (house style §4.5).

A slow function takes ``progress`` and ``cancel`` arguments and knows nothing of Qt:

* ``progress(done, total)`` — :data:`Progress` — or, where the stage is worth naming,
  ``progress(done, total, message)`` — :data:`LabelledProgress`; called in the calling
  process, ``done`` growing up to ``total``;
* ``cancel`` — a :class:`CancelToken` (anything with ``is_set()``, e.g. a
  ``threading.Event``), checked between units of work by :func:`check_cancel`, which
  raises :class:`~efex_gui.core.errors.Cancelled`.

The GUI's worker adapts both to Qt signals; the CLI draws a progress bar.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from efex_gui.core.errors import Cancelled

__all__ = ["CancelToken", "LabelledProgress", "Progress", "check_cancel"]

#: ``progress(done, total)``: ``done`` of ``total`` units of work are finished.
Progress = Callable[[int, int], None]
#: ``progress(done, total, message)``: the same, with what is being done.
LabelledProgress = Callable[[int, int, str], None]


class CancelToken(Protocol):
    """Anything with ``is_set()``: ``threading.Event``, the GUI task context."""

    def is_set(self) -> bool:
        """Whether the user asked to stop."""
        ...


def check_cancel(
    cancel: CancelToken | None,
    outcome: str = "partial results were discarded",
) -> None:
    """Raise :class:`Cancelled` when ``cancel`` is set.

    Parameters
    ----------
    cancel : CancelToken or None
        The token (None: never cancelled).
    outcome : str
        What became of the work done so far, for the message.
    """
    if cancel is not None and cancel.is_set():
        raise Cancelled(f"The extraction was cancelled; {outcome}.")
