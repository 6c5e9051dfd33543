"""The default import of a bare folder, headless (the GUI's import dialog defaults).

:func:`import_folder` does what the import dialog does when the person accepts it
without changing anything: the remembered (or built-in) import profile, the preset
name pattern that matches most files, channel roles from the files' units, the
profile's metadata defaults and, when the profile carries them, its protocol
timings. The CLI (``efex inspect``/``rheobase``/``extract`` on a folder) and the
tests use it, so a folder opened by a script is read as the GUI reads it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from efex_gui.core.errors import MetadataError
from efex_gui.core.importing.file_names import (
    PRESET_PATTERNS,
    PairingResult,
    best_pattern,
    build_files_metadata,
    compile_pattern,
    pair_files,
    parse_name,
    scan_folder,
)

if TYPE_CHECKING:
    import re

__all__ = [
    "DEFAULT_PROFILE",
    "FolderImport",
    "guess_ecodes",
    "import_folder",
    "pair_names",
    "parse_profile_defaults",
    "protocol_timings",
]

#: The built-in import profile: ``resources/defaults/import.json`` (the GUI's; a test
#: keeps the two equal; the core reads no resource file).
DEFAULT_PROFILE: dict[str, Any] = {
    "pattern": "",
    "current_channel": "",
    "voltage_channel": "",
    "detect_roles": True,
    "defaults": {"i_unit": "", "v_unit": "", "t_unit": "s", "dt": "", "ljp": ""},
}
#: profile defaults that are numbers (the others are unit names)
NUMERIC_DEFAULTS = ("dt", "ljp")


@dataclass
class FolderImport:
    """What :func:`import_folder` built from a folder.

    Attributes
    ----------
    files_metadata : dict
        ``{cell: {protocol: [config, ...]}}``, paths relative to ``root``.
    root : Path
        The folder (the data root of the paths).
    pattern : str
        The name pattern used.
    ecode_overrides : dict
        Protocol → eCode overrides: the profile's, then the guesses
        (:func:`guess_ecodes`) for the protocols it does not map.
    skipped : dict
        Relative path → why the file was left out.
    guessed : dict
        Protocol → why its eCode was guessed (those of ``ecode_overrides`` the
        profile did not give).
    """

    files_metadata: dict[str, dict[str, list[dict[str, Any]]]]
    root: Path
    pattern: str
    ecode_overrides: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    guessed: dict[str, str] = field(default_factory=dict)


def guess_ecodes(
    protocols: Iterable[str], overrides: Mapping[str, str]
) -> dict[str, tuple[str, str]]:
    """Return ``{protocol: (eCode, why)}`` for the protocols other labs' names map.

    The protocols ``overrides`` maps, and those BluePyEfe's table knows, are left
    as they are; the others get the eCode the names dictionary suggests (``"0112
    Trigem injection"`` → Step), which the person confirms or changes (the import
    dialog) and which ``efex extract FOLDER`` uses as the dialog would.
    """
    from efex_gui.core.recordings.ecodes.names import guess_from_name

    guesses = {}
    for protocol in protocols:
        if protocol in overrides:
            continue
        guess = guess_from_name(protocol)
        if guess.how == "name" and guess.ecode is not None:
            guesses[protocol] = (guess.ecode, guess.reason)
    return guesses


def parse_profile_defaults(defaults: Mapping[str, Any]) -> dict[str, Any]:
    """Parse the profile's metadata defaults: numbers parsed, empty values left out.

    Raises
    ------
    MetadataError
        ``dt`` or ``ljp`` is not a number.
    """
    values: dict[str, Any] = {}
    for key, raw in defaults.items():
        text = str(raw if raw is not None else "").strip()
        if not text:
            continue
        if key in NUMERIC_DEFAULTS:
            try:
                values[key] = float(text)
            except ValueError as exc:
                raise MetadataError(
                    f"Import profile: {key} must be a number, got {text!r}."
                ) from exc
        else:
            values[key] = text
    return values


def protocol_timings(profile: Mapping[str, Any]) -> dict[str, dict[str, float]]:
    """``{protocol: {"ton": ms, "toff": ms}}`` from the profile's protocol table."""
    table = profile.get("protocol_timings") or {}
    timings: dict[str, dict[str, float]] = {}
    for protocol, values in table.items():
        picked = {
            k: float(values[k])
            for k in ("ton", "toff")
            if isinstance(values, Mapping) and values.get(k) not in (None, "")
        }
        if picked:
            timings[str(protocol)] = picked
    return timings


def pair_names(
    paths: list[str],
    pattern: re.Pattern[str],
    current_channel: str | None,
    voltage_channel: str | None,
    *,
    protocols_of: Callable[[str], list[str]],
    role_of: Callable[[str], str | None] | None,
    splits_of: Callable[[str], list[tuple[str, dict[str, Any]]]] | None = None,
) -> PairingResult:
    """Parse every file name with ``pattern``, then pair the files into entries.

    Parameters
    ----------
    paths : list of str
        The files, relative to the folder.
    pattern : re.Pattern
        The compiled name pattern (:func:`compile_pattern`).
    current_channel, voltage_channel, protocols_of, role_of, splits_of
        As :func:`~efex_gui.core.importing.file_names.pair_files`.

    Returns
    -------
    PairingResult
        A file whose name the pattern does not match is in ``skipped``.
    """
    parsed = [parse_name(p, pattern) for p in paths]
    pairing = pair_files(
        [n for n in parsed if n is not None],
        current_channel,
        voltage_channel,
        protocols_of=protocols_of,
        role_of=role_of,
        splits_of=splits_of,
    )
    for path, name in zip(paths, parsed, strict=True):
        if name is None:
            pairing.skipped[path] = "name does not match the pattern"
    return pairing


def import_folder(
    root: str | Path,
    profile: Mapping[str, Any] | None = None,
    paths: list[str] | None = None,
) -> FolderImport:
    """Build the files_metadata of a folder the way the import dialog does by default.

    Parameters
    ----------
    root : path-like
        The folder to import (searched recursively).
    profile : mapping, optional
        An import profile (keys of :data:`DEFAULT_PROFILE`, plus an
        optional ``protocol_timings`` table); missing keys take the built-in
        defaults. An empty ``pattern`` means: the preset matching most files.
    paths : list of str, optional
        Only these files (``/``-separated, relative to ``root``); default: every
        recording file below ``root``.

    Returns
    -------
    FolderImport
        A folder whose files only match a preset with their folder's name in front
        (one cell's folder opened alone) is imported from its parent folder, with
        only its files.

    Raises
    ------
    MetadataError
        The folder does not exist, holds no recording, or no entry could be built.
    """
    try:
        return _import(Path(root), profile, paths)
    except MetadataError:
        folder = Path(root).absolute()
        if paths is not None or not folder.is_dir() or (profile or {}).get("pattern"):
            raise
        inside = [f"{folder.name}/{p}" for p in scan_folder(folder)]
        try:
            return _import(folder.parent, profile, inside)
        except MetadataError:
            pass
        raise


def _import(
    folder: Path, profile: Mapping[str, Any] | None, paths: list[str] | None
) -> FolderImport:
    """:func:`import_folder` of exactly ``folder``."""
    from efex_gui.core.session.dataset import file_protocols, file_role, file_splits

    if not folder.is_dir():
        raise MetadataError(f"{folder} is not a folder.")
    merged: dict[str, Any] = dict(DEFAULT_PROFILE)
    merged.update(profile or {})
    paths = scan_folder(folder) if paths is None else list(paths)
    if not paths:
        raise MetadataError(f"No recording file found in {folder}.")
    pattern = merged.get("pattern") or ""
    if not pattern:
        pattern = (best_pattern(paths) or PRESET_PATTERNS[0]).regex
    pairing = pair_names(
        paths,
        compile_pattern(pattern),
        str(merged.get("current_channel") or "").strip() or None,
        str(merged.get("voltage_channel") or "").strip() or None,
        protocols_of=lambda p: file_protocols(str(folder / p)),
        role_of=(lambda p: file_role(str(folder / p)))
        if merged.get("detect_roles", True)
        else None,
        splits_of=lambda p: file_splits(str(folder / p)),  # HEKA: a cell a channel
    )
    if not pairing.entries:
        reasons = "; ".join(
            f"{p}: {why}" for p, why in list(pairing.skipped.items())[:3]
        )
        more = len(pairing.skipped) - 3
        raise MetadataError(
            f"No recording in {folder} could be imported with the name pattern "
            f"{pattern!r} ({len(pairing.skipped)} files left out: {reasons}"
            + (f"; and {more} more" if more > 0 else "")
            + ")."
        )
    files_metadata = build_files_metadata(
        pairing.entries,
        parse_profile_defaults(merged.get("defaults") or {}),
        protocol_timings(merged),
    )
    overrides = dict(merged.get("ecode_overrides") or {})
    guesses = guess_ecodes(sorted({e.protocol for e in pairing.entries}), overrides)
    overrides.update({protocol: ecode for protocol, (ecode, _) in guesses.items()})
    return FolderImport(
        files_metadata,
        folder,
        pattern,
        overrides,
        dict(pairing.skipped),
        {protocol: why for protocol, (_, why) in guesses.items()},
    )
