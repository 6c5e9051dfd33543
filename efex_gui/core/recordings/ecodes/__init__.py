"""eCodes: one Recording subclass per stimulus family, and the name → class table.

``ecode_for_protocol(name)`` follows BluePyEfe 2.3.63 (spec §3.3 and Appendix A): the
table is walked in order and the first key that is a substring of
``name.lower()`` wins, so ``APThreshold`` is a Ramp (``apthresh``), ``StepRamp`` a Step
(``step`` comes before ``ramp``) and any name containing ``iv`` a Step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from efex_gui.core.errors import ECodeError
from efex_gui.core.recordings.ecodes.capcheck import CapCheck
from efex_gui.core.recordings.ecodes.cheops import NegCheops, PosCheops
from efex_gui.core.recordings.ecodes.hyperdepol import DeHyperPol, HyperDePol
from efex_gui.core.recordings.ecodes.pinknoise import PinkNoise
from efex_gui.core.recordings.ecodes.ramp import Ramp
from efex_gui.core.recordings.ecodes.sahp import SAHP
from efex_gui.core.recordings.ecodes.sinespec import SineSpec
from efex_gui.core.recordings.ecodes.spikerec import SpikeRec
from efex_gui.core.recordings.ecodes.step import Step

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, MutableMapping

    from efex_gui.core.recordings.ecodes.base import ECode

#: Lower-case key → eCode class, in BluePyEfe 2.3.63's matching order.
eCodes: dict[str, type[ECode]] = {  # noqa: N816 (BluePyEfe's name)
    "spontaneous": Step,
    "idrest": Step,
    "idthresh": Step,
    "idthres": Step,
    "idthreshold": Step,
    "apwaveform": Step,
    "iv": Step,
    "step": Step,
    "genericstep": Step,
    "spontaps": Step,
    "sponaps": Step,
    "firepattern": Step,
    "sponnohold30": Step,
    "sponhold30": Step,
    "spontnohold30": Step,
    "sponthold30": Step,
    "spontaneousnohold": Step,
    "starthold": Step,
    "startnohold": Step,
    "delta": Step,
    "sahp": SAHP,
    "idhyperpol": SAHP,
    "irdepol": SAHP,
    "irhyperpol": SAHP,
    "iddepol": SAHP,
    "ramp": Ramp,
    "ap_thresh": Ramp,
    "apthresh": Ramp,
    "apthreshold": Ramp,
    "hyperdepol": HyperDePol,
    "dehyperpol": DeHyperPol,
    "negcheops": NegCheops,
    "poscheops": PosCheops,
    "spikerec": SpikeRec,
    "sinespec": SineSpec,
    "pinknoise": PinkNoise,
    "capcheck": CapCheck,
}

__all__ = [
    "SAHP", "CapCheck", "DeHyperPol", "HyperDePol", "NegCheops", "PinkNoise",
    "PosCheops", "Ramp", "SineSpec", "SpikeRec", "Step", "eCodes", "ecode_for_protocol",
    "ecode_key_for_protocol", "write_ecode_overrides",
]  # fmt: skip


def ecode_key_for_protocol(protocol_name: str) -> str | None:
    """Return the table key that ``protocol_name`` matches, or None."""
    lowered = str(protocol_name).lower()
    for key in eCodes:
        if key in lowered:
            return key
    return None


def ecode_for_protocol(protocol_name: str) -> type[ECode]:
    """Return the eCode class for a protocol name (first substring match).

    Parameters
    ----------
    protocol_name : str
        A protocol name, e.g. ``"IDRest"`` or ``"APThreshold"``.

    Returns
    -------
    type
        The Recording subclass that interprets this protocol's stimulus.

    Raises
    ------
    ECodeError
        No key of the table is a substring of the lower-cased name (also a KeyError).
    """
    key = ecode_key_for_protocol(protocol_name)
    if key is None:
        raise ECodeError(
            "There is no eCode linked to the stimulus name "
            f"{str(protocol_name).lower()}: none of the eCode names (IDRest, IV, "
            "Step, Ramp, sAHP, ...) is in it, so its stimulus cannot be read. Map "
            "the protocol to an eCode (in the app: select one of its sweeps, then "
            "Choose eCode…; in a configuration: an 'ecode' key in its files_metadata "
            "entries), or leave it out."
        )
    return eCodes[key]


def write_ecode_overrides(
    protocols: Iterable[tuple[str, Iterable[MutableMapping[str, Any]]]],
    overrides: Mapping[str, str],
) -> None:
    """Give the entries of each mapped protocol its eCode, as their ``ecode`` key.

    The key is how an eCode override reaches the reading (``Cell.read_recordings``);
    an entry's own ``ecode`` wins. ``protocols`` is ``(protocol, its entries)``
    pairs, the entries mutated.
    """
    for protocol, entries in protocols:
        if protocol in overrides:
            for entry in entries:
                entry.setdefault("ecode", overrides[protocol])
