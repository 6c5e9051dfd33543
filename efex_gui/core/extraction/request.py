"""What an extraction is asked to do, as typed objects the core entry point takes.

* :class:`ExtractionRequest` — BluePyEfe's ``extract_efeatures`` parameters, with
  BluePyEfe's defaults (spec §2.1);
* :class:`RunExtras` — efex_gui's keyword-only additions (progress, cancellation, the
  compatibility switches of ``docs/compatibility.md``, provenance, the plotter).

:func:`efex_gui.core.extraction.pipeline.run_extraction` takes both. BluePyEfe's exact
signature lives in :mod:`efex_gui.extract` only, which builds them;
:func:`~efex_gui.core.extraction.pipeline.extract_efeatures` builds them from keyword
arguments (:func:`split_arguments`) for the CLI and scripts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

    from efex_gui.core.progress import CancelToken, Progress
    from efex_gui.core.targets.auto import AutoTarget

__all__ = [
    "NO_EXTRAS",
    "ExtractionRequest",
    "Plotter",
    "RunExtras",
    "split_arguments",
]

Mapper = Callable[..., Iterable[Any]] | None
Settings = Mapping[str, Any] | None
#: ``plotter(cells, protocols, output_directory, map_function, efel_settings)``: draws
#: the plots of ``plot=True``. The core never plots; the façade and the CLI pass one.
Plotter = Callable[[list[Any], list[Any], "str | Path | None", Mapper, Settings], None]


@dataclass(frozen=True)
class ExtractionRequest:
    """BluePyEfe's ``extract_efeatures`` parameters after ``files_metadata``.

    The meanings and defaults are BluePyEfe's (documented in
    :func:`efex_gui.extract.extract_efeatures`).
    """

    targets: list[dict[str, Any]] | dict[str, Any] | None = None
    threshold_nvalue_save: int = 1
    protocols_rheobase: list[str] | None = None
    absolute_amplitude: bool = False
    recording_reader: Callable[..., Any] | None = None
    map_function: Mapper = map
    write_files: bool = False
    plot: bool = False
    low_memory_mode: bool = False
    protocol_mode: str = "mean"
    efel_settings: Settings = None
    extract_per_cell: bool = False
    rheobase_strategy: str = "absolute"
    rheobase_settings: Settings = None
    auto_targets: list[AutoTarget] | None = None
    pickle_cells: bool = False
    default_std_value: float = 1e-3


@dataclass(frozen=True)
class RunExtras:
    """efex_gui's additions to an extraction (none of them changes a number).

    Attributes
    ----------
    progress : callable, optional
        ``progress(done, total)`` over ``2 * n_cells + 1`` units.
    cancel : CancelToken, optional
        Checked between cells; raises :class:`~efex_gui.core.errors.Cancelled`.
    strict : bool
        Raise on an unreadable file instead of skipping it (``cell.skipped_files``).
    strict_targets : bool
        Raise on conflicting targets (§9.1-8, §9.1-9) instead of warning.
    nan_as_null : bool
        Write NaN as ``null`` in the JSON files (§9.1-20).
    per_cell_consistent : bool
        Per-cell outputs with the run's efel settings, amplitude mode and
        ``default_std_value`` (§9.1-13).
    fresh_auto_targets : bool
        Work on copies of the given AutoTargets, leaving them untouched (§9.1-18).
    extract_all_recordings : bool
        Compute the features on every recording of a targeted protocol, as
        BluePyEfe does, instead of only on the recordings a target's amplitude
        window holds (same outputs; only ``recording.efeatures`` of the other
        recordings, seen in ``cells.pkl``, differ). Implied by ``plot``.
    provenance : bool
        With ``write_files``, also write ``efex_provenance.json``.
    exclusions : Any
        The exclusions applied to ``files_metadata``, recorded in the sidecar.
    rheobase_overrides : mapping, optional
        ``{cell: rheobase in nA}`` used instead of the strategy's value for those
        cells (a session's per-cell overrides); recorded in the sidecar. Ignored
        with ``absolute_amplitude``.
    plotter : Plotter, optional
        Draws the plots of ``plot=True`` (required then): the core never plots.
    consensus_timing : bool
        The sweeps of each Step protocol of a cell share their consensus stimulus
        window (:mod:`efex_gui.core.recordings.timing_consensus`), and a Ramp
        protocol's entries without a window get one from their currents
        (:func:`~efex_gui.core.session.protocol_reading.cell_ramp_windows`, found as
        the cell is read), as a folder import does; False keeps BluePyEfe's
        per-sweep detection and refuses a Ramp entry without ``ton``
        (docs/compatibility.md).
    feature_store : FeatureStore, optional
        The persistent feature cache
        (:func:`~efex_gui.core.extraction.feature_store.open_default_store`):
        per-sweep values of earlier runs on the same files, metadata, settings and
        versions are reused, new ones stored. None (the Python API's default: like
        BluePyEfe it writes nothing but its outputs): no cache.
    """

    progress: Progress | None = None
    cancel: CancelToken | None = None
    strict: bool = False
    strict_targets: bool = False
    nan_as_null: bool = False
    per_cell_consistent: bool = False
    fresh_auto_targets: bool = False
    extract_all_recordings: bool = False
    provenance: bool = True
    exclusions: Any = None
    rheobase_overrides: Mapping[str, float] | None = None
    plotter: Plotter | None = None
    consensus_timing: bool = False
    feature_store: Any = None


#: no extras: a run as BluePyEfe's
NO_EXTRAS = RunExtras()

_REQUEST_FIELDS = frozenset(f.name for f in fields(ExtractionRequest))


def split_arguments(
    kwargs: Mapping[str, Any],
) -> tuple[ExtractionRequest, RunExtras]:
    """Keyword arguments (BluePyEfe's names and the extras) as the two objects.

    Raises
    ------
    TypeError
        An argument neither object has (as Python does for a bad keyword).
    """
    request = {k: v for k, v in kwargs.items() if k in _REQUEST_FIELDS}
    extras = {k: v for k, v in kwargs.items() if k not in _REQUEST_FIELDS}
    return ExtractionRequest(**request), RunExtras(**extras)
