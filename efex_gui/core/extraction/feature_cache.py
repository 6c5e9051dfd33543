"""Per-sweep efel values, cached so that regrouping never recomputes them.

In the GUI the user excludes sweeps, moves a target amplitude or adds a feature, and
expects the results to follow at once. Only the efel calls are slow; matching and
averaging are not. :class:`FeatureCache` keeps every per-sweep value the pipeline
computed, keyed by

``(sweep identity, protocol, efel settings)`` → ``{efel feature: value}``

where the *sweep identity* is a digest of exactly what efel receives for the sweep
(time, voltage and current arrays, stimulus window, ``stimulus_current``, automatic
threshold, pulse windows) plus its file names, trace id and eCode. Two sweeps with the
same identity therefore get the same efel output, whatever metadata edit or re-read
produced them; a changed file or a changed ``ljp`` gives a new identity. Values are
stored per feature, so adding a feature to a target list computes only that feature,
and the feature set of one efel call is whatever is missing.

:func:`extract_efeatures_cached` is the cached form of the pipeline stage
``extract_efeatures_at_targets`` (spec §2.3): same grouping of the targets by
(efel settings, protocol) in first-seen order, same merged settings
``{**global, **target}``, same per-recording values, written to
``recording.efeatures`` in the same order (so the §2.3 overwrite hazard behaves the
same). It checks a cancel token and reports progress between sweeps.

Qt-free; used by the GUI's extraction worker.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from efex_gui.core.errors import Cancelled
from efex_gui.core.extraction.feature_store import (
    FeatureStore,
    json_default,
    sweep_key,
)
from efex_gui.core.recordings.compact import KeyMemo
from efex_gui.core.recordings.traces import needs_traces, traces_reloaded

__all__ = [
    "CacheStats",
    "FeatureCache",
    "extract_cell_features",
    "extract_efeatures_cached",
    "key_memo",
    "session_cache",
    "settings_key",
    "share_identity",
    "sweep_identity",
    "target_groups",
]

_IDENTITY_ATTRIBUTES = ("ton", "toff", "amp", "auto_threshold")
_ARRAY_ATTRIBUTES = ("t", "voltage", "current", "multi_stim_start", "multi_stim_end")

#: the key of a recording's identity in its memo (settings texts are JSON objects)
_IDENTITY = "identity"


def key_memo(recording: Any) -> KeyMemo | None:
    """Return the memo of cache keys kept on a recording object (None: it has none).

    A :class:`~efex_gui.core.recordings.recording.Recording` keeps its keys in its
    ``cache_keys`` slot, neither pickled nor copied (a copy whose inputs may change
    computes its own; :func:`share_identity` hands them to a copy that will not).
    Other objects (duck-typed recordings) get no memo: their keys are computed again.
    """
    try:
        memo: KeyMemo | None = recording.cache_keys
    except AttributeError:
        return None
    if memo is None:
        memo = KeyMemo()
        try:
            recording.cache_keys = memo
        except AttributeError:  # read-only
            return None
    return memo


def _update_array(digest: Any, value: Any) -> None:
    if value is None:
        digest.update(b"<none>")
        return
    array = np.ascontiguousarray(np.asarray(value, dtype=float))
    digest.update(str(array.shape).encode())
    digest.update(array.tobytes())


def sweep_identity(recording: Any) -> str:
    """Return a digest of everything efel receives for one recording.

    Parameters
    ----------
    recording : Recording
        A recording with its traces (``t``, ``voltage``, ``current``).

    Returns
    -------
    str
        A hex digest; memoised per recording object.
    """
    memo = key_memo(recording)
    if memo is not None and _IDENTITY in memo:
        identity: str = memo[_IDENTITY]
        return identity
    digest = hashlib.blake2b(digest_size=20)
    header = {
        "class": type(recording).__name__,
        "files": [str(f) for f in getattr(recording, "files", [])],
        "id": str(getattr(recording, "id", None)),
        "repetition": str(getattr(recording, "repetition", None)),
        **{name: repr(getattr(recording, name, None)) for name in _IDENTITY_ATTRIBUTES},
    }
    digest.update(json.dumps(header, sort_keys=True).encode())
    for name in _ARRAY_ATTRIBUTES:
        _update_array(digest, getattr(recording, name, None))
    identity = digest.hexdigest()
    if memo is not None:
        memo[_IDENTITY] = identity
    return identity


def share_identity(source: Any, copy: Any) -> None:
    """Let ``copy`` (a shallow copy of ``source``) reuse its memoised keys.

    Only for a copy whose files, metadata and efel inputs stay those of ``source``:
    the two then share one memo.
    """
    memo = key_memo(source)
    if memo is not None and hasattr(copy, "cache_keys"):
        copy.cache_keys = memo


def _memoised_sweep_key(
    recording: Any, settings: Mapping[str, Any] | None
) -> str | None:
    """:func:`sweep_key`, memoised per recording object and settings.

    A recording's files, metadata and efel inputs do not change once read (a file
    changed on disk is read again into new recordings), so its key does not either.
    """
    memo = key_memo(recording)
    if memo is None:
        return sweep_key(recording, settings)
    text = settings_key(settings)
    if text not in memo:
        memo[text] = sweep_key(recording, settings)
    key: str | None = memo[text]
    return key


def settings_key(settings: Mapping[str, Any] | None) -> str:
    """Make a canonical string for a dict of efel settings (key order ignored).

    Interned: the memos of thousands of recordings keyed by it hold one string.
    """
    return sys.intern(
        json.dumps(dict(settings or {}), sort_keys=True, default=json_default)
    )


@dataclass
class CacheStats:
    """Counts of one cached extraction: values served from the cache or computed."""

    hits: int = 0
    computed: int = 0
    efel_calls: int = 0

    def add(self, other: CacheStats) -> None:
        """Accumulate ``other`` into this object."""
        self.hits += other.hits
        self.computed += other.computed
        self.efel_calls += other.efel_calls


#: one unit of work: (recording, merged efel settings, efel feature names)
WorkItem = tuple[Any, Mapping[str, Any], Sequence[str]]


class FeatureCache:
    """Per-sweep efel values in memory, backed by an optional :class:`FeatureStore`.

    The key of a recording read by the core from files is the persistent
    :func:`~efex_gui.core.extraction.feature_store.sweep_key` (file identity,
    metadata, efel inputs, settings, versions): it needs no trace, so values cached
    on disk are
    found without reading the file again. Other recordings (a user's reader, traces
    built in memory) are keyed by :func:`sweep_identity`, a digest of what efel
    receives, and stay in memory only.

    Parameters
    ----------
    max_sweeps : int
        Bound on the number of (sweep, settings) entries kept in memory; the least
        recently used are forgotten first.
    store : FeatureStore, optional
        The persistent cache; values computed here are written to it, values missing
        here are looked up in it.
    """

    def __init__(
        self, max_sweeps: int = 200_000, store: FeatureStore | None = None
    ) -> None:
        self.max_sweeps = max_sweeps
        self.store = store
        self._values: dict[str, dict[str, Any]] = {}

    def __len__(self) -> int:
        return len(self._values)

    def clear(self) -> None:
        """Forget every value held in memory (the persistent store is kept)."""
        self._values.clear()

    def key(self, recording: Any, settings: Mapping[str, Any] | None) -> str:
        """Return the cache key of a recording computed with ``settings``."""
        persistent = _memoised_sweep_key(recording, settings)
        if persistent is not None:
            return persistent
        return "|".join(
            (
                "mem",
                sweep_identity(recording),
                str(recording.protocol_name),
                settings_key(settings),
            )
        )

    def cached(
        self, recording: Any, features: Iterable[str], settings: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Return the values of ``features`` known for this recording and settings."""
        key = self.key(recording, settings)
        known = self._values.get(key)
        if known is None and self.store is not None and not key.startswith("mem|"):
            known = self.store.get_many([key]).get(key)
        known = known or {}
        return {f: known[f] for f in features if f in known}

    def values(
        self,
        recording: Any,
        features: Sequence[str],
        settings: Mapping[str, Any],
        stats: CacheStats | None = None,
    ) -> dict[str, Any]:
        """Return the per-sweep values of ``features``, computing the missing ones.

        Parameters
        ----------
        recording : Recording
            The sweep.
        features : sequence of str
            efel feature names.
        settings : mapping
            The merged efel settings of the call.
        stats : CacheStats, optional
            Counters to update.

        Returns
        -------
        dict
            ``{efel feature: value}`` (NaN when efel gives nothing).
        """
        return self.fill([(recording, settings, features)], stats)[0]

    def fill(
        self,
        items: Sequence[WorkItem],
        stats: CacheStats | None = None,
        *,
        cancel: Any = None,
        on_sweep: Callable[[], None] | None = None,
    ) -> list[dict[str, Any]]:
        """Get the values of many sweeps: memory, then one store lookup, then efel.

        The missing features of a sweep are computed in one efel call through the
        recording's own ``compute_efeatures`` (into a scratch dict:
        ``recording.efeatures`` is left as it was); a recording whose traces were
        dropped gets them back for the call (:mod:`efex_gui.core.recordings.traces`,
        each entry read once) and loses them again after it. What was computed is
        written to the store in one transaction, also when the run is cancelled.


        Parameters
        ----------
        items : sequence of (recording, settings, features)
            The sweeps, their merged efel settings and feature names.
        stats : CacheStats, optional
            Counters to update.
        cancel : object, optional
            Anything with ``is_set()``; checked before every sweep.
        on_sweep : callable, optional
            Called after every sweep (progress).

        Returns
        -------
        list of dict
            ``{efel feature: value}`` per item.

        Raises
        ------
        Cancelled
            When ``cancel.is_set()``; what was computed is kept.
        """
        stats = stats if stats is not None else CacheStats()
        keys = [self.key(recording, settings) for recording, settings, _ in items]
        self._load([k for k in keys if k not in self._values])
        missing = [
            [f for f in dict.fromkeys(features) if f not in self._values.get(k, {})]
            for k, (_, _, features) in zip(keys, items, strict=True)
        ]
        dry = [r for (r, _, _), m in zip(items, missing, strict=True) if m]
        computed: dict[str, dict[str, Any]] = {}
        results = []
        try:
            with traces_reloaded(r for r in dry if needs_traces(r)):
                for key, (recording, settings, features), todo in zip(
                    keys, items, missing, strict=True
                ):
                    if cancel is not None and cancel.is_set():
                        raise Cancelled(
                            "The extraction was cancelled; the results were kept."
                        )
                    known = self._remember(key)
                    todo = [f for f in todo if f not in known]
                    if todo:
                        new = _compute(recording, todo, settings)
                        known.update(new)
                        computed.setdefault(key, {}).update(new)
                    stats.computed += len(todo)
                    stats.hits += len(set(features)) - len(todo)
                    stats.efel_calls += 1 if todo else 0
                    results.append({f: known[f] for f in features})
                    if on_sweep is not None:
                        on_sweep()
        finally:
            self._save(computed)
            self._trim()
        return results

    def _remember(self, key: str) -> dict[str, Any]:
        known = self._values.pop(key, None)
        self._values[key] = known = {} if known is None else known
        return known

    def _load(self, keys: list[str]) -> None:
        if self.store is None:
            return
        wanted = [k for k in keys if not k.startswith("mem|")]
        if wanted:
            found = self.store.get_many(wanted)
            # keyed by the callers' strings (memoised on the recordings), not by
            # the copies the database returns
            self._values.update((k, found[k]) for k in wanted if k in found)

    def _save(self, computed: dict[str, dict[str, Any]]) -> None:
        if self.store is None:
            return
        persistent = {k: v for k, v in computed.items() if not k.startswith("mem|")}
        if persistent:
            self.store.put_many(persistent)

    def _trim(self) -> None:
        while len(self._values) > self.max_sweeps:
            self._values.pop(next(iter(self._values)))


#: the sweeps whose values a session's cache keeps in memory when a persistent store
#: holds them all (about 150 SSCx cells); beyond, its memory stays flat and the
#: values of the sweeps forgotten first come back from the store
SESSION_MEMORY_SWEEPS = 25_000


def session_cache(store: FeatureStore | None) -> FeatureCache:
    """Return the cache of a long-lived session (the GUI's extractor) on ``store``.

    Bounded to :data:`SESSION_MEMORY_SWEEPS` in memory when a store holds every
    value; without a store (``--no-cache``, a read-only cache folder) nothing else
    holds them, so the memory keeps them all (up to the default bound).
    """
    if store is None:
        return FeatureCache()
    return FeatureCache(max_sweeps=SESSION_MEMORY_SWEEPS, store=store)


def _compute(
    recording: Any, features: list[str], settings: Mapping[str, Any]
) -> dict[str, Any]:
    saved = recording.efeatures
    recording.efeatures = {}
    try:
        recording.compute_efeatures(features, features, dict(settings))
        return dict(recording.efeatures)
    finally:
        recording.efeatures = saved


def target_groups(
    targets: Iterable[Mapping[str, Any]],
) -> list[tuple[dict[str, Any], str, list[str], list[str]]]:
    """Group targets by identical (efel_settings, protocol), in first-seen order.

    Returns
    -------
    list of tuple
        ``(target-level settings, protocol, efel names, output names)`` (spec §2.3).
    """
    groups: list[tuple[dict[str, Any], str, list[str], list[str]]] = []
    for target in targets:
        settings = target.get("efel_settings", {})
        protocol = target["protocol"]
        for group in groups:
            if group[0] == settings and group[1] == protocol:
                break
        else:
            group = (settings, protocol, [], [])
            groups.append(group)
        group[2].append(target["efeature"])
        group[3].append(target.get("efeature_name", target["efeature"]))
    return groups


def extract_cell_features(
    cell: Any,
    groups: Sequence[tuple[dict[str, Any], str, list[str], list[str]]],
    efel_settings: Mapping[str, Any] | None,
    recordings: Iterable[Any] | None = None,
    *,
    cache: FeatureCache | None = None,
    stats: CacheStats | None = None,
    cancel: Any = None,
    on_sweep: Callable[[], None] | None = None,
) -> Any:
    """Compute each target group on the given recordings of its protocol, in order.

    The one feature stage of every extraction (CLI, ``efex_gui.extract``, GUI):
    values go to ``recording.efeatures`` in the order of spec §2.3 (so its
    overwrite hazard behaves the same), one efel call per recording and group.

    Parameters
    ----------
    cell : Cell
        The cell (mutated).
    groups : sequence
        ``(settings, protocol, features, names)`` in first-seen order; target-level
        settings win over ``efel_settings``.
    efel_settings : mapping, optional
        Global efel settings.
    recordings : iterable of Recording, optional
        Restrict to these recordings (default: every recording of the protocol).
    cache : FeatureCache, optional
        Values looked up there (memory, then the persistent store) and stored
        there; efel computes only what is missing. None: efel computes everything.
    stats : CacheStats, optional
        Counters of hits and computed values (with ``cache``).
    cancel : object, optional
        Anything with ``is_set()``, checked before every sweep.
    on_sweep : callable, optional
        Called after every sweep.

    Returns
    -------
    Cell
        ``cell``.

    Raises
    ------
    Cancelled
        When ``cancel`` is set.
    """
    chosen = None if recordings is None else {id(rec) for rec in recordings}
    base = {} if efel_settings is None else dict(efel_settings)
    work = [
        (recording, {**base, **group_settings}, features, names)
        for group_settings, protocol, features, names in groups
        for recording in cell.get_recordings_by_protocol_name(protocol)
        if chosen is None or id(recording) in chosen
    ]
    if cache is None:
        for recording, settings, features, names in work:
            if cancel is not None and cancel.is_set():
                raise Cancelled("The extraction was cancelled.")
            recording.compute_efeatures(features, names, settings)
            if on_sweep is not None:
                on_sweep()
        return cell
    values = cache.fill(
        [(r, s, f) for r, s, f, _ in work], stats, cancel=cancel, on_sweep=on_sweep
    )
    for (recording, _, features, names), known in zip(work, values, strict=True):
        for name, feature in zip(names, features, strict=False):
            recording.efeatures[feature if name is None else name] = known[feature]
    return cell


def extract_efeatures_cached(
    cells: Sequence[Any],
    targets: Sequence[Mapping[str, Any]],
    efel_settings: Mapping[str, Any] | None,
    cache: FeatureCache,
    *,
    progress: Callable[[int, int], None] | None = None,
    cancel: Any = None,
) -> CacheStats:
    """Fill ``recording.efeatures`` of every targeted recording, through the cache.

    The same values, in the same order, as the pipeline's
    ``extract_efeatures_at_targets`` (spec §2.3).

    Parameters
    ----------
    cells : sequence of Cell
        Cells whose recordings get their features.
    targets : sequence of dict
        Target dicts.
    efel_settings : mapping, optional
        Global efel settings (target-level settings win).
    cache : FeatureCache
        Where values are looked up and stored.
    progress : callable, optional
        ``progress(done, total)`` in sweeps.
    cancel : object, optional
        Anything with ``is_set()``; checked before every sweep.

    Returns
    -------
    CacheStats
        How many values came from the cache and how many were computed.

    Raises
    ------
    Cancelled
        When ``cancel.is_set()``; the cache keeps what was computed so far.
    """
    groups = target_groups(targets)
    stats = CacheStats()
    total = sum(
        len(cell.get_recordings_by_protocol_name(protocol))
        for cell in cells
        for _, protocol, _, _ in groups
    )
    done = [0]

    def on_sweep() -> None:
        done[0] += 1
        if progress is not None:
            progress(done[0], total)

    for cell in cells:
        extract_cell_features(
            cell,
            groups,
            efel_settings,
            cache=cache,
            stats=stats,
            cancel=cancel,
            on_sweep=on_sweep,
        )
    return stats
