"""Which import settings a new folder starts with (issue 13).

The import dialog remembers the last import's settings (name pattern, channels,
units, dt, LJP, eCode overrides, and the folder they were made for). For a new folder:

* the remembered pattern is kept only when it matches at least as many files as the
  best preset (otherwise the preset is guessed afresh for this folder);
* the remembered metadata (units, dt, LJP) applies only to the folder it was made
  for; for another folder it is *offered*, never applied silently, since another
  lab's recordings have their own LJP.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from efex_gui.core.errors import EfexError
from efex_gui.core.importing.file_names import best_pattern, compile_pattern, parse_name

if TYPE_CHECKING:
    from collections.abc import Mapping


@dataclass
class StartingProfile:
    """The settings to start with, the metadata offered, and a note for the person."""

    profile: dict[str, Any]
    carried: dict[str, Any] = field(default_factory=dict)
    notice: str = ""


def pattern_matches(pattern: str, paths: list[str]) -> int:
    """How many of ``paths`` a name pattern parses (0 for a bad pattern)."""
    try:
        compiled = compile_pattern(pattern)
    except EfexError:
        return 0
    return sum(parse_name(p, compiled) is not None for p in paths)


def starting_profile(
    default: Mapping[str, Any],
    remembered: Mapping[str, Any],
    folder: str,
    paths: list[str],
) -> StartingProfile:
    """Return the import settings for ``folder`` (see the module docstring).

    Parameters
    ----------
    default : mapping
        The default profile (``resources/defaults/import.json``).
    remembered : mapping
        The last import's profile (may be empty); its ``folder`` key says where.
    folder : str
        The folder being imported.
    paths : list of str
        Its recordings, relative to it.

    Returns
    -------
    StartingProfile
        ``profile["pattern"]`` empty means "guess the preset".
    """
    profile = copy.deepcopy(dict(default))
    pattern = str(remembered.get("pattern") or "")
    if not pattern:
        return StartingProfile(profile)
    best = best_pattern(paths)
    needed = max(1, pattern_matches(best.regex, paths) if best else 0)
    if pattern_matches(pattern, paths) < needed:
        return StartingProfile(
            profile,
            notice="Your last import's name pattern matches fewer of these files "
            "than a preset: the pattern was guessed for this folder.",
        )
    profile.update(copy.deepcopy(dict(remembered)))
    if remembered.get("folder") == folder:
        return StartingProfile(profile)
    built_in = default.get("defaults", {})
    carried = {  # a value equal to the built-in default is not the last lab's
        k: v
        for k, v in (remembered.get("defaults") or {}).items()
        if v and v != built_in.get(k)
    }
    profile["defaults"] = copy.deepcopy(built_in)
    if not carried:
        return StartingProfile(profile)
    listed = ", ".join(f"{k} {v}" for k, v in carried.items())
    return StartingProfile(
        profile,
        carried,
        f"Metadata of your last import ({listed}) not applied: this is another folder.",
    )
