"""``Cell``: a cell's recordings and its rheobase (spec §3.1).

Names and behaviour follow ``bluepyefe.cell.Cell``; plotting lives in
``efex_gui.report``. Cells are plain picklable objects.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np

from efex_gui.core.errors import MetadataError
from efex_gui.core.recordings.checks import (
    check_sampling_metadata,
    guard_recording,
    rheobase_warning,
)
from efex_gui.core.recordings.ecodes import ecode_for_protocol

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from efex_gui.core.readers._common import Reader as RecordingReader
    from efex_gui.core.readers._common import TraceDict
    from efex_gui.core.recordings.recording import Metadata, Recording

logger = logging.getLogger(__name__)


class Cell:
    """A cell: its name, its recordings and, once computed, its rheobase (nA).

    Parameters
    ----------
    name : str
        The cell id (the files_metadata key).
    """

    #: ``(file, reason)`` of the files a run could not read (set by read_recordings)
    skipped_files: list[tuple[str, str]]
    #: each protocol's consensus stimulus window (set with ``consensus_timing``)
    protocol_timings: Any

    def __init__(self, name: str) -> None:
        self.name = name
        self.recordings: list[Recording] = []
        self.rheobase: Any = None
        #: Problems found about this cell (new in efex_gui; e.g. negative rheobase).
        self.warnings: list[str] = []

    def __repr__(self) -> str:
        return (
            f"Cell(name={self.name!r}, recordings={len(self.recordings)}, "
            f"rheobase={self.rheobase!r})"
        )

    def warn(self, message: str) -> None:
        """Record a warning about this cell (kept in ``warnings`` and logged)."""
        self.warnings.append(message)
        logger.warning("Cell %s: %s", self.name, message)

    def reader(
        self, config_data: Metadata, recording_reader: RecordingReader | None = None
    ) -> list[TraceDict]:
        """Read the traces of one files_metadata entry.

        Parameters
        ----------
        config_data : dict
            The entry (``filepath`` or ``v_file``, units, ...).
        recording_reader : callable, optional
            The user's reader, called with ``config_data``; default: the reader chosen
            by file extension (``efex_gui.core.readers.read_file``).

        Returns
        -------
        list of dict
            Trace dicts.

        Raises
        ------
        MetadataError
            Neither ``filepath`` nor ``v_file`` is given.
        """
        if "filepath" not in config_data and "v_file" not in config_data:
            raise MetadataError(
                f"No 'filepath' or 'v_file' provided in the metadata of cell "
                f"{self.name}: {config_data}"
            )
        if recording_reader:
            return recording_reader(config_data)
        from efex_gui.core.readers import read_file  # readers pull in h5py, neo, igor2

        return read_file(config_data)

    def read_recordings(
        self,
        protocol_data: Iterable[dict[str, Any]],
        protocol_name: str,
        recording_reader: RecordingReader | None = None,
        efel_settings: Mapping[str, Any] | None = None,
    ) -> None:
        """Read every file of one protocol and append its recordings.

        The eCode is chosen from ``protocol_name`` (the files_metadata key); the
        metadata dicts get a ``protocol_name`` key when they lack one (as BluePyEfe
        does, the caller's dicts are mutated). Inside
        :func:`~efex_gui.core.readers.shared_reads` (the extraction reads each cell
        in one), a file the cell already read for another entry is not read again.

        Parameters
        ----------
        protocol_data : iterable of dict
            files_metadata entries of this protocol.
        protocol_name : str
            The protocol key.
        recording_reader : callable, optional
            The user's reader.
        efel_settings : dict, optional
            Global efel settings, used by the (deferred) spike count.

        Raises
        ------
        ECodeError
            No eCode matches ``protocol_name`` (also a ``KeyError``).
        """
        for config_data in protocol_data:
            if "protocol_name" not in config_data:
                config_data["protocol_name"] = protocol_name
            check_sampling_metadata(config_data, self._file_of(config_data))
            traces = self.reader(config_data, recording_reader)
            if not traces:
                self._warn_no_sweep(config_data, protocol_name)
            positions = _source_positions(recording_reader, config_data, len(traces))
            for index, reader_data in enumerate(traces):
                # An "ecode" key (set by the app's eCode mapping) overrides the
                # name-based lookup; BluePyEfe ignores the key.
                ecode = ecode_for_protocol(config_data.get("ecode") or protocol_name)
                recording = ecode(
                    config_data, reader_data, protocol_name, efel_settings
                )
                if positions is not None:  # the persistent cache keys on it
                    recording.source_index = positions[index]
                self.recordings.append(guard_recording(recording))

    @staticmethod
    def _file_of(config_data: Metadata) -> str:
        return str(config_data.get("filepath") or config_data.get("v_file") or "?")

    def _warn_no_sweep(self, config_data: Metadata, protocol_name: str) -> None:
        self.warn(
            f"file {self._file_of(config_data)} gave no sweep for protocol "
            f"'{protocol_name}' (no sweep of that protocol name "
            f"{config_data.get('protocol_name')!r}, or sweeps without a stimulus): "
            "nothing was read from it."
        )

    def get_protocol_names(self) -> list[str]:
        """Return the distinct protocol names of the recordings (unordered)."""
        return list({rec.protocol_name for rec in self.recordings})

    def get_recordings_by_protocol_name(self, protocol_name: str) -> list[Recording]:
        """Return the recordings whose protocol name is exactly ``protocol_name``."""
        return [rec for rec in self.recordings if rec.protocol_name == protocol_name]

    def get_recordings_id_by_protocol_name(self, protocol_name: str) -> list[int]:
        """Return the indices (in ``recordings``) of ``protocol_name``'s recordings."""
        return [
            i
            for i, rec in enumerate(self.recordings)
            if rec.protocol_name == protocol_name
        ]

    def extract_efeatures(
        self,
        protocol_name: str,
        efeatures: Sequence[str],
        efeature_names: Sequence[str | None] | None = None,
        efel_settings: dict[str, Any] | None = None,
    ) -> None:
        """Compute ``efeatures`` on every recording of ``protocol_name``.

        Parameters
        ----------
        protocol_name : str
            Exact protocol name.
        efeatures : sequence of str
            efel feature names (one efel call per recording).
        efeature_names : sequence of str, optional
            Names to store the values under.
        efel_settings : dict, optional
            efel settings.
        """
        for recording in self.get_recordings_by_protocol_name(protocol_name):
            recording.compute_efeatures(efeatures, efeature_names, efel_settings)

    def compute_relative_amp(self) -> None:
        """Set every recording's amplitudes in % of the rheobase.

        As in BluePyEfe, a rheobase of 0, None, False or ``numpy.nan`` (that very
        object) is invalid: it is set to None with a warning. A computed NaN and a
        negative rheobase are kept (BluePyEfe's numbers) but noted in ``warnings``.
        """
        if self.rheobase not in (0.0, None, False, np.nan):
            self._check_rheobase()
            for recording in self.recordings:
                recording.compute_relative_amp(self.rheobase)
        else:
            logger.warning(
                "Cannot compute the relative current amplitude for the recordings of "
                "cell %s because its rheobase is %s.",
                self.name,
                self.rheobase,
            )
            self.rheobase = None

    def _check_rheobase(self) -> None:
        message = rheobase_warning(self.rheobase)
        if message:
            self.warn(message)

    def drop_traces(self) -> None:
        """Forget every recording's traces (low-memory mode)."""
        for recording in self.recordings:
            recording.drop_traces()


def _source_positions(
    recording_reader: RecordingReader | None, config_data: Metadata, count: int
) -> Sequence[int] | None:
    """Each trace's position in the core reader's list (None: a user's reader).

    A reader that filters the core readers' traces (the session's ``TraceFilter``)
    says where the kept ones were.
    """
    if not recording_reader:
        return range(count)
    source_indices = getattr(recording_reader, "source_indices", None)
    if source_indices is None:
        return None
    positions: Sequence[int] = source_indices(config_data, count)
    return positions
