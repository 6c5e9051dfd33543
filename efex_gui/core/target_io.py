"""Reading and writing target lists (JSON), in BluePyEfe's two forms.

* the **list form** (BluePyEfe 2): ``[{"efeature", "protocol", "amplitude",
  "tolerance", "efel_settings"?, "efeature_name"?}, ...]``;
* the **legacy dict form**: ``{protocol: {"amplitudes", "tolerances", "efeatures"}}``,
  converted by the core's :func:`~efex_gui.core.legacy.convert_legacy_targets`.

A configuration or session file holding a ``"targets"`` key is accepted too. Files are
written in the list form, atomically.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from efex_gui.core.errors import TargetError
from efex_gui.core.legacy import convert_legacy_targets
from efex_gui.core.session import atomic_write_text

__all__ = ["read_targets", "targets_from_document", "write_targets"]


def _is_legacy(document: Mapping[str, Any]) -> bool:
    return bool(document) and all(
        isinstance(v, Mapping) and "amplitudes" in v for v in document.values()
    )


def targets_from_document(document: Any, source: str = "<document>") -> list[dict]:
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
                "to import.")
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
        "'targets' key).")


def read_targets(path: str | Path) -> list[dict]:
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


def write_targets(path: str | Path, targets: Sequence[Mapping[str, Any]]) -> Path:
    """Write ``targets`` in the list form, atomically (2-space indent)."""
    path = Path(path)
    atomic_write_text(path, json.dumps([dict(t) for t in targets], indent=2) + "\n")
    return path
