"""One e-feature target: the values of one feature at one protocol and amplitude.

:class:`EFeatureTarget` is BluePyEfe's ``bluepyefe.target.EFeatureTarget`` (spec §5.2):
same constructor, attributes, statistics (NaN-ignoring mean, *population* std) and
``as_dict`` output with the key order ``feature, val, n, efel_settings,
efeature_name``. Two compatibility decisions (``docs/compatibility.md``, §9.1-11 and
§9.1-26): ``as_dict(save_files_used=True)`` returns the files instead of crashing, and
NumPy real scalars are accepted by :meth:`EFeatureTarget.append`.
"""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

logger = logging.getLogger(__name__)

__all__ = ["EFeatureTarget", "GatheredValues"]


class GatheredValues(NamedTuple):
    """What a target gathered, without its names and settings (see ``gathered``)."""

    values: Sequence[float]
    files: Sequence[str]
    auto_thresholds: Sequence[float]


def _reused(
    items: tuple[Any, ...], shared: dict[tuple[int, ...], tuple[Any, ...]] | None
) -> tuple[Any, ...]:
    """Return a tuple of the same objects from ``shared`` if there is one (else add)."""
    if shared is None or not items:
        return items
    return shared.setdefault(tuple(map(id, items)), items)


def _chunk(files: Iterable[str]) -> tuple[str, ...]:
    """``files`` as a tuple (a tuple is kept, not copied: it cannot change)."""
    return files if isinstance(files, tuple) else tuple(files)


class EFeatureTarget:
    """The values gathered for one e-feature of one protocol at one amplitude.

    Parameters
    ----------
    efeature_name : str or None
        Name of the feature in the output; ``None`` means the efel name.
    efel_feature_name : str
        Name of the feature in efel.
    protocol_name : str
        Protocol the feature is extracted from.
    amplitude : float
        Target amplitude (% of rheobase, or nA in absolute mode).
    tolerance : float
        Half-width of the amplitude window.
    efel_settings : dict, optional
        The efel settings used for this feature (global merged with target-level).
    """

    def __init__(
        self,
        efeature_name: str | None,
        efel_feature_name: str,
        protocol_name: str,
        amplitude: float,
        tolerance: float,
        efel_settings: dict[str, Any] | None = None,
    ) -> None:
        if efeature_name is None:
            efeature_name = efel_feature_name
        self.efeature_name = efeature_name
        self.efel_feature_name = efel_feature_name
        self.protocol_name = protocol_name
        self.amplitude = amplitude
        self.tolerance = tolerance
        self.efel_settings = {} if efel_settings is None else efel_settings
        self._values: list[float] = []
        #: the values' files in chunks, one per append or extend (see ``files``)
        self._file_chunks: list[Sequence[str]] = []
        self._auto_thresholds: list[float] = []

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Restore a pickled target (one pickled before the chunks holds ``_files``)."""
        files = state.pop("_files", None)
        if files is not None:
            state["_file_chunks"] = [tuple(files)] if files else []
        self.__dict__.update(state)

    @property
    def values(self) -> list[float]:
        """The values appended so far (NaN values are never stored)."""
        return self._values

    @property
    def files(self) -> list[str]:
        """The recording files whose values were appended.

        Kept as the tuples they came in (a recording's files, another target's),
        one reference per chunk: a window's targets held two references per value
        each (0.24 kB a sweep in the GUI's result).
        """
        return [file for chunk in self._file_chunks for file in chunk]

    @property
    def mean(self) -> float:
        """NaN-ignoring mean of the values (NaN when there is none)."""
        return np.float64(np.nanmean(self._values))

    @property
    def std(self) -> float:
        """NaN-ignoring population standard deviation (ddof 0) of the values."""
        return np.float64(np.nanstd(self._values))

    @property
    def sample_size(self) -> int:
        """Number of values appended (NaN values excluded)."""
        return len(self._values)

    def append(self, value: Any, files: Iterable[str] | None = None) -> None:
        """Add one recording's value; NaN is ignored.

        Parameters
        ----------
        value : int or float
            The feature value of one recording. NumPy real scalars are accepted too
            (BluePyEfe rejects float32/int64; §9.1-26, fixed) and stored as Python
            ``float``. Anything else raises ``TypeError``.
        files : iterable of str, optional
            The files the value comes from, accumulated for ``save_files_used``.
        """
        if isinstance(value, np.integer | np.floating) and not isinstance(value, float):
            value = value.item()
        if not isinstance(value, int | float):
            raise TypeError("Expected value of type int or float")
        if math.isnan(value):
            logger.info(
                "Trying to append NaN value to efeature %s for protocol %s %s. "
                "Value will be ignored.",
                self.efeature_name,
                self.protocol_name,
                self.amplitude,
            )
            return
        self._values.append(value)
        if files:
            self._file_chunks.append(_chunk(files))

    def gathered(
        self, shared: dict[tuple[int, ...], tuple[Any, ...]] | None = None
    ) -> GatheredValues:
        """Return the values, files and auto thresholds gathered so far, as tuples.

        Kept instead of the target when only its values matter later (for
        :meth:`extend`): it holds no names and no settings of its own.

        Parameters
        ----------
        shared : dict, optional
            Tuples already made for other targets of the same recordings, by the
            identities of their items: a files or thresholds tuple holding the same
            objects is reused rather than repeated for every feature.
        """
        return GatheredValues(
            tuple(self._values),
            _reused(tuple(self.files), shared),
            _reused(tuple(self._auto_thresholds), shared),
        )

    def extend(self, other: EFeatureTarget | GatheredValues) -> None:
        """Add another target's values, files and auto thresholds after these.

        The same as appending, here, the recordings that were appended to ``other``
        (in their order): values are stored as they were converted there.
        """
        if isinstance(other, EFeatureTarget):
            other = other.gathered()
        self._values.extend(other.values)
        if other.files:
            self._file_chunks.append(_chunk(other.files))
        self._auto_thresholds.extend(other.auto_thresholds)

    def sizes(self) -> tuple[int, int, int]:
        """How much the target holds: values, file chunks and auto thresholds.

        Two sizes delimit what an :meth:`extend` or appends added (:meth:`part`).
        """
        return len(self._values), len(self._file_chunks), len(self._auto_thresholds)

    def part(self, start: Sequence[int], end: Sequence[int]) -> GatheredValues:
        """Return what was added between two :meth:`sizes`, as :meth:`extend` takes.

        Extending a target with it adds the same values, files and auto thresholds,
        in their order. The grouping cache takes an unchanged cell's share of a
        window this way, instead of keeping a copy of it.
        """
        chunks = self._file_chunks[start[1] : end[1]]
        files: Sequence[str] = (
            chunks[0]
            if len(chunks) == 1
            else tuple(file for chunk in chunks for file in chunk)
        )
        return GatheredValues(
            self._values[start[0] : end[0]],
            files,
            self._auto_thresholds[start[2] : end[2]],
        )

    def append_auto_threshold(self, threshold: float) -> None:
        """Remember the automatic spike threshold of a recording of this target."""
        self._auto_thresholds.append(threshold)

    def clear(self) -> None:
        """Forget the values and files (the auto thresholds are kept, as BluePyEfe)."""
        self._values = []
        self._file_chunks = []

    def add_effective_threshold(self) -> None:
        """Write the median auto threshold into ``efel_settings['Threshold']``.

        Only when thresholds were collected, i.e. when no ``Threshold`` setting was
        given; mutates the target's settings, as BluePyEfe does.
        """
        if self._auto_thresholds:
            self.efel_settings["Threshold"] = np.median(self._auto_thresholds)

    def as_dict(
        self, save_files_used: bool = False, default_std_value: float = 1e-3
    ) -> dict[str, Any]:
        """Return the target as one entry of ``features.json``.

        Parameters
        ----------
        save_files_used : bool
            Add a ``"files"`` key listing the files whose values were used (BluePyEfe
            crashes with ``AttributeError`` instead; §9.1-11, fixed).
        default_std_value : float
            Replaces a standard deviation of exactly 0 (a NaN std is kept).

        Returns
        -------
        dict
            ``feature, val, n, efel_settings, efeature_name`` in that order.
        """
        self.add_effective_threshold()
        std = self.std
        if std == 0.0:
            logger.warning(
                "Standard deviation for efeatures %s stimulus %s %s is 0 and will be "
                "set to %s",
                self.efeature_name,
                self.protocol_name,
                self.amplitude,
                default_std_value,
            )
            std = default_std_value
        entry: dict[str, Any] = {
            "feature": self.efel_feature_name,
            "val": [self.mean, std],
            "n": self.sample_size,
            "efel_settings": self.efel_settings,
        }
        if self.efeature_name:
            entry["efeature_name"] = self.efeature_name
        if save_files_used:
            entry["files"] = self.files
        return entry

    def __str__(self) -> str:
        return (
            f"Target E-Feature {self.efel_feature_name} for protocol "
            f"{self.protocol_name} {float(self.amplitude)}%:\n"
            f"Sample size (n): {self.sample_size}\n"
            f"Mean: {self.mean:.5f}\nStandard deviation: {self.std:.5f}"
        )
