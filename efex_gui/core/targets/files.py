"""Reading and writing target lists (JSON), in BluePyEfe's two forms.

* the **list form** (BluePyEfe 2): ``[{"efeature", "protocol", "amplitude",
  "tolerance", "efel_settings"?, "efeature_name"?}, ...]``;
* the **legacy dict form**: ``{protocol: {"amplitudes", "tolerances", "efeatures"}}``,
  converted by the core's
  :func:`~efex_gui.core.importing.legacy_formats.convert_legacy_targets`.

A configuration or session file holding a ``"targets"`` key is accepted too. Files are
written atomically, in the list form or, when the list is a full grid per protocol
(every feature at every amplitude, one tolerance per amplitude, one set of efel
settings per feature, no output names), in the legacy form (:func:`legacy_targets`).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from efex_gui.core.atomic_files import atomic_write_text
from efex_gui.core.errors import TargetError
from efex_gui.core.importing.legacy_formats import convert_legacy_targets

__all__ = ["legacy_targets", "read_targets", "targets_from_document", "write_targets"]


def _is_legacy(document: Mapping[str, Any]) -> bool:
    return bool(document) and all(
        isinstance(v, Mapping) and "amplitudes" in v for v in document.values()
    )


def targets_from_document(
    document: Any, source: str = "<document>"
) -> list[dict[str, Any]]:
    """Return the target list held by a JSON document.

    Parameters
    ----------
    document : list or dict
        A list of targets, a legacy dict, or a dict with a ``"targets"`` key (whose
        value is either form).
    source : str
        Named in error messages (usually the file name).

    Returns
    -------
    list of dict
        Targets in the list form (deep copies).

    Raises
    ------
    TargetError
        When the document holds no target list, naming ``source``.
    """
    if isinstance(document, Mapping) and "targets" in document:
        inner = document["targets"]
        if inner is None:
            raise TargetError(
                f"{source}: 'targets' is null (automatic targets); there is no list "
                "to import."
            )
        return targets_from_document(inner, source)
    if isinstance(document, Mapping) and _is_legacy(document):
        return copy.deepcopy(convert_legacy_targets(dict(document)))
    if isinstance(document, Sequence) and not isinstance(document, str):
        if not all(isinstance(t, Mapping) for t in document):
            raise TargetError(f"{source}: every target must be a JSON object.")
        return [copy.deepcopy(dict(t)) for t in document]
    raise TargetError(
        f"{source}: not a target list (expected a list of targets, a legacy "
        "{protocol: {amplitudes, tolerances, efeatures}} dict, or a file with a "
        "'targets' key)."
    )


def read_targets(path: str | Path) -> list[dict[str, Any]]:
    """Read a target file in either form.

    Raises
    ------
    TargetError
        When the file is unreadable, not JSON, or holds no target list.
    """
    path = Path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TargetError(f"{path}: cannot read a target list ({exc}).") from exc
    return targets_from_document(document, str(path))


def _grid(protocol: str, rows: list[tuple[int, Mapping[str, Any]]]) -> dict[str, Any]:
    """One protocol's legacy entry (raises when the rows are not a full grid)."""
    amplitudes: dict[Any, Any] = {}
    features: dict[str, dict[str, Any]] = {}
    for index, target in rows:
        where = f"row {index + 1} ({target.get('efeature')} @ {protocol})"
        if target.get("efeature_name", target["efeature"]) != target["efeature"]:
            raise TargetError(f"{where}: an output name has no legacy form.")
        if target.get("location", "soma") != "soma":
            raise TargetError(f"{where}: the legacy form is for the soma only.")
        tolerance = amplitudes.setdefault(target["amplitude"], target["tolerance"])
        if tolerance != target["tolerance"]:
            raise TargetError(f"{where}: two tolerances for one amplitude.")
        settings = dict(target.get("efel_settings") or {})
        if features.setdefault(target["efeature"], settings) != settings:
            raise TargetError(f"{where}: two efel settings for one feature.")
    pairs = {(t["amplitude"], t["efeature"]) for _, t in rows}
    if len(pairs) != len(rows) or len(pairs) != len(amplitudes) * len(features):
        raise TargetError(
            f"{protocol}: the legacy form needs every feature at every amplitude, "
            "once each."
        )
    efeatures: Any = features if any(features.values()) else list(features)
    return {
        "amplitudes": list(amplitudes),
        "tolerances": list(amplitudes.values()),
        "efeatures": efeatures,
        "location": "soma",
    }


def legacy_targets(targets: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Convert a target list to the legacy dict form (inverse of the core's conversion).

    Parameters
    ----------
    targets : sequence of dict
        Targets in the list form.

    Returns
    -------
    dict
        ``{protocol: {"amplitudes", "tolerances", "efeatures", "location"}}``;
        ``convert_legacy_targets`` gives the same targets back (in protocol,
        amplitude, feature order).

    Raises
    ------
    TargetError
        When the list has no legacy form, naming the row or protocol.
    """
    by_protocol: dict[str, list[tuple[int, Mapping[str, Any]]]] = {}
    for index, target in enumerate(targets):
        by_protocol.setdefault(target["protocol"], []).append((index, target))
    return {protocol: _grid(protocol, rows) for protocol, rows in by_protocol.items()}


def write_targets(
    path: str | Path, targets: Sequence[Mapping[str, Any]], form: str = "list"
) -> Path:
    """Write ``targets`` atomically (2-space indent), ``"list"`` or ``"legacy"`` form.

    Raises
    ------
    TargetError
        ``form="legacy"`` for a list that has no legacy form (nothing written).
    """
    path = Path(path)
    if form == "legacy":
        document: Any = legacy_targets(targets)
    elif form == "list":
        document = [dict(t) for t in targets]
    else:
        raise TargetError(f"Unknown target file form {form!r} (list or legacy).")
    atomic_write_text(path, json.dumps(document, indent=2) + "\n")
    return path
