"""Numbers as the displays and reports show them: finite floats, or None."""

from __future__ import annotations

import math
from typing import Any

__all__ = ["finite_number"]


def finite_number(value: Any) -> float | None:
    """Return ``value`` as a finite float, or None (None, not a number, NaN, inf).

    Parameters
    ----------
    value : Any
        A Python or NumPy number, or anything else.

    Returns
    -------
    float or None
        ``float(value)`` when it is finite.
    """
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None
