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
["IV"], ...}``); unknown keys are refused with the list of known ones. A folder of
another lab's files, whose steps have none of these names, adds its plain step
protocols to every measure (:meth:`MeasureProtocols.with_lab_steps`).
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

    def with_lab_steps(
        self, protocols: Iterable[str], overrides: Mapping[str, str]
    ) -> MeasureProtocols:
        """Return this mapping with a lab's step protocols added to every measure.

        A folder of another lab's files has none of the BBP names: its steps are
        called "0112 steps dual -50 to 150", "IV_FI_saray" or are mapped to Step by
        the person, and one such protocol usually holds the hyperpolarising and the
        depolarising steps. A protocol joins every measure (each reads only the
        sweeps it can use: hyperpolarising, non-spiking, above the rheobase...)
        when its name is in no measure's list and its eCode is a plain step: the
        eCode table's ``step``, ``genericstep`` or ``iv`` key on its override, else
        on its name. BBP-named protocols (APWaveform, sAHP, ...) never join.
        """
        from efex_gui.core.recordings.ecodes import ecode_key_for_protocol

        named = [name for names in asdict(self).values() for name in names]
        joined = tuple(
            protocol
            for protocol in dict.fromkeys(protocols)
            if not matches_protocol(protocol, named)
            and ecode_key_for_protocol(overrides.get(protocol) or protocol)
            in _PLAIN_STEP_KEYS
        )
        if not joined:
            return self
        return replace(
            self, **{key: (*value, *joined) for key, value in asdict(self).items()}
        )


#: eCode table keys of protocols made of plain steps, whatever their amplitudes
_PLAIN_STEP_KEYS = frozenset({"step", "genericstep", "iv"})


#: the default mapping
DEFAULT_MEASURE_PROTOCOLS = MeasureProtocols()


def matches_protocol(name: str, wanted: Iterable[str]) -> bool:
    """Whether protocol ``name`` is one of ``wanted`` (case-insensitive)."""
    lowered = name.lower()
    return any(lowered == w.lower() for w in wanted)
