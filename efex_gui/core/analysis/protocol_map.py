"""Which protocols feed which cell measure: a documented default the user can change.

Each measure of the cell summary reads the sweeps of a few protocols. The defaults
follow the BBP / SSCx protocol names (matched without regard to case, so ``IDRest``
and ``IDrest`` are the same protocol):

=================  =======================================  ===========================
measure            default protocols                        sweeps used
=================  =======================================  ===========================
rheobase           the extraction's ``protocols_rheobase``  the extraction's own value
input resistance   IV, IDhyperpol                           hyperpolarising steps
RMP                IV, IDhyperpol, IDrest, IDthresh         every sweep (pre-stimulus)
time constant      IV, IDhyperpol                           hyperpolarising steps
sag ratio          IV, IDhyperpol                           the most hyperpolarising
f-I, max rate      IDrest, IDthresh                         every sweep (above rheobase
                                                            for the slope)
first spike        IDrest, IDthresh                         the rheobase sweep(s)
=================  =======================================  ===========================

:meth:`MeasureProtocols.from_dict` reads a user's changes (``{"input_resistance":
["IV"], ...}``); unknown keys are refused with the list of known ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from efex_gui.core.errors import SettingsError

__all__ = ["DEFAULT_MEASURE_PROTOCOLS", "MeasureProtocols", "matches_protocol"]


@dataclass(frozen=True)
class MeasureProtocols:
    """The protocols each measure of the cell summary reads.

    Attributes
    ----------
    input_resistance : tuple of str
        Hyperpolarising steps whose steady state gives the input resistance.
    rmp : tuple of str
        Sweeps whose pre-stimulus voltage gives the resting membrane potential.
    tau : tuple of str
        Hyperpolarising steps whose charging curve gives the membrane time constant.
    sag : tuple of str
        Hyperpolarising steps whose most negative step gives the sag ratio.
    fi : tuple of str
        Depolarising steps for the f-I curve, its slope and the maximum rate.
    first_spike : tuple of str
        Depolarising steps whose rheobase sweep gives the first-spike measures.
    """

    input_resistance: tuple[str, ...] = ("IV", "IDhyperpol")
    rmp: tuple[str, ...] = ("IV", "IDhyperpol", "IDrest", "IDthresh")
    tau: tuple[str, ...] = ("IV", "IDhyperpol")
    sag: tuple[str, ...] = ("IV", "IDhyperpol")
    fi: tuple[str, ...] = ("IDrest", "IDthresh")
    first_spike: tuple[str, ...] = ("IDrest", "IDthresh")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> MeasureProtocols:
        """Build the defaults, with the lists given in ``data`` replacing theirs.

        Raises
        ------
        SettingsError
            A key that is not a measure, or a value that is not a list of names.
        """
        known = [f.name for f in fields(cls)]
        changes: dict[str, tuple[str, ...]] = {}
        for key, value in (data or {}).items():
            if key not in known:
                raise SettingsError(
                    f"measure protocols: unknown measure {key!r}; known: "
                    f"{', '.join(known)}"
                )
            if isinstance(value, str) or not isinstance(value, Iterable):
                raise SettingsError(
                    f"measure protocols: {key!r} needs a list of protocol names, "
                    f"got {value!r}"
                )
            changes[key] = tuple(str(v) for v in value)
        return replace(cls(), **changes)

    def to_dict(self) -> dict[str, list[str]]:
        """Return the mapping as JSON-ready lists."""
        return {key: list(value) for key, value in asdict(self).items()}


#: the default mapping
DEFAULT_MEASURE_PROTOCOLS = MeasureProtocols()


def matches_protocol(name: str, wanted: Iterable[str]) -> bool:
    """Whether protocol ``name`` is one of ``wanted`` (case-insensitive)."""
    lowered = name.lower()
    return any(lowered == w.lower() for w in wanted)
