"""A lazy listing of a files_metadata dict: cells → protocols → entries → sweeps.

Listing never opens a file. Each files_metadata entry (a V/I file pair, or one file
read for one protocol) is one *entry*; how many traces (sweeps) an entry holds is
known only once it has been read. Until then it shows as a single sweep with
``index None``. :func:`load_entry` reads one entry and builds the core's Recording
objects (the slow part, run by the GUI's worker thread); the caller records the
outcome with :meth:`Dataset.set_loaded` or :meth:`Dataset.set_failed`.

Paths inside the files_metadata held by a :class:`Dataset` are those of the session
(relative to ``data_root`` or absolute); :meth:`Dataset.absolute_config` resolves them
for the readers.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from efex_gui.core.errors import EfexError
from efex_gui.core.importing.file_names import (
    PATH_KEYS,
    absolute_path,
    entry_file,
    with_absolute_paths,
)
from efex_gui.core.pickle_compat import field_state, restore_field_state
from efex_gui.core.recordings.checks import check_sampling_metadata, guard_recording
from efex_gui.core.recordings.compact import CompactMapping, SharedValues
from efex_gui.core.session.exclusions import ExclusionKey

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from efex_gui.core.readers._common import Reader, TraceDict


@dataclass(frozen=True, order=True, slots=True)
class EntryKey:
    """Address of one files_metadata entry: cell, protocol and position in its list."""

    cell: str
    protocol: str
    entry: int

    # slots: one per sweep; pickled as before slots (a dict of the fields)
    __getstate__ = field_state
    __setstate__ = restore_field_state


def entry_order(key: EntryKey) -> tuple[str, str, int]:
    """Sort key giving ``sorted(keys)``'s order without a Python ``__lt__`` per pair.

    ``sorted(keys, key=entry_order)``: 7 150 keys (44 cells) sort in milliseconds,
    where the dataclass comparisons took 0.2-0.3 s on the GUI thread.
    """
    return (key.cell, key.protocol, key.entry)


@dataclass(frozen=True, order=True, slots=True)
class SweepKey:
    """Address of one sweep: an entry and the trace index (None: not read yet)."""

    cell: str
    protocol: str
    entry: int
    index: int | None = None

    # slots: one per sweep; pickled as before slots (a dict of the fields)
    __getstate__ = field_state
    __setstate__ = restore_field_state

    @property
    def entry_key(self) -> EntryKey:
        """The entry this sweep belongs to."""
        return EntryKey(self.cell, self.protocol, self.entry)


#: the trace errors of the (many) entries read without one
_NO_ERRORS: Mapping[int, str] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class EntryState:
    """What is known about an entry after reading it.

    Frozen: an entry read without an error whose traces have the reader's default
    names shares one state with every such entry of as many traces
    (:func:`_loaded_state`).
    """

    n_traces: int | None = None
    trace_names: tuple[str, ...] = ()
    error: str | None = None
    trace_errors: Mapping[int, str] = field(default_factory=lambda: _NO_ERRORS)


#: the state of an entry never read
_UNREAD = EntryState()
#: by number of traces, the state of an entry read without an error whose traces
#: have the default names (``load_config``'s "sweep 0", ...: the Igor waves')
_DEFAULT_STATES: dict[int, EntryState] = {}


def _loaded_state(
    trace_names: Sequence[str], trace_errors: Mapping[int, str] | None
) -> EntryState:
    """Return the state of an entry read with these traces (shared when it can be).

    A state, its names tuple and each name per entry took 0.17 kB a sweep in the
    GUI (most entries hold one trace named "sweep 0"); the entries whose state
    only tells their number of traces share one.
    """
    count = len(trace_names)
    if not trace_errors and all(
        name == f"sweep {i}" for i, name in enumerate(trace_names)
    ):
        state = _DEFAULT_STATES.get(count)
        if state is None:
            names = tuple(f"sweep {i}" for i in range(count))
            state = _DEFAULT_STATES[count] = EntryState(count, names)
        return state
    errors = MappingProxyType(dict(trace_errors)) if trace_errors else _NO_ERRORS
    return EntryState(count, tuple(trace_names), None, errors)


class Dataset:
    """Cells → protocols → entries of a files_metadata dict, read lazily.

    Parameters
    ----------
    files_metadata : dict
        ``{cell: {protocol: [config, ...]}}``, shared with the session (not copied).
    data_root : path-like, optional
        Folder that relative paths are relative to (the working directory if None).
    path_strings : dict, optional
        The table of absolute path strings to share (the session's
        ``Session.path_strings``): one string per file for the browser and the plans.
    """

    def __init__(
        self,
        files_metadata: dict[str, dict[str, list[Mapping[str, Any]]]],
        data_root: str | Path | None = None,
        path_strings: dict[str, str] | None = None,
    ) -> None:
        # Shared, not copied: the session owns the dict, the controller edits it.
        self.files_metadata = files_metadata
        self.data_root = Path(data_root) if data_root is not None else None
        self.path_strings = {} if path_strings is None else path_strings
        #: ``{cell: {protocol: [state or None by entry position]}}``: a list slot
        #: per entry, where a dict by :class:`EntryKey` took a key object and a
        #: dict slot per entry (84 B a sweep)
        self._states: dict[str, dict[str, list[EntryState | None]]] = {}

    def cells(self) -> list[str]:
        """Cell names in files_metadata order."""
        return list(self.files_metadata)

    def protocols(self, cell: str) -> list[str]:
        """Protocol names of ``cell`` in files_metadata order."""
        return list(self.files_metadata[cell])

    def entries(self, cell: str, protocol: str) -> list[Mapping[str, Any]]:
        """Return the stored (session-relative) configs of one protocol of one cell."""
        return self.files_metadata[cell][protocol]

    def entry_keys(self) -> list[EntryKey]:
        """Every entry of the dataset, in order."""
        return [
            EntryKey(cell, protocol, i)
            for cell, protocols in self.files_metadata.items()
            for protocol, entries in protocols.items()
            for i in range(len(entries))
        ]

    def config(self, key: EntryKey) -> Mapping[str, Any]:
        """Return the stored config of an entry (read-only: see :meth:`set_config`)."""
        return self.files_metadata[key.cell][key.protocol][key.entry]

    def set_config(self, key: EntryKey, config: Mapping[str, Any]) -> None:
        """Replace an entry's config by a read-only copy of ``config``.

        An entry is replaced, never changed in place: an extraction running on a
        snapshot of the metadata shares the entries, and planning tells an entry
        unchanged by its identity (an undo gives back the very entry it replaced).
        """
        if not isinstance(config, CompactMapping):
            config = CompactMapping(config)
        self.files_metadata[key.cell][key.protocol][key.entry] = config

    def make_read_only(self) -> None:
        """Replace every entry's dict by a read-only copy (see :meth:`set_config`).

        Read-only entries are shared instead of copied: by a run's snapshot of the
        metadata and by the plans' memory of it (0.4 kB a sweep, on top of the
        0.1 kB a dict takes more than its read-only copy). Their values that repeat
        from entry to entry (units, numbers, ordinals; not paths) are one object
        each: a JSON file gives each its own. Done once, when the GUI opens a
        session.
        """
        shared = SharedValues()  # units, numbers, ordinals: one object per value
        for protocols in self.files_metadata.values():
            for entries in protocols.values():
                for position, config in enumerate(entries):
                    if not isinstance(config, CompactMapping):
                        entries[position] = shared.share_metadata(config)

    def state(self, key: EntryKey) -> EntryState:
        """Return what is known about an entry (an empty state if never read)."""
        states = self._states.get(key.cell, {}).get(key.protocol, ())
        state = states[key.entry] if 0 <= key.entry < len(states) else None
        return _UNREAD if state is None else state

    def is_loaded(self, key: EntryKey) -> bool:
        """Whether the entry was read (successfully or not)."""
        state = self.state(key)
        return state.n_traces is not None or state.error is not None

    def sweeps(self, cell: str, protocol: str) -> list[SweepKey]:
        """One sweep per trace of read entries, else one per entry, of a protocol."""
        sweeps: list[SweepKey] = []
        for i in range(len(self.files_metadata[cell][protocol])):
            state = self.state(EntryKey(cell, protocol, i))
            if state.n_traces:
                sweeps.extend(
                    SweepKey(cell, protocol, i, j) for j in range(state.n_traces)
                )
            else:
                sweeps.append(SweepKey(cell, protocol, i, None))
        return sweeps

    def all_sweeps(self) -> list[SweepKey]:
        """Every sweep of the dataset, in tree order."""
        return [
            s
            for c in self.cells()
            for p in self.protocols(c)
            for s in self.sweeps(c, p)
        ]

    def set_loaded(
        self,
        key: EntryKey,
        trace_names: list[str],
        trace_errors: Mapping[int, str] | None = None,
    ) -> None:
        """Record that an entry was read and holds ``len(trace_names)`` traces."""
        self._set_state(key, _loaded_state(trace_names, trace_errors))

    def set_failed(self, key: EntryKey, reason: str) -> None:
        """Record that an entry could not be read, and why."""
        self._set_state(key, EntryState(None, (), reason))

    def forget(self, key: EntryKey) -> None:
        """Drop what is known about an entry (after its metadata changed)."""
        states = self._states.get(key.cell, {}).get(key.protocol, [])
        if 0 <= key.entry < len(states):
            states[key.entry] = None

    def _set_state(self, key: EntryKey, state: EntryState) -> None:
        if key.entry < 0:
            raise IndexError(f"no entry at position {key.entry}")
        states = self._states.setdefault(key.cell, {}).setdefault(key.protocol, [])
        if len(states) <= key.entry:
            states.extend([None] * (key.entry + 1 - len(states)))
        states[key.entry] = state

    def file(self, key: EntryKey) -> str:
        """Return the stored path identifying an entry (``filepath`` or ``v_file``)."""
        return entry_file(self.config(key))

    def exclusion_key(self, sweep: SweepKey) -> ExclusionKey:
        """Return a sweep's exclusion key (the entry's for single-trace entries)."""
        file = self.file(sweep.entry_key)
        n_traces = self.state(sweep.entry_key).n_traces
        if sweep.index is None or n_traces == 1:
            return ExclusionKey(sweep.cell, sweep.protocol, file)
        return ExclusionKey(sweep.cell, sweep.protocol, file, sweep.index)

    def child_keys(self, key: ExclusionKey) -> list[ExclusionKey]:
        """Return the exclusion keys one level below ``key`` (traces only once read)."""
        if key.protocol is None:
            return [ExclusionKey(key.cell, p) for p in self.protocols(key.cell)]
        if key.file is None:
            entries = self.entries(key.cell, key.protocol)
            return [
                ExclusionKey(key.cell, key.protocol, entry_file(c)) for c in entries
            ]
        if key.index is not None:
            return []
        for i, config in enumerate(self.entries(key.cell, key.protocol)):
            n_traces = self.state(EntryKey(key.cell, key.protocol, i)).n_traces
            if entry_file(config) == key.file and n_traces and n_traces > 1:
                return [
                    ExclusionKey(key.cell, key.protocol, key.file, j)
                    for j in range(n_traces)
                ]
        return []

    def resolve(self, path: str) -> str:
        """Return an absolute path for a stored path."""
        return absolute_path(path, self.data_root, self.path_strings)

    def absolute_config(self, key: EntryKey) -> dict[str, Any]:
        """Copy an entry's config with absolute paths, ready for the readers."""
        return self.absolute(self.config(key))

    def absolute(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """Copy ``config`` (an entry's) with absolute paths."""
        return with_absolute_paths(config, self.resolve)


def guess_data_root(
    files_metadata: Mapping[str, Mapping[str, Sequence[Mapping[str, Any]]]],
    folder: str | Path,
    levels: int = 3,
    sample: int = 5,
) -> Path:
    """Guess the folder the relative paths of ``files_metadata`` are relative to.

    Tries ``folder``, then up to ``levels`` folders above it, then the working
    directory; the first where the first ``sample`` relative paths all exist wins.
    ``folder`` when none does (the files then show as unreadable, with the path).
    """
    folder = Path(folder)
    relative = []
    for protocols in files_metadata.values():
        for entries in protocols.values():
            for entry in entries:
                relative += [
                    v for v in (entry.get(k) for k in PATH_KEYS)
                    if isinstance(v, str) and v and not Path(v).is_absolute()
                ]  # fmt: skip
                if len(relative) >= sample:
                    break
    if not relative:
        return folder
    for root in (folder, *list(folder.parents)[:levels], Path.cwd()):
        if all((root / p).exists() for p in relative[:sample]):
            return root
    return folder


@dataclass
class LoadedEntry:
    """What :func:`load_entry` returns: recordings, and errors per trace or entry."""

    key: EntryKey
    recordings: list[Any] = field(default_factory=list)
    trace_names: list[str] = field(default_factory=list)
    trace_errors: dict[int, str] = field(default_factory=dict)
    error: str | None = None
    #: the raw traces of what could not be interpreted (trace index -> RawTrace)
    raw: dict[int, Any] = field(default_factory=dict)
    #: the fix the GUI offers for ``error`` / the trace errors (interpretation.FIXES)
    fix: str | None = None
    #: notes for every sweep of the entry (a guessed eCode, ...)
    notes: list[str] = field(default_factory=list)


def resolve_ecode(protocol: str, overrides: Mapping[str, str] | None = None) -> type:
    """Return the eCode class for ``protocol``, honouring a user's override.

    An override maps a protocol name to another name that the core's table resolves
    (``{"MyStep": "Step"}``, ``{"FastRamp": "Ramp"}``).

    Raises
    ------
    ECodeError
        When neither the override nor the protocol name matches an eCode.
    """
    from efex_gui.core.recordings.ecodes import ecode_for_protocol

    name = (overrides or {}).get(protocol) or protocol
    return ecode_for_protocol(name)


def ecode_name(protocol: str, overrides: Mapping[str, str] | None = None) -> str | None:
    """Return the eCode class name for ``protocol`` or None when nothing matches."""
    try:
        return resolve_ecode(protocol, overrides).__name__
    except (EfexError, KeyError):
        return None


def load_entry(
    dataset: Dataset,
    key: EntryKey,
    ecode_overrides: Mapping[str, str] | None = None,
    efel_settings: Mapping[str, Any] | None = None,
    reader: Reader | None = None,
) -> LoadedEntry:
    """Read one entry of ``dataset``; see :func:`load_config`."""
    try:
        config = dataset.absolute_config(key)
    except Exception as exc:
        return LoadedEntry(key, error=_describe(exc))
    return load_config(key, config, ecode_overrides, efel_settings, reader)


def load_config(
    key: EntryKey,
    config: dict[str, Any],
    ecode_overrides: Mapping[str, str] | None = None,
    efel_settings: Mapping[str, Any] | None = None,
    reader: Reader | None = None,
    *,
    count_spikes: bool = True,
) -> LoadedEntry:
    """Read one entry, build one Recording per trace, count its spikes; never raises.

    Parameters
    ----------
    key : EntryKey
        Which entry (its protocol picks the eCode).
    config : dict
        The entry's metadata with absolute paths (not modified; a copy is used).
    ecode_overrides : mapping, optional
        Protocol name → eCode name overrides (see :func:`resolve_ecode`).
    efel_settings : mapping, optional
        Global efel settings, used by the Recording for its spike count.
    reader : callable, optional
        Replacement for the core's ``read_file`` (a user's ``recording_reader``).
    count_spikes : bool
        Count the spikes now (False: the counts stay deferred, for a caller that
        takes them from the persistent cache, see
        :func:`~efex_gui.core.extraction.spike_cache.spike_counts_cached`).

    Returns
    -------
    LoadedEntry
        ``error`` is set when the whole entry failed (unreadable file, unknown
        eCode); ``trace_errors`` when single traces could not be interpreted.
    """
    from efex_gui.core.readers import read_file
    from efex_gui.core.recordings.interpretation import (
        fix_for,
        guess_entry_ecode,
        raw_traces,
    )

    result = LoadedEntry(key)
    config = copy.deepcopy(config)
    read = reader or read_file
    # BluePyEfe's Cell.read_recordings inserts the protocol name before reading.
    config.setdefault("protocol_name", key.protocol)
    try:
        ecode = _ecode_or_none(key.protocol, ecode_overrides)
        check_sampling_metadata(config, str(entry_file(config)))
        traces = read(config)
        if ecode is None:
            ecode, note = guess_entry_ecode(key.protocol, traces)
            result.notes.append(note)
    except Exception as exc:  # a bad file becomes an error row, never a crash
        result.error, result.fix = _describe(exc), fix_for(exc)
        result.raw = dict(enumerate(raw_traces(config, read)))
        return result
    if ecode is None:
        result.error, result.fix = result.notes[-1], "ecode"
        result.raw = dict(enumerate(raw_traces(config, read)))
        return result
    _interpret(result, ecode, config, traces, efel_settings, reader is None)
    if count_spikes:
        count_spikes_of(result)
    if not traces:
        result.error = "the file holds no trace for this protocol"
    return result


def count_spikes_of(result: LoadedEntry) -> None:
    """Count the spikes of an entry's recordings now; a sweep that fails is an error.

    The browser shows every count: made where the reading happens (a worker thread),
    not on first display. A count that raises turns its sweep into an error row, as
    a trace that cannot be interpreted.
    """
    from efex_gui.core.readers.raw import raw_trace
    from efex_gui.core.recordings.interpretation import fix_for

    for i, recording in enumerate(result.recordings):
        if recording is None:
            continue
        try:
            _ = recording.spikecount
        except Exception as exc:
            result.recordings[i] = None
            result.trace_errors[i] = _describe(exc)
            result.fix = fix_for(exc)
            with contextlib.suppress(Exception):  # no samples to show
                result.raw[i] = raw_trace(recording.reader_data, recording.config_data)


def _ecode_or_none(protocol: str, overrides: Mapping[str, str] | None) -> type | None:
    """:func:`resolve_ecode`, None for a name no table knows (guessed later)."""
    from efex_gui.core.errors import ECodeError

    try:
        return resolve_ecode(protocol, overrides)
    except ECodeError:
        return None


def _interpret(
    result: LoadedEntry,
    ecode: type,
    config: dict[str, Any],
    traces: list[TraceDict],
    efel_settings: Mapping[str, Any] | None,
    from_file: bool = False,
) -> None:
    """One Recording per trace; a trace that fails keeps its raw data.

    ``from_file``: read by the core's reader (``source_index`` set: the persistent
    feature cache keys on it).
    """
    from efex_gui.core.readers.raw import raw_trace
    from efex_gui.core.recordings.interpretation import fix_for

    settings = dict(efel_settings) if efel_settings is not None else None
    for i, trace in enumerate(traces):
        result.trace_names.append(str(trace.get("id") or f"sweep {i}"))
        try:
            recording = guard_recording(ecode(config, trace, result.key.protocol,
                                              settings))  # fmt: skip
            for note in result.notes:
                recording.warnings.append(note)
            if from_file:
                recording.source_index = i
            result.recordings.append(recording)
        except Exception as exc:
            result.recordings.append(None)
            result.trace_errors[i] = _describe(exc)
            result.fix = fix_for(exc)
            with contextlib.suppress(Exception):  # no samples to show
                result.raw[i] = raw_trace(trace, config)


def _describe(exc: BaseException) -> str:
    """Describe an error in one line, for an error row."""
    text = str(exc).strip() or type(exc).__name__
    if isinstance(exc, EfexError):
        return text
    return f"{type(exc).__name__}: {text}"


def file_role(path: str) -> str | None:
    """Tell "voltage" or "current" from a single-channel file's unit, else None.

    Reads the file's header only (the readers' ``inspect_file``).
    """
    from efex_gui.core.readers import inspect_file

    channels = inspect_file(path).get("channels") or []
    kinds = {c.get("kind") for c in channels} - {None}
    if len(kinds) == 1:
        (kind,) = kinds
        return kind if kind in ("voltage", "current") else None
    return None


#: fewer numeric rows than this in a text file: a table (notes), not a sampled trace
MIN_TEXT_ROWS = 100


def file_protocols(path: str) -> list[str]:
    """List the protocols inside a file, from its metadata only.

    NWB, ABF and HEKA files name them. A file that names none (ATF, WinWCP,
    AxoGraph, Spike2 ...) holds one, called by the file's name ("cell3_steps.atf"
    → "cell3_steps"; BluePyEfe's table or the person gives its eCode).

    Raises
    ------
    NotARecordingError
        A voltage-clamp file (never imported as current clamp).
    """
    from efex_gui.core.errors import NotARecordingError
    from efex_gui.core.readers import inspect_file, list_nwb_protocols

    if ".nwb" in path.lower():
        return list(list_nwb_protocols(path))
    info = inspect_file(path)
    if info.get("clamp") == "voltage":
        count = info.get("n_sweeps")
        held = f"{count} sweeps of membrane current" if count else "membrane current"
        raise NotARecordingError(path, "voltage clamp", held)
    rows = info.get("n_rows")
    if info.get("format") == "text" and rows is not None and rows < MIN_TEXT_ROWS:
        raise NotARecordingError(path, "a table, not a trace", f"{rows} numeric rows")
    protocols = [str(p) for p in info.get("protocols") or []]
    if not protocols:
        protocols = [Path(path).stem]
    return protocols


def file_splits(path: str) -> list[tuple[str, dict[str, Any]]]:
    """List the cells inside one file: ``[(cell suffix, metadata keys), ...]``.

    A HEKA bundle with several groups or amplifier channels holds one cell per
    (group, channel) (trap T20); each becomes its own cell in the import, selected
    with ``heka_group`` and ``v_channel``. Other files hold one cell: ``[]``.
    """
    from efex_gui.core.readers import inspect_file
    from efex_gui.core.readers.heka import is_patchmaster

    if not path.lower().endswith(".dat") or not is_patchmaster(path):
        return []
    series = inspect_file(path).get("series") or []
    groups = list(dict.fromkeys(s["group"] for s in series))
    channels = list(dict.fromkeys(c for s in series for c in s["channels"]))
    if len(groups) * len(channels) <= 1:
        return []
    return [
        (
            channel if len(groups) == 1 else f"{group} {channel}",
            {"heka_group": g, "v_channel": channel},
        )
        for g, group in enumerate(groups)
        for channel in channels
    ]


def ecode_names() -> list[str]:
    """Names a user can pick as an eCode override (each resolves to its own class)."""
    from efex_gui.core.recordings.ecodes import eCodes

    return sorted({cls.__name__ for cls in eCodes.values()})


def ecode_table(
    protocols: list[str], overrides: Mapping[str, str] | None = None
) -> list[tuple[str, str | None, str | None]]:
    """``(protocol, table key matched, eCode name)`` rows for the import dialog."""
    from efex_gui.core.recordings.ecodes import ecode_key_for_protocol

    return [
        (
            p,
            ecode_key_for_protocol((overrides or {}).get(p) or p),
            ecode_name(p, overrides),
        )
        for p in protocols
    ]
