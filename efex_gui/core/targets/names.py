"""The output names of a target list: per protocol, and back to efel's names.

A target's output name is its ``efeature_name`` (BluePyEfe's key in features.json),
else its efel feature; several targets may compute one efel feature under two names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

__all__ = ["efel_name", "protocol_features"]


def protocol_features(targets: Iterable[Mapping[str, Any]]) -> dict[str, list[str]]:
    """Protocol → output names of its targets, in target order."""
    features: dict[str, list[str]] = {}
    for target in targets:
        name = target.get("efeature_name", target["efeature"])
        names = features.setdefault(target["protocol"], [])
        if name not in names:
            names.append(name)
    return features


def efel_name(
    targets: Iterable[Mapping[str, Any]], protocol: str, output_name: str
) -> str:
    """Return the efel feature behind an output name of ``protocol``'s targets."""
    for target in targets:
        if (
            target["protocol"] == protocol
            and target.get("efeature_name", target["efeature"]) == output_name
        ):
            return str(target["efeature"])
    return output_name
