"""``ECode``: what every eCode shares (construction, timings, stimulus rebuild).

Each eCode declares only what differs: the parameters it exports (``_exported``, the
key order of protocols.json), the attributes it resets before interpreting
(``_attributes``, by default the exported ones), the amplitudes made relative to the
rheobase (``relative_amplitudes``), its ``interpret`` and its ``generate``. The
attribute names are BluePyEfe's, so pickles written by earlier versions keep loading.
:class:`TimedECode` is the ``interpret`` of the eCodes whose timings the metadata gives
(Cheops, HyperDePol): they declare their ``timings`` and ``measure`` the amplitudes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from efex_gui.core.recordings.ecodes import detection
from efex_gui.core.recordings.recording import Metadata, Recording

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from efex_gui.core.recordings.recording import Trace


#: The parameters of a stimulus from ``ton`` to ``toff`` on a holding current (Step,
#: Ramp, SineSpec), in protocols.json key order.
WINDOW_PARAMETERS = (
    "ton",
    "toff",
    "tend",
    "amp",
    "hypamp",
    "dt",
    "amp_rel",
    "hypamp_rel",
)


class ECode(Recording):
    """A Recording whose stimulus is interpreted at construction.

    Parameters
    ----------
    config_data : dict
        The user's metadata for the file.
    reader_data : dict
        One trace dict from a reader (empty for a blank eCode).
    protocol_name : str
        The protocol key.
    efel_settings : dict, optional
        Global efel settings used for the construction-time spike count.
    """

    #: The eCode parameters, in protocols.json key order (copied to ``export_attr``).
    _exported: tuple[str, ...] = ()
    #: Attributes set to None after ``Recording.__init__``, in this order (None: the
    #: ``_exported`` ones).
    _attributes: tuple[str, ...] | None = None
    #: Amplitudes that ``compute_relative_amp`` gives in % of the rheobase.
    relative_amplitudes: tuple[str, ...] = ("amp", "hypamp")
    #: The protocol name when none is given (BluePyEfe's default of each eCode).
    default_protocol_name: ClassVar[str] = ""

    def __init__(
        self,
        config_data: Metadata,
        reader_data: Trace,
        protocol_name: str | None = None,
        efel_settings: Mapping[str, Any] | None = None,
    ) -> None:
        if protocol_name is None:
            protocol_name = self.default_protocol_name
        super().__init__(config_data, reader_data, protocol_name)
        attributes = self._exported if self._attributes is None else self._attributes
        for name in attributes:
            setattr(self, name, None)
        self._init_parameters(config_data, reader_data)
        self.export_attr = list(self._exported)

        if self.t is not None and self.current is not None:
            self.dt = self.t[1]  # BluePyEfe's: t starts at 0
            self.interpret(self.t, self.current, self.config_data, self.reader_data)
        if self.voltage is not None:
            self.set_autothreshold()
            self.defer_spikecount(efel_settings)

    def _init_parameters(self, config_data: Metadata, reader_data: Trace) -> None:
        """Set parameters read from the metadata before interpretation (a hook)."""

    def interpret(
        self, t: Any, current: Any, config_data: Metadata, reader_data: Trace
    ) -> None:
        """Find the stimulus timings and amplitudes (eCode-specific).

        Called at construction with ``self.dt`` (``t[1]``) already set.
        """
        raise NotImplementedError

    # ------------------------------------------------------------------ stimulus
    def get_stimulus_parameters(self) -> dict[str, Any]:
        """``delay``, ``amp``, ``thresh_perc``, ``duration``, ``totduration``."""
        return {
            "delay": self.ton,
            "amp": self.amp,
            "thresh_perc": self.amp_rel,
            "duration": self.toff - self.ton,
            "totduration": self.tend,
        }

    def compute_relative_amp(self, amp_threshold: float) -> None:
        """Each of ``relative_amplitudes`` in % of the rheobase ``amp_threshold``."""
        for name in self.relative_amplitudes:
            setattr(self, f"{name}_rel", 100.0 * getattr(self, name) / amp_threshold)

    # ------------------------------------------------------------------ timings
    def _given_window(
        self, config_data: Mapping[str, Any], reader_data: Mapping[str, Any]
    ) -> tuple[int | None, int | None]:
        """Return the ``(ton, toff)`` sample indices given by the metadata or reader.

        Each is the config's timing (ms → index), else the reader's (an index,
        rounded to an int: BluePyEfe slices with it and would crash on a float),
        else None (to be detected).
        """
        window: list[int | None] = []
        for name in ("ton", "toff"):
            if config_data.get(name) is not None:
                window.append(self.ms_to_index(config_data[name]))
            elif reader_data.get(name) is not None:
                window.append(int(round(reader_data[name])))
            else:
                window.append(None)
        return window[0], window[1]

    def _read_timings(
        self,
        config_data: Metadata,
        names: Sequence[str],
        defaults: Mapping[str, float] | None = None,
    ) -> None:
        """Store the config timings ``names`` (ms) as sample indices.

        When one is missing and ``defaults`` is given, warn and write ``defaults``
        into the metadata first (BluePyEfe 2.3.63); otherwise a missing timing
        raises :class:`~efex_gui.core.recordings.recording.TimingMetadataError`.
        """
        missing = [k for k in names if config_data.get(k) is None]
        if missing and defaults is not None:
            self.warn(
                f"Missing timing key(s) {missing} for {type(self).__name__}, using "
                f"defaults: {defaults}"
            )
            config_data.update(defaults)
        self.set_timing_ecode(list(names), config_data)

    def _detection_failed(self, timings: str) -> None:
        """Warn that the step detection failed; the window becomes the whole trace.

        ``timings`` names what the user should give, e.g. ``"ton and toff"``.
        """
        self.warn(
            "The automatic step detection failed for the recording "
            f"{self.protocol_name} in files {self.files}. You should specify "
            f"{timings} by hand in your files_metadata for this file."
        )
        self.ton = 0
        self.toff = self.tend

    def _timings_to_ms(self, t: Any, names: Iterable[str]) -> None:
        """Turn the sample indices ``names`` into times (ms); ``tend`` = trace end."""
        for name in names:
            self.index_to_ms(name, t)
        self.tend = len(t) * self.dt

    # ------------------------------------------------------------------ generate
    def _indices(self, *names: str) -> list[int]:
        """Return the sample indices (truncated) of the timings ``names`` (ms)."""
        return [int(getattr(self, name) / self.dt) for name in names]

    def _holding_trace(self) -> tuple[np.ndarray, np.ndarray]:
        """``(t, current)`` of the holding current alone over ``[0, tend)``."""
        t = np.arange(0.0, self.tend, self.dt)
        return t, np.full(t.shape, np.float64(self.hypamp))


class TimedECode(ECode):
    """An eCode whose timings the metadata gives, its amplitudes measured after.

    ``interpret`` reads the :attr:`timings` (ms; BluePyEfe 2.3.63's
    ``default_timings``, written into the metadata with a warning, when one is
    missing and the eCode has defaults), measures the amplitudes on the smoothed
    current (:meth:`measure`, timings as sample indices), then turns the timings
    into ms.
    """

    #: the timing names, in order (ms in the metadata)
    timings: ClassVar[tuple[str, ...]] = ()
    #: BluePyEfe's timings (ms) when one is missing; None: the timings are required
    default_timings: ClassVar[dict[str, float] | None] = None

    def interpret(
        self, t: Any, current: Any, config_data: Metadata, reader_data: Trace
    ) -> None:
        """Read the timings, measure the amplitudes, then timings in ms."""
        self._read_timings(config_data, self.timings, self.default_timings)
        self.measure(detection.smooth(current), config_data, reader_data)
        self._timings_to_ms(t, self.timings)

    def measure(
        self, smooth: np.ndarray, config_data: Metadata, reader_data: Trace
    ) -> None:
        """Set the amplitudes from the smoothed current (timings: sample indices)."""
        raise NotImplementedError
