"""``Recording``: one sweep, standardised to ms / mV / nA (spec §3.2).

The attribute and method names are BluePyEfe's, so code written against
``bluepyefe.recording.Recording`` keeps working. The eCodes
(``efex_gui.core.recordings.ecodes``) subclass it and add the stimulus interpretation.
Recordings are plain picklable objects (process pools, ``cells.pkl``).
"""

from __future__ import annotations

import logging
import warnings as _pywarnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Self

import numpy as np

from efex_gui.core import features as _features
from efex_gui.core.errors import MetadataError
from efex_gui.core.recordings.spikes import LazySpikeCount, TracesDroppedError
from efex_gui.core.units import to_ms, to_mv, to_na

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from efex_gui.core.readers._common import TraceDict
    from efex_gui.core.recordings.compact import KeyMemo

    #: one trace of a reader (voltage, current, dt, units, id, repetition, ...)
    Trace = TraceDict

__all__ = [
    "Recording",
    "TimingMetadataError",
    "TimingSource",
    "TracesDroppedError",
    "matched_amplitude",
]

logger = logging.getLogger(__name__)

#: Where a recording's ton/toff come from, most trusted first (see
#: :mod:`efex_gui.core.recordings.timing_consensus`).
TimingSource = Literal["user", "file", "consensus", "detected", "none"]


#: a files_metadata entry: the user's metadata of one file (units, dt, ton, ...)
Metadata = dict[str, Any]


def matched_amplitude(amp: Any, amp_rel: Any, absolute_amplitude: bool) -> Any:
    """Return the amplitude targets are matched on: ``amp`` (nA) or ``amp_rel`` (%)."""
    return amp if absolute_amplitude else amp_rel


class TimingMetadataError(MetadataError, AttributeError):
    """A timing an eCode needs (``ton``, ``tmid``, ...) is missing from the metadata.

    Also an ``AttributeError``, the type BluePyEfe raises in this case.
    """


def _config_or_reader(
    config: Mapping[str, Any], reader: Mapping[str, Any], key: str
) -> Any:
    """Return the config value if present and not None, else the reader's (or None)."""
    if config.get(key) is not None:
        return config[key]
    return reader.get(key)


def _median(values: Any) -> Any:
    """``numpy.median`` that returns NaN quietly on an empty slice."""
    with _pywarnings.catch_warnings():
        _pywarnings.simplefilter("ignore", RuntimeWarning)
        return np.median(values)


#: Recording's own attributes (BluePyEfe's and efex_gui's)
RECORDING_ATTRIBUTES = (
    "config_data",
    "reader_data",
    "protocol_name",
    "files",
    "id",
    "location",
    "efeatures",
    "t",
    "current",
    "voltage",
    "amp",
    "hypamp",
    "repetition",
    "export_attr",
    "auto_threshold",
    "warnings",
    "stimulus_source",
    "source_index",
    "amp_rel",
    "hypamp_rel",
    "qc_measures",
    "own_window",
)
#: slots that are not the sweep's state: not pickled, not copied (``cache_keys``: the
#: memo of the cache keys computed on this object, see
#: :func:`~efex_gui.core.extraction.feature_cache.key_memo`)
MEMO_ATTRIBUTES = ("cache_keys",)
#: the stimulus window and sampling step every eCode sets (a plain Recording has
#: none: ``hasattr(recording, "ton")`` tells them apart); an eCode's own attributes
#: are slots of its class (``SpikeRec.tspike``, ``SAHP.tmid``, ...)
WINDOW_ATTRIBUTES = ("ton", "toff", "tend", "dt")


def _slots(cls: type) -> dict[str, Any]:
    """Return ``{name: member descriptor}`` of the state slots of ``cls`` and its bases.

    The memo slots (``MEMO_ATTRIBUTES``) are not part of the state.
    """
    known = _SLOTS.get(cls)
    if known is None:
        known = {
            name: base.__dict__[name]
            for base in reversed(cls.__mro__)
            for name in base.__dict__.get("__slots__", ())
            if name not in ("__dict__", "__weakref__", *MEMO_ATTRIBUTES)
        }
        _SLOTS[cls] = known
    return known


_SLOTS: dict[type, dict[str, Any]] = {}


class Recording(LazySpikeCount):
    """One recorded sweep and what was computed on it.

    Parameters
    ----------
    config_data : dict
        The user's metadata for the file (units, ``dt``, ``ljp``, timings, ...).
    reader_data : dict
        One trace dict from a reader (``voltage``, ``current``, ``dt``, units, ...).
        Empty for a blank eCode (used when averaging a protocol's stimulus).
    protocol_name : str
        The files_metadata protocol key the recording was read under.
    """

    #: True for the eCodes whose stimulus is one step from ``ton`` to ``toff`` (Step
    #: and its subclasses): the guards check that timing
    #: (:func:`~efex_gui.core.recordings.checks.guard_recording`).
    is_step: ClassVar[bool] = False

    # The attributes are held in slots, not in a dict per sweep: a sweep's dict of
    # 30 attributes took 1.6 kB, a third of what a read sweep costs (the browser's
    # recordings and the extraction's copies of them). Attributes not listed here
    # (a user's, or a new eCode's) still go to ``__dict__``, made only if needed.
    __slots__ = (
        *RECORDING_ATTRIBUTES,
        *WINDOW_ATTRIBUTES,
        *MEMO_ATTRIBUTES,
        "__dict__",
        "__weakref__",
    )

    #: Position of the trace in what the core's reader returned for the entry; None
    #: for a user's ``recording_reader`` or a blank eCode (the persistent feature
    #: cache keys only recordings that have one).
    source_index: int | None

    # Set by the constructor, the eCodes and the rheobase (BluePyEfe's attributes; None
    # until known). Traces are NumPy arrays in ms / nA / mV, None once dropped.
    t: Any
    current: Any
    voltage: Any
    reader_data: Any
    amp: Any
    hypamp: Any
    amp_rel: Any
    hypamp_rel: Any
    auto_threshold: Any
    #: the stimulus window and the end of the sweep, and the sampling step (ms)
    ton: Any
    toff: Any
    tend: Any
    dt: Any

    def __init__(
        self, config_data: Metadata, reader_data: Trace, protocol_name: str
    ) -> None:
        self.config_data = config_data
        self.reader_data = reader_data
        self.protocol_name = protocol_name

        if "filepath" in config_data:
            self.files = [config_data["filepath"]]
        elif "i_file" in config_data:
            self.files = [config_data["i_file"], config_data["v_file"]]
        else:
            self.files = []

        self.id = reader_data.get("id")
        self.location = None
        self.efeatures: dict[str, Any] = {}

        self.t = None
        self.current = None
        self.voltage = None
        self.amp = None
        self.hypamp = None
        self.repetition = None
        self.export_attr: list[str] | None = None
        self.auto_threshold = None
        #: efel settings of a spike count not computed yet (see ``defer_spikecount``)
        self._spikecount_settings: dict[str, Any] | None = None
        self._peak_time: Any = None
        #: Problems found while interpreting this sweep (new in efex_gui).
        self.warnings: list[str] = []
        #: Where ton/toff come from (None: from the metadata, see
        #: ``timing_consensus.stimulus_source``); set by a consensus or a user window.
        self.stimulus_source: TimingSource | None = None
        self.source_index = None
        # set later (QC measures, a consensus window's own step); None until then,
        # so that no slot is left unset on a sweep read (copies skip unset ones
        # through an exception each)
        self.qc_measures: Any = None
        self.own_window: Any = None
        self.cache_keys: KeyMemo | None = None

        if len(reader_data):
            self.standardize_trace(config_data, reader_data)

    # ------------------------------------------------------------------ pickling
    def __getstate__(self) -> dict[str, Any]:
        """Every attribute set, by name (slots and ``__dict__``), as before slots."""
        cls = type(self)
        state = {}
        for name, member in _slots(cls).items():
            try:
                state[name] = member.__get__(self, cls)
            except AttributeError:  # never set
                continue
        state.update(self.extra_attributes())
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Restore :meth:`__getstate__`'s dict (or one an older version pickled)."""
        state = dict(state)
        self.upgrade_state(state)
        state.setdefault("source_index", None)
        self.cache_keys = None
        slots = _slots(type(self))
        for name, value in state.items():
            member = slots.get(name)
            if member is not None:
                member.__set__(self, value)
            else:
                self.__dict__[name] = value

    def __copy__(self) -> Self:
        """Return a shallow copy (``copy.copy``'s, without a state dict between)."""
        cls = type(self)
        new = cls.__new__(cls)
        new.cache_keys = None
        for member in _slots(cls).values():
            try:
                member.__set__(new, member.__get__(self, cls))
            except AttributeError:  # never set
                continue
        extra = self.extra_attributes()
        if extra:
            new.__dict__.update(extra)
        return new

    def extra_attributes(self) -> dict[str, Any]:
        """Return the attributes set outside the slots (a user's), by name.

        Reading ``__dict__`` makes one when there is none (70 bytes, kept by the
        recording): an empty one is deleted again, so pickling or copying the
        browser's and a result's recordings does not give each a dict.
        """
        extra = self.__dict__
        if not extra:
            del self.__dict__
        return extra

    # ------------------------------------------------------------------ properties
    @property
    def name(self) -> str:
        """The trace id if any, else the stem of ``filepath`` or ``v_file``, else ''."""
        if self.id:
            return str(self.id)
        for key in ("filepath", "v_file"):
            if self.config_data.get(key):
                return Path(str(self.config_data[key])).stem
        return ""

    @property
    def time(self) -> Any:
        """Alias of ``t`` (ms)."""
        return self.t

    @time.setter
    def time(self, value: Any) -> None:
        self.t = value

    def warn(self, message: str, level: int = logging.WARNING) -> None:
        """Record a warning about this sweep (kept in ``warnings`` and logged).

        efex_gui's own scientific guards log at INFO (they are collected in
        ``warnings`` for reports and the GUI); BluePyEfe's warnings keep WARNING.
        """
        self.warnings.append(message)
        logger.log(level, "%s %s: %s", self.protocol_name, self.name, message)

    def _where(self) -> str:
        files = ", ".join(str(f) for f in self.files) or self.name or "<no file>"
        return f"protocol '{self.protocol_name}', file {files}"

    # ------------------------------------------------------------------ reading
    def standardize_trace(
        self, config_data: Mapping[str, Any], reader_data: Mapping[str, Any]
    ) -> None:
        """Convert the trace to ms / mV / nA, config values winning over reader ones.

        Sets ``t``, ``current``, ``voltage``, ``amp``, ``hypamp`` and ``repetition``
        (spec §3.2.1).

        Raises
        ------
        MetadataError
            ``dt``, ``t_unit``, ``i_unit`` or ``v_unit`` is missing everywhere.
        UnitError
            A unit is not one BluePyEfe accepts.
        """
        dt = _config_or_reader(config_data, reader_data, "dt")
        if dt is None:
            raise MetadataError(
                f"Sampling rate not configured ('dt' missing) for {self._where()}."
            )
        t_unit = self._unit(config_data, reader_data, "t_unit", "time")
        self.t = to_ms(np.arange(len(reader_data["voltage"])) * dt, t_unit)

        i_unit = self._unit(config_data, reader_data, "i_unit", "current")
        self.current = to_na(reader_data.get("current", 0), i_unit)
        for key in ("amp", "hypamp"):
            source = config_data if key in config_data else reader_data
            value = source.get(key)
            setattr(self, key, None if value is None else to_na(value, i_unit))

        v_unit = self._unit(config_data, reader_data, "v_unit", "voltage")
        self.voltage = to_mv(reader_data["voltage"], v_unit)
        if config_data.get("v_corr") is not None:
            self.voltage = (
                self.voltage - _median(self.voltage[:100]) + config_data["v_corr"]
            )
        if config_data.get("ljp") is not None:
            self.voltage = self.voltage - config_data["ljp"]

        if "repetition" in reader_data:
            self.repetition = reader_data["repetition"]

    def _unit(
        self, config: Mapping[str, Any], reader: Mapping[str, Any], key: str, kind: str
    ) -> Any:
        unit = config.get(key) or reader.get(key)
        if not unit:
            raise MetadataError(
                f"The {kind} unit '{key}' is not configured for {self._where()}."
            )
        return unit

    def current_unit(self) -> Any:
        """Return the current unit of the file (config first, then reader)."""
        unit = self.config_data.get("i_unit") or self.reader_data.get("i_unit")
        if not unit:
            raise MetadataError(
                f"The current unit 'i_unit' is not configured for {self._where()}."
            )
        return unit

    # ------------------------------------------------------------------ building blocks
    def set_timing_ecode(
        self, name_timings: Sequence[str], config_data: Mapping[str, Any]
    ) -> None:
        """Store config timings (ms) as sample indices; all of them are required."""
        for name in name_timings:
            if config_data.get(name) is None:
                raise TimingMetadataError(
                    f"For protocol {self.protocol_name}, {name} should be specified "
                    f"in the config (in ms) ({self._where()})."
                )
            setattr(self, name, int(round(config_data[name] / self.dt)))

    def set_amplitudes_ecode(
        self,
        amp_name: str,
        config_data: Mapping[str, Any],
        reader_data: Mapping[str, Any],
        value: Any,
    ) -> None:
        """Set an amplitude: config (→ nA), else reader (→ nA), else ``value`` (nA)."""
        unit = self.current_unit()
        if config_data.get(amp_name) is not None:
            setattr(self, amp_name, to_na(config_data[amp_name], unit))
        elif reader_data.get(amp_name) is not None:
            setattr(self, amp_name, to_na(reader_data[amp_name], unit))
        else:
            setattr(self, amp_name, value)

    def index_to_ms(self, name_timing: str, time_series: Any) -> None:
        """Replace the stored sample index ``name_timing`` by its time (ms)."""
        setattr(self, name_timing, time_series[int(round(getattr(self, name_timing)))])

    def ms_to_index(self, timing: float) -> int:
        """Return the sample index of a time in ms."""
        return int(round(timing / self.dt))

    def get_params(self) -> dict[str, Any]:
        """Return the eCode parameters listed in ``export_attr`` and their values."""
        return {attr: getattr(self, attr) for attr in self.export_attr or []}

    def get_stimulus_parameters(self) -> dict[str, Any]:
        """Return the stimulus description for protocols.json (eCode-specific)."""
        raise NotImplementedError

    def generate(self) -> tuple[Any, Any]:
        """Rebuild the stimulus: ``(t, current)`` in ms and nA (eCode-specific)."""
        raise NotImplementedError

    # ------------------------------------------------------------- spikes, features
    def set_autothreshold(self, offset_voltage: float = 20.0) -> None:
        """Spike threshold from the baseline and step voltages (spec §3.2.3)."""
        idx_ton = self.ms_to_index(self.ton)
        idx_toff = self.ms_to_index(self.toff)
        base = _median(self.voltage[:idx_ton])
        step = _median(self.voltage[idx_ton:idx_toff])
        threshold = max(base, step) + offset_voltage
        self.auto_threshold = np.clip(threshold, base + offset_voltage, 50.0)

    def call_efel(
        self, efeatures: Sequence[str], efel_settings: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Run efel on this sweep (spec §3.2.6); returns efel's raw arrays."""
        return _features.call_efel(
            self.t,
            self.voltage,
            self.current,
            efeatures,
            efel_settings,
            stim_start=self.ton,
            stim_end=self.toff,
            stimulus_current=self.amp,
            auto_threshold=self.auto_threshold,
            multi_stim_start=getattr(self, "multi_stim_start", None),
            multi_stim_end=getattr(self, "multi_stim_end", None),
        )

    def compute_efeatures(
        self,
        efeatures: Sequence[str],
        efeature_names: Sequence[str | None] | None = None,
        efel_settings: Mapping[str, Any] | None = None,
    ) -> None:
        """Compute efel features and store their per-sweep mean in ``efeatures``.

        Parameters
        ----------
        efeatures : sequence of str
            efel feature names, all computed in one efel call.
        efeature_names : sequence of str, optional
            Names to store them under (None entries → the efel name).
        efel_settings : mapping, optional
            efel settings (``stim_start`` / ``stim_end`` override the window).

        Raises
        ------
        efex_gui.core.features.UnknownFeatureError
            efel does not know one of the features (also a ``RuntimeError``).
        """
        efeatures = list(efeatures)
        if efeature_names is None:
            efeature_names = efeatures
        names = [
            n if n is not None else f
            for n, f in zip(efeature_names, efeatures, strict=False)
        ]
        # one efel call; a feature requested twice (one target per amplitude) is
        # computed once: efel returns the same array for both
        unique = list(dict.fromkeys(efeatures))
        unknown = _features.check_features(unique)
        if unknown:
            raise _features.UnknownFeatureError(
                f"Unknown feature name: {unknown[0]} ({self._where()})"
            )
        values = self.call_efel(unique, efel_settings)
        means = {f: _features.mean_feature_value(values[f]) for f in unique}
        for name, feature in zip(names, efeatures, strict=False):
            self.efeatures[name] = means[feature]

    # ------------------------------------------------------------------ amplitudes
    def compute_relative_amp(self, amp_threshold: float) -> None:
        """Amplitudes in % of the rheobase ``amp_threshold`` (nA)."""
        self.amp_rel = 100.0 * self.amp / amp_threshold
        self.hypamp_rel = 100.0 * self.hypamp / amp_threshold

    def matched_amplitude(self, absolute_amplitude: bool = False) -> Any:
        """Return the amplitude targets are matched on: ``amp`` (nA) or ``amp_rel``."""
        return matched_amplitude(self.amp, self.amp_rel, absolute_amplitude)

    def in_target(
        self, target: float, tolerance: float, absolute_amplitude: bool = False
    ) -> bool:
        """Whether |target - matched amplitude| < tolerance (strict)."""
        amp = self.matched_amplitude(absolute_amplitude)
        return bool(abs(target - amp) < tolerance)  # np.abs's result, 10 × faster

    # ------------------------------------------------------------------ memory
    def drop_traces(self, keep_spikecount: bool = True) -> None:
        """Forget the raw and converted traces (low-memory mode); results are kept.

        Parameters
        ----------
        keep_spikecount : bool
            Compute a deferred spike count first, so ``peak_time`` stays readable.
            False leaves it uncomputed: reading it then raises
            :class:`TracesDroppedError` (for runs whose recordings nobody reads).
        """
        if keep_spikecount and self.spikecount_pending:
            self.resolve_spikecount()
        self.t = None
        self.voltage = None
        self.current = None
        self.reader_data = None
        # found on the current trace (``timing_consensus``); 0.26 kB a sweep kept by
        # the browser for nothing: the QC measures that use it are taken already
        self.own_window = None
