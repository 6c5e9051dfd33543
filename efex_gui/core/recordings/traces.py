"""Traces read again on demand, so that nobody has to hold them all.

Reading a sweep is cheap (a few ms); holding every trace of 44 cells is not (GBs).
The GUI and the incremental extraction therefore keep each recording's numbers (amp,
stimulus window, spike count, features) and drop its traces
(``Recording.drop_traces``); when efel needs them again (a feature not cached yet, a
deferred spike count, a PDF report), :func:`reload_traces` reads each entry once and
gives the recordings their arrays back; :func:`traces_reloaded` lends them for a
block of code.

Only recordings built by the core from a file (``source_index`` set) can be reloaded:
the trace at that position of what the reader returns for the recording's own
metadata (``config_data``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

logger = logging.getLogger(__name__)

__all__ = [
    "can_reload",
    "needs_traces",
    "read_together",
    "reload_traces",
    "traces_reloaded",
]


def needs_traces(recording: Any) -> bool:
    """Whether the recording's traces were dropped."""
    return getattr(recording, "voltage", None) is None


def can_reload(recording: Any) -> bool:
    """Whether :func:`reload_traces` can give this recording its traces back."""
    return (
        getattr(recording, "source_index", None) is not None
        and isinstance(getattr(recording, "config_data", None), Mapping)
        and bool(getattr(recording, "files", None))
    )


def _entry_key(recording: Any) -> Any:
    """Equal for recordings whose file read gives the same traces.

    The reader's :func:`~efex_gui.core.readers.cache_key` where it has one: entries
    of two protocols on the same file (SSCx's Step sweeps are IDrest's files) then
    share one read. Else the recording's class, protocol and metadata.
    """
    from efex_gui.core.readers import cache_key

    config = dict(recording.config_data)
    shared = cache_key(config)
    if shared is not None:
        return shared
    return json.dumps(
        [type(recording).__qualname__, recording.protocol_name, config],
        sort_keys=True,
        default=repr,
    )


def read_together(recordings: Iterable[Any]) -> list[list[Any]]:
    """Group recordings so that one file read reloads each group, in first-seen order.

    Recordings that hold their traces or cannot be reloaded are groups of one.
    """
    groups: dict[Any, list[Any]] = {}
    for position, recording in enumerate(recordings):
        shared = needs_traces(recording) and can_reload(recording)
        key = _entry_key(recording) if shared else f"own|{position}"
        groups.setdefault(key, []).append(recording)
    return list(groups.values())


def reload_traces(recordings: Iterable[Any]) -> list[Any]:
    """Give dropped recordings their traces back, reading each entry once.

    Parameters
    ----------
    recordings : iterable of Recording
        Recordings; those with traces or that cannot be reloaded are left alone.

    Returns
    -------
    list of Recording
        The recordings that got their traces back.

    Raises
    ------
    EfexError
        The file cannot be read any more (moved, damaged).
    """
    from efex_gui.core.readers import read_file

    by_entry: dict[Any, list[Any]] = {}
    for recording in recordings:
        if needs_traces(recording) and can_reload(recording):
            by_entry.setdefault(_entry_key(recording), []).append(recording)
    reloaded = []
    for group in by_entry.values():
        traces = read_file(dict(group[0].config_data))
        for recording in group:
            if recording.source_index >= len(traces):
                logger.warning(
                    "%s: the file no longer holds trace %d",
                    recording.files,
                    recording.source_index,
                )
                continue
            fresh = type(recording)(
                dict(recording.config_data),
                traces[recording.source_index],
                recording.protocol_name,
                None,
            )
            recording.t, recording.voltage = fresh.t, fresh.voltage
            recording.current = fresh.current
            reloaded.append(recording)
    return reloaded


@contextmanager
def traces_reloaded(recordings: Iterable[Any]) -> Iterator[list[Any]]:
    """Reload the recordings' traces for the ``with`` block, drop them after it."""
    reloaded = reload_traces(recordings)
    try:
        yield reloaded
    finally:
        for recording in reloaded:
            recording.t = recording.voltage = recording.current = None
