"""A computation reused while its input equals the last one it was given.

The GUI asks for the same derived values after every edit (the targets' JSON for a
signature, the checks of 1 500 target rows): comparing the input with a copy of the
last one costs far less than computing again. The input is deep-copied, so changing
it in place afterwards is seen: use it for small inputs (the files_metadata part of a
signature is :class:`~efex_gui.core.extraction.result.MetadataText`, kept per cell
without a copy of the document). Thread-safe (the GUI thread and the extraction worker
both ask).
"""

from __future__ import annotations

import copy
import threading
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["LastInputMemo"]

T = TypeVar("T")
_NOTHING = object()


class LastInputMemo(Generic[T]):
    """The output of the last input, given again while the input is equal."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._input: Any = _NOTHING
        self._output: Any = None

    def get(self, value: Any, compute: Callable[[], T]) -> T:
        """Return ``compute()``, or the last output if ``value`` equals the last input.

        Values that cannot be compared (an exception from ``==``) are computed again.
        """
        with self._lock:
            if self._input is not _NOTHING and _equal(self._input, value):
                output: T = self._output
                return output
        output = compute()
        copied = copy.deepcopy(value)
        with self._lock:
            self._input, self._output = copied, output
        return output


def _equal(a: Any, b: Any) -> bool:
    try:
        return type(a) is type(b) and bool(a == b)
    except Exception:  # an exotic value that cannot be compared: compute again
        return False
