"""From file names to a BluePyEfe ``files_metadata`` dict (the import step).

Pure functions, no I/O except :func:`scan_folder` (a directory listing). A name
pattern is a regular expression matched against each file's path relative to the
folder being imported (``/`` separated), with named groups:

* ``cell`` — the cell name (a folder or a file-name prefix);
* ``protocol`` — the protocol name (``IDrest``, ``IDRest``, ``APWaveform`` ...);
* ``channel`` — the channel number for formats that keep voltage and current in
  separate files (Igor ``.ibw``);
* ``number`` — the sweep/acquisition number that pairs a voltage file with its current
  file and orders the sweeps;
* ``repetition`` (optional) — written to the entry as ``repetition``.

Files without a ``channel`` group (NWB, ABF) become single-file entries; when the
pattern has no ``protocol`` group, the protocols are asked from the file through a
callable (the readers' metadata listing), so one file can appear under several
protocols, as BluePyEfe's NWB metadata does.
"""

from __future__ import annotations

import copy
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from efex_gui.core.errors import MetadataError, NotARecordingError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence

#: extensions the import scan offers (the readers decide what they can really read)
RECORDING_EXTENSIONS = (
    ".ibw",
    ".bwav",
    ".nwb",
    ".abf",
    ".txt",
    ".csv",
    ".dat",
    ".atf",
    ".wcp",
    ".axgd",
    ".axgx",
    ".smr",
    ".edr",
)


@dataclass(frozen=True)
class NamePattern:
    """A named, editable file-name pattern.

    Parameters
    ----------
    name : str
        Label shown to users.
    regex : str
        The regular expression (see the module docstring for its groups).
    example : str
        A path the pattern matches, shown as a hint.
    """

    name: str
    regex: str
    example: str


PRESET_PATTERNS: tuple[NamePattern, ...] = (
    NamePattern(
        "SSCx: cell folders, X_<protocol>_ch<k>_<n>",
        r"(?:.*/)?(?P<cell>[^/]+)/[^/_]+_(?P<protocol>[^/_]+)_[cC]h(?P<channel>\d+)"
        r"_(?P<number>\d+)\.\w+",
        "C060109A1-SR-C1/X_IDrest_ch0_123.ibw",
    ),
    NamePattern(
        "BBP: <cell>_Ch<k>_<protocol>_<n>",
        r"(?:.*/)?(?P<cell>[^/_]+)_[cC]h(?P<channel>\d+)_(?P<protocol>[^/_]+)"
        r"_(?P<number>\d+)\.\w+",
        "B6/B6_Ch3_IDRest_181.ibw",
    ),
    NamePattern(
        "One file per cell (NWB, ABF, HEKA, ATF, WCP, AxoGraph, text, ...)",
        r"(?:.*/)?(?P<cell>[^/]+)\.(?i:nwb|abf|dat|atf|wcp|axgd|axgx|smr|edr|txt|csv)",
        "cell_001.nwb",
    ),
)


@dataclass(frozen=True)
class ParsedName:
    """What a pattern found in one path (None for groups the pattern lacks)."""

    path: str
    cell: str | None = None
    protocol: str | None = None
    channel: str | None = None
    number: str | None = None
    repetition: str | None = None


@dataclass
class ImportEntry:
    """One future files_metadata entry: a V/I file pair or a single file."""

    cell: str
    protocol: str
    number: str | None = None
    v_file: str | None = None
    i_file: str | None = None
    filepath: str | None = None
    repetition: str | None = None
    #: keys selecting one recording inside a multi-cell file (HEKA group, channel)
    extra: dict[str, Any] = field(default_factory=dict)

    def config(self, defaults: Mapping[str, Any]) -> dict[str, Any]:
        """Return the entry as BluePyEfe file metadata, with the non-empty defaults."""
        config: dict[str, Any] = {}
        if self.number is not None:
            config["ordinal"] = self.number
        if self.filepath is not None:
            config["filepath"] = self.filepath
            if self.filepath.lower().endswith(".abf"):
                # channels by unit and the stimulus from the epoch table (issue 13)
                config["abf_layout"] = "units"
        else:
            config["i_file"] = self.i_file
            config["v_file"] = self.v_file
        for key, value in defaults.items():
            if value is not None and value != "":
                config[key] = value
        if self.repetition is not None:
            config["repetition"] = int(self.repetition)
        config.update(self.extra)
        return config


@dataclass
class PairingResult:
    """Entries built from the parsed names, and the files left out with why."""

    entries: list[ImportEntry] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)


def natural_key(text: str) -> tuple[Any, ...]:
    """Sort key that orders embedded numbers numerically (``a2`` before ``a10``)."""
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part.lower())
        for part in re.split(r"(\d+)", text)
        if part
    )


def scan_folder(
    folder: str | os.PathLike[str],
    extensions: Iterable[str] = RECORDING_EXTENSIONS,
) -> list[str]:
    """List recording files below ``folder`` as ``/``-separated relative paths.

    Only the directory tree is read, never the files. Hidden files are skipped.
    Symbolic links to folders are followed (a cell folder linked into a project is
    imported), each real folder once, so a link loop ends. The result is in
    natural order.
    """
    root = Path(folder)
    wanted = {e.lower() for e in extensions}
    found = []
    seen: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        real = os.path.realpath(dirpath)
        if real in seen:  # a loop, or a second link to the same folder
            dirnames[:] = []
            continue
        seen.add(real)
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for name in filenames:
            if not name.startswith(".") and Path(name).suffix.lower() in wanted:
                found.append(Path(dirpath, name).relative_to(root).as_posix())
    return sorted(found, key=natural_key)


def compile_pattern(regex: str) -> re.Pattern[str]:
    """Compile a user's pattern, checking it is a regex with a ``cell`` group.

    Raises
    ------
    MetadataError
        When the expression does not compile or lacks the ``cell`` group.
    """
    try:
        compiled = re.compile(regex)
    except re.error as exc:
        raise MetadataError(
            f"Name pattern {regex!r} is not a valid regex: {exc}"
        ) from exc
    if "cell" not in compiled.groupindex:
        raise MetadataError(f"Name pattern {regex!r} needs a (?P<cell>...) group.")
    return compiled


def parse_name(path: str, pattern: re.Pattern[str] | str) -> ParsedName | None:
    """Match ``pattern`` against the whole relative ``path``; None when it does not."""
    compiled = compile_pattern(pattern) if isinstance(pattern, str) else pattern
    match = compiled.fullmatch(path.replace(os.sep, "/"))
    if match is None:
        return None
    groups = {k: v for k, v in match.groupdict().items() if v is not None}
    return ParsedName(
        path=path,
        cell=groups.get("cell"),
        protocol=groups.get("protocol"),
        channel=groups.get("channel"),
        number=groups.get("number"),
        repetition=groups.get("repetition"),
    )


def best_pattern(
    paths: Iterable[str], patterns: Iterable[NamePattern] = PRESET_PATTERNS
) -> NamePattern | None:
    """Return the pattern matching most ``paths`` (first on a tie; None if none)."""
    path_list = list(paths)
    best, best_count = None, 0
    for pattern in patterns:
        compiled = compile_pattern(pattern.regex)
        count = sum(parse_name(p, compiled) is not None for p in path_list)
        if count > best_count:
            best, best_count = pattern, count
    return best


def _pick_channels(
    channels: Sequence[str],
    current_channel: str | None,
    voltage_channel: str | None,
    roles: Mapping[str, str | None] | None = None,
) -> tuple[str, str] | str:
    """Pick the (current, voltage) channels of a pair, or the reason there is no pair.

    Explicit channels win, then the roles read from the files, then the rule "lowest
    channel is the current, highest the voltage".
    """
    ordered = sorted(set(channels), key=natural_key)
    by_role = {role: ch for ch, role in (roles or {}).items() if ch in ordered}
    current = current_channel or by_role.get("current") or ordered[0]
    voltage = voltage_channel or by_role.get("voltage") or ordered[-1]
    if current not in ordered:
        return f"no current file (channel {current})"
    if voltage not in ordered or voltage == current:
        return f"no voltage file (channel {voltage})"
    return current, voltage


def pair_files(
    parsed: Iterable[ParsedName],
    current_channel: str | None = None,
    voltage_channel: str | None = None,
    protocols_of: Callable[[str], list[str]] | None = None,
    role_of: Callable[[str], str | None] | None = None,
    splits_of: Callable[[str], list[tuple[str, dict[str, Any]]]] | None = None,
) -> PairingResult:
    """Group parsed names into files_metadata entries.

    Parameters
    ----------
    parsed : iterable of ParsedName
        Output of :func:`parse_name` (None items already removed).
    current_channel, voltage_channel : str, optional
        Channel numbers of the current and voltage files; by default the lowest
        channel is the current (SSCx ``ch0``, BBP ``Ch0``) and the highest the voltage.
    protocols_of : callable, optional
        ``path -> [protocol, ...]`` for single files whose name has no protocol (the
        readers' metadata listing). Without it such files are skipped.
    role_of : callable, optional
        ``path -> "voltage" | "current" | None`` from the file's own units; asked
        for the first file of each (cell, channel), since rigs differ on which
        channel records what.
    splits_of : callable, optional
        ``path -> [(cell suffix, metadata keys), ...]`` for single files holding
        several cells (a HEKA bundle's groups and amplifier channels): one entry per
        split, in a cell named ``"<cell> <suffix>"``.

    Returns
    -------
    PairingResult
        Entries sorted by cell, protocol and number; skipped files with the reason.
    """
    result = PairingResult()
    groups: dict[tuple[str, str, str | None], list[ParsedName]] = {}
    role_cache: dict[tuple[str, str], str | None] = {}
    for name in parsed:
        if name.cell is None:
            result.skipped[name.path] = "no cell in the name"
        elif name.channel is None:
            _add_single_file(name, protocols_of, result, splits_of)
        elif name.protocol is None:
            result.skipped[name.path] = "no protocol in the name"
        else:
            groups.setdefault((name.cell, name.protocol, name.number), []).append(name)
    for (cell, protocol, number), names in groups.items():
        by_channel = {n.channel: n for n in names}
        roles = _channel_roles(cell, names, role_of, role_cache)
        picked = _pick_channels(
            [c for c in by_channel if c is not None],  # paired files have channels
            current_channel,
            voltage_channel,
            roles,
        )
        if isinstance(picked, str):
            for n in names:
                result.skipped[n.path] = picked
            continue
        current, voltage = picked
        result.entries.append(
            ImportEntry(
                cell,
                protocol,
                number,
                v_file=by_channel[voltage].path,
                i_file=by_channel[current].path,
                repetition=names[0].repetition,
            )
        )
        for n in names:
            if n.channel not in (current, voltage):
                result.skipped[n.path] = f"extra channel {n.channel}"
    result.entries.sort(
        key=lambda e: (
            natural_key(e.cell),
            natural_key(e.protocol),
            natural_key(e.number or ""),
        )
    )
    return result


def _channel_roles(
    cell: str,
    names: list[ParsedName],
    role_of: Callable[[str], str | None] | None,
    cache: dict[tuple[str, str], str | None],
) -> dict[str, str | None]:
    """Channel → role for one pair, asking ``role_of`` once per (cell, channel)."""
    if role_of is None:
        return {}
    roles = {}
    for name in names:
        channel = name.channel or ""
        if (cell, channel) not in cache:
            try:
                cache[(cell, channel)] = role_of(name.path)
            except Exception:  # an unreadable file falls back to the channel rule
                cache[(cell, channel)] = None
        roles[channel] = cache[(cell, channel)]
    return roles


def _add_single_file(
    name: ParsedName,
    protocols_of: Callable[[str], list[str]] | None,
    result: PairingResult,
    splits_of: Callable[[str], list[tuple[str, dict[str, Any]]]] | None = None,
) -> None:
    assert name.cell is not None
    if name.protocol is not None:
        protocols = [name.protocol]
    elif protocols_of is None:
        result.skipped[name.path] = "no protocol in the name"
        return
    else:
        try:
            protocols = list(protocols_of(name.path))
        except NotARecordingError as exc:  # voltage clamp...: what the file is
            result.skipped[name.path] = f"{exc.kind}: {exc.detail}"
            return
        except Exception as exc:  # a bad file must not stop the import
            result.skipped[name.path] = f"cannot list its protocols: {exc}"
            return
        if not protocols:
            result.skipped[name.path] = "no protocol found in the file"
            return
    try:
        splits = (splits_of(name.path) if splits_of else []) or [("", {})]
    except Exception:  # the reader will report a bad file
        splits = [("", {})]
    for protocol in protocols:
        for suffix, keys in splits:
            result.entries.append(
                ImportEntry(
                    f"{name.cell} {suffix}" if suffix else name.cell,
                    protocol,
                    name.number,
                    filepath=name.path,
                    repetition=name.repetition,
                    extra=dict(keys),
                )
            )


def build_files_metadata(
    entries: Iterable[ImportEntry],
    defaults: Mapping[str, Any] | None = None,
    protocol_defaults: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Assemble ``{cell: {protocol: [config, ...]}}`` from import entries.

    Parameters
    ----------
    entries : iterable of ImportEntry
        In the order they should appear.
    defaults : mapping, optional
        Keys added to every entry (``i_unit``, ``v_unit``, ``t_unit``, ``dt``,
        ``ljp`` ...); None or empty values are left out.
    protocol_defaults : mapping, optional
        ``{protocol: {key: value}}`` added after ``defaults`` (e.g. ``dt``, ``ton``,
        ``toff`` per protocol).
    """
    files_metadata: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for entry in entries:
        merged = dict(defaults or {})
        merged.update((protocol_defaults or {}).get(entry.protocol, {}))
        files_metadata.setdefault(entry.cell, {}).setdefault(entry.protocol, []).append(
            entry.config(merged)
        )
    return files_metadata


#: the keys of a files_metadata entry that hold file paths
PATH_KEYS = ("filepath", "v_file", "i_file")


def absolute_path(path: str, root: Path | None, strings: dict[str, str]) -> str:
    """Return ``path`` joined to ``root`` (unless absolute or ``root`` is None).

    The string comes from ``strings`` (a session's table, filled here): one string
    per file, however many entries, recordings and plans hold it.
    """
    p = Path(path)
    if not p.is_absolute() and root is not None:
        p = root / p
    text = str(p)
    return strings.setdefault(text, text)


def with_absolute_paths(
    config: Mapping[str, Any], resolve: Callable[[str], str], *, deep: bool = True
) -> dict[str, Any]:
    """Copy an entry with its paths through ``resolve`` (deep copy unless told not).

    ``deep=False``: a shallow copy, for a caller that never changes the values.
    """
    out = copy.deepcopy(dict(config)) if deep else dict(config)
    for key in PATH_KEYS:
        path = out.get(key)
        if path:
            out[key] = resolve(path)
    return out


def relative_to(path: str | os.PathLike[str], root: str | os.PathLike[str]) -> str:
    """``path`` relative to ``root`` with ``/`` separators, or absolute if elsewhere."""
    path, root = os.path.abspath(path), os.path.abspath(root)
    try:
        rel = os.path.relpath(path, root)
    except ValueError:  # another drive on Windows
        return Path(path).as_posix()
    return Path(path).as_posix() if rel.startswith("..") else Path(rel).as_posix()


def entry_file(config: Mapping[str, Any]) -> str:
    """Return the path identifying a files_metadata entry: ``filepath`` or ``v_file``.

    Raises
    ------
    MetadataError
        When the entry has neither key.
    """
    path = config.get("filepath") or config.get("v_file")
    if not path:
        raise MetadataError(f"No 'filepath' or 'v_file' provided in {dict(config)}.")
    return str(path)
