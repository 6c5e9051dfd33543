"""Locate the resource files (icons, defaults, examples) in a checkout or a wheel.

The ``resources/`` folder sits at the top of the source tree; the wheel maps it to
``efex_gui/resources_data`` (``pyproject.toml``, hatch ``force-include``). This module
is the only place that knows both layouts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

_PACKAGE = Path(__file__).resolve().parent


def resources_dir() -> Path:
    """Return the resources folder: installed (``resources_data``) or the checkout's."""
    for candidate in (_PACKAGE / "resources_data", _PACKAGE.parent / "resources"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        f"No resources folder next to {_PACKAGE} (looked for resources_data/ "
        "and ../resources/)."
    )


def resource_path(*parts: str) -> Path:
    """Path of a resource file, e.g. ``resource_path("icons", "app.svg")``.

    Raises
    ------
    FileNotFoundError
        When the file does not exist, naming it.
    """
    path = resources_dir().joinpath(*parts)
    if not path.exists():
        raise FileNotFoundError(
            f"Resource {'/'.join(parts)} not found in {path.parent}."
        )
    return path


def icon_path(name: str) -> Path:
    """Path of an icon in ``resources/icons`` (``name`` without extension: .svg)."""
    return resource_path("icons", f"{name}.svg")


def load_default(name: str) -> Any:
    """Load ``resources/defaults/<name>.json``."""
    return json.loads(resource_path("defaults", f"{name}.json").read_text("utf-8"))
