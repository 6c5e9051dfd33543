"""PDF reports of an extraction (``plot=True``), with matplotlib (spec §6.6).

Imported lazily by the pipeline, never by the core. Figures are built with
``matplotlib.figure.Figure`` and written with ``PdfPages``: no pyplot, no display, no
global backend change, so it works headless, in worker processes and beside a Qt app.

Files, as BluePyEfe (dpi 80):

* ``<out>/<cell>/<cell>_<protocol>_recordings.pdf`` — every recording of a protocol,
  sorted by amplitude, 12 per page (6 columns; current above voltage);
* ``<out>/<cell>/impedance/<cell>_<protocol>_<i>_<name>_impedance.pdf`` — SineSpec only;
* ``<out>/<cell>/<cell>_<protocol>_<feature>_<amp|amp_rel>.pdf`` — one cell's values;
* ``<out>/<protocol>_<feature>_<amp|amp_rel>.pdf`` — all cells and the target means;
* ``<out>/legend.pdf`` — cell → colour and marker.

Two fixes (``docs/compatibility.md``): the per-cell feature plots are written whatever
the ``mapper`` (BluePyEfe skips them with the built-in ``map``, §9.1-14), and the
impedance frequency axis uses the trace's own sampling step (§9.1-25). ``show`` is
accepted for compatibility and ignored: nothing is ever displayed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from itertools import cycle
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

logger = logging.getLogger(__name__)

__all__ = [
    "plot_all_recordings",
    "plot_all_recordings_efeatures",
    "plot_cell_recordings",
    "plot_recording",
]

DPI = 80
COLUMNS = 6
PER_PAGE = 12
MARKERS = ("o", "v", "^", "s", "*", "d", "x")
IMPEDANCE_MAX_FREQ = 50.0
Mapper = Callable[..., Iterable[Any]]


def _title(recording: Any) -> str:
    hyp, amp = recording.hypamp, recording.amp
    title = (
        f"Holding Amp = {hyp:.3f} nA / Amp = {amp:.3f} nA"
        if (hyp is not None and amp is not None)
        else "Amp unknown"
    )
    if (
        getattr(recording, "amp2_rel", None) is not None
        and recording.amp_rel is not None
    ):
        title += f" ({recording.amp_rel:.1f}%/{recording.amp2_rel:.1f}%)"
    elif getattr(recording, "amp_rel", None) is not None:
        title += f" ({recording.amp_rel:.1f}%)"
    if recording.id:
        title += f"\n{recording.id}"
    if recording.repetition is not None:
        title += f" repetition {recording.repetition}"
    return title


def plot_recording(
    recording: Any,
    axis_current: Any,
    axis_voltage: Any,
    display_xlabel: bool = True,
    display_ylabel: bool = True,
) -> None:
    """Draw one recording: current (+ rebuilt stimulus) above voltage (spec §3.2.8)."""
    axis_current.plot(recording.t, recording.current, c="C0")
    try:
        t_gen, i_gen = recording.generate()
        axis_current.plot(t_gen, i_gen, c="C1", ls="--")
    except Exception as exc:  # a plot must not fail on an odd stimulus
        logger.info("No rebuilt stimulus for %s: %s", recording.name, exc)
    axis_voltage.plot(recording.t, recording.voltage, c="black")
    if recording.peak_time is not None and len(recording.voltage):
        top = float(np.max(recording.voltage))
        axis_voltage.vlines(recording.peak_time, top + 5, top + 15, colors="red")
    if recording.auto_threshold is not None:
        axis_voltage.axhline(recording.auto_threshold, c="black", ls="--", lw=0.8)
    axis_current.set_title(_title(recording), size="x-small")
    if display_xlabel:
        axis_voltage.set_xlabel("Time (ms)")
    if display_ylabel:
        axis_current.set_ylabel("Current (nA)")
        axis_voltage.set_ylabel("Voltage (mV)")


def _recordings_page(
    cell_name: str, protocol: str, page: int, recordings: list[Any]
) -> Figure:
    rows = 2 * ((PER_PAGE + COLUMNS - 1) // COLUMNS)
    fig = Figure(figsize=(3.0 * COLUMNS, 2.4 * rows), dpi=DPI)
    axes = fig.subplots(rows, COLUMNS, squeeze=False)
    for slot in range(PER_PAGE):
        row, col = 2 * (slot // COLUMNS), slot % COLUMNS
        if slot >= len(recordings):
            axes[row][col].set_axis_off()
            axes[row + 1][col].set_axis_off()
            continue
        plot_recording(
            recordings[slot],
            axes[row][col],
            axes[row + 1][col],
            display_xlabel=row + 2 == rows,
            display_ylabel=col == 0,
        )
    fig.suptitle(f"Cell: {cell_name}, Experiment: {protocol}, Page: {page}")
    fig.tight_layout()
    return fig


def plot_cell_recordings(
    cell: Any, output_dir: str | Path, show: bool = False
) -> list[Any]:
    """Write one multi-page PDF per protocol of ``cell`` (module-level: picklable)."""
    written = []
    folder = Path(output_dir) / str(cell.name)
    by_protocol: dict[str, list[Any]] = {}
    for recording in cell.recordings:
        by_protocol.setdefault(recording.protocol_name, []).append(recording)
    for protocol, recordings in by_protocol.items():
        if any(rec.voltage is None for rec in recordings):
            logger.warning(
                "Cell %s, protocol %s: no traces to plot (low-memory mode?).",
                cell.name,
                protocol,
            )
            continue
        recordings = sorted(recordings, key=lambda rec: _number(rec.amp))
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{cell.name}_{protocol}_recordings.pdf"
        with PdfPages(path) as pdf:
            for page, start in enumerate(range(0, len(recordings), PER_PAGE)):
                fig = _recordings_page(
                    str(cell.name), protocol, page, recordings[start : start + PER_PAGE]
                )
                pdf.savefig(fig)
        written.append(path)
        if "sinespec" in protocol.lower():
            written += _plot_impedances(cell, protocol, recordings, folder)
    return written


def _number(value: Any) -> float:
    return float("nan") if value is None else float(value)


def plot_all_recordings(
    cells: list[Any],
    output_dir: str | Path,
    show: bool = False,
    mapper: Mapper | None = map,
) -> list[Path]:
    """Plot every recording of every cell (one PDF per cell and protocol).

    Returns
    -------
    list of Path
        The files written.
    """
    func = partial(plot_cell_recordings, output_dir=output_dir, show=show)
    return [path for paths in (mapper or map)(func, cells) for path in paths]


def _impedance(recording: Any) -> tuple[np.ndarray, np.ndarray]:
    values = recording.call_efel(["voltage_base", "current_base"], {})
    v_base = float(np.mean(values["voltage_base"]))
    i_base = float(np.mean(values["current_base"]))
    dt_s = (recording.t[1] - recording.t[0]) / 1000.0  # §9.1-25: the trace's own dt
    v_fft = np.fft.fft(np.asarray(recording.voltage) - v_base)
    i_fft = np.fft.fft(np.asarray(recording.current) - i_base)
    freq = np.fft.fftfreq(len(recording.voltage), d=dt_s)
    keep = (freq > 0) & (freq <= IMPEDANCE_MAX_FREQ)
    with np.errstate(divide="ignore", invalid="ignore"):
        impedance = np.abs(v_fft[keep] / i_fft[keep])
    from scipy.ndimage import gaussian_filter1d

    smooth = gaussian_filter1d(np.nan_to_num(impedance), sigma=10)
    peak = np.max(smooth) if smooth.size else 1.0
    return freq[keep], smooth / (peak or 1.0)


def _plot_impedances(
    cell: Any, protocol: str, recordings: list[Any], folder: Path
) -> list[Any]:
    written = []
    for i, recording in enumerate(recordings):
        try:
            freq, impedance = _impedance(recording)
        except Exception as exc:  # one odd trace must not stop the report
            logger.warning("Impedance of %s failed: %s", recording.name, exc)
            continue
        fig = Figure(figsize=(6, 4), dpi=DPI)
        axis = fig.subplots()
        axis.plot(freq, impedance)
        axis.set_xlabel("Frequency (Hz)")
        axis.set_ylabel("Normalized impedance")
        axis.set_title(f"{cell.name} {protocol} {recording.name}")
        path = (
            folder
            / "impedance"
            / (f"{cell.name}_{protocol}_{i}_{recording.name}_impedance.pdf")
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path)
        written.append(path)
    return written


def _features_by_protocol(protocols: Iterable[Any]) -> dict[str, list[str]]:
    features: dict[str, list[str]] = {}
    for protocol in protocols:
        names = features.setdefault(protocol.name, [])
        for target in protocol.feature_targets:
            if target.efeature_name not in names:
                names.append(target.efeature_name)
    return features


def _points(
    recordings: Iterable[Any], feature: str, key_amp: str
) -> tuple[list[Any], list[Any]]:
    xs, ys = [], []
    for recording in recordings:
        x = getattr(recording, key_amp, None)
        y = recording.efeatures.get(feature)
        if not x or y is None or np.isnan(y):  # BluePyEfe skips zero / None x
            continue
        xs.append(x)
        ys.append(y)
    return xs, ys


def _feature_axis(key_amp: str, feature: str, title: str) -> tuple[Figure, Any]:
    fig = Figure(figsize=(6, 4.5), dpi=DPI)
    axis = fig.subplots()
    axis.set_xlabel(
        "Relative step amplitude (I/I_thresh)"
        if key_amp == "amp_rel"
        else "Step amplitude (nA)"
    )
    axis.set_ylabel(feature)
    axis.set_title(title)
    return fig, axis


def plot_cell_efeatures(
    cell: Any,
    protocol_features: dict[str, list[str]],
    key_amp: str,
    output_dir: str | Path,
) -> list[Path]:
    """Write one PDF per protocol and feature with this cell's values (picklable)."""
    written = []
    folder = Path(output_dir) / str(cell.name)
    for protocol_name, features in protocol_features.items():
        recordings = cell.get_recordings_by_protocol_name(protocol_name)
        for feature in features:
            xs, ys = _points(recordings, feature, key_amp)
            if not xs:
                continue
            fig, axis = _feature_axis(key_amp, feature, f"{cell.name} {protocol_name}")
            axis.scatter(xs, ys, c="C0", marker="o")
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"{cell.name}_{protocol_name}_{feature}_{key_amp}.pdf"
            fig.savefig(path)
            written.append(path)
    return written


def _styles(cells: list[Any]) -> list[tuple[Any, str, str]]:
    return [
        (cell, f"C{i % 10}", marker)
        for i, (cell, marker) in enumerate(zip(cells, cycle(MARKERS)))
    ]


def _target_points(
    protocols: Iterable[Any], name: str, feature: str, key_amp: str
) -> list[tuple[float, float, float]]:
    points = []
    for protocol in protocols:
        if protocol.name != name or not protocol.recordings:
            continue
        for target in protocol.feature_targets:
            if target.efeature_name != feature or not target.sample_size:
                continue
            x = (
                protocol.amplitude
                if key_amp == "amp_rel"
                else float(
                    np.nanmean([_number(rec.amp) for rec in protocol.recordings])
                )
            )
            points.append((x, target.mean, target.std))
    return points


def _plot_grouped(
    cells: list[Any],
    protocols: list[Any],
    name: str,
    feature: str,
    key_amp: str,
    output_dir: Path,
) -> Path:
    fig, axis = _feature_axis(key_amp, feature, name)
    for cell, colour, marker in _styles(cells):
        xs, ys = _points(cell.get_recordings_by_protocol_name(name), feature, key_amp)
        axis.scatter(xs, ys, c=colour, marker=marker)
    for x, mean, std in _target_points(protocols, name, feature, key_amp):
        axis.errorbar(x, mean, yerr=std, c="black", marker="o", capsize=3)
    path = output_dir / f"{name}_{feature}_{key_amp}.pdf"
    fig.savefig(path)
    return path


def _plot_legend(cells: list[Any], output_dir: Path) -> Path:
    fig = Figure(figsize=(4, 0.4 * len(cells) + 1), dpi=DPI)
    axis = fig.subplots()
    for cell, colour, marker in _styles(cells):
        axis.scatter([], [], c=colour, marker=marker, label=str(cell.name))
    axis.legend(loc="center")
    axis.set_axis_off()
    path = output_dir / "legend.pdf"
    fig.savefig(path)
    return path


def plot_all_recordings_efeatures(
    cells: list[Any],
    protocols: list[Any],
    output_dir: str | Path,
    show: bool = False,
    mapper: Mapper | None = map,
    efel_settings: dict[str, Any] | None = None,
) -> list[Path]:
    """Plot the recordings, then each feature per cell and across cells (§6.6).

    Parameters
    ----------
    cells : list of Cell
        Cells with traces (not low-memory).
    protocols : list of Protocol
        Output of ``group_efeatures``.
    output_dir : str or Path
        Where the PDFs go (created if needed).
    show : bool
        Ignored (compatibility): nothing is displayed.
    mapper : callable
        ``map``-like function used across cells.
    efel_settings : dict, optional
        Accepted for compatibility; the impedance plots use the trace's own dt.

    Returns
    -------
    list of Path
        The files written.
    """
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = plot_all_recordings(cells, out, show=show, mapper=mapper)
    features = _features_by_protocol(protocols)
    for key_amp in ("amp", "amp_rel"):
        func = partial(
            plot_cell_efeatures,
            protocol_features=features,
            key_amp=key_amp,
            output_dir=out,
        )
        written += [path for paths in (mapper or map)(func, cells) for path in paths]
        for name, names in features.items():
            written += [
                _plot_grouped(cells, protocols, name, feature, key_amp, out)
                for feature in names
            ]
    written.append(_plot_legend(cells, out))
    return written


def plot_extraction(
    cells: list[Any],
    protocols: list[Any],
    output_directory: str | Path | None,
    map_function: Mapper | None,
    efel_settings: Mapping[str, Any] | None,
) -> None:
    """Plot as ``extract_efeatures(plot=True)`` does, in the core's plotter signature.

    :func:`efex_gui.core.extraction.pipeline.extract_efeatures` never plots; the
    façade (:mod:`efex_gui.extract`) and the CLI pass this function as its
    ``plotter``.
    """
    plot_all_recordings_efeatures(
        cells,
        protocols,
        output_dir=output_directory,  # type: ignore[arg-type]  # as BluePyEfe
        mapper=map_function,
        efel_settings=None if efel_settings is None else dict(efel_settings),
    )
