"""A simulated spiking neuron driven by step protocols, for tests and the demo.

The cell model (:mod:`efex_gui.core.synthetic.model`) is a single compartment with
Hodgkin-Huxley-type sodium and potassium currents, an M-current (adaptation) and an
h-current (sag); all sweeps of all cells are integrated together as one NumPy batch, so
a demo dataset takes a few seconds.

The protocols are BBP-style current steps (IDRest, IV, IDthresh, APWaveform) whose
amplitudes are given in percent of the cell's rheobase: IDthresh first finds the
rheobase on a ladder around a first guess, the other protocols are then simulated
relative to it. Voltage and current get a little recording noise, and a small holding
current is applied. Units in memory are mV, nA and ms.

:func:`simulate_cell` returns the traces in memory; :func:`write_demo_dataset` writes
NWB 2 files (:mod:`efex_gui.core.synthetic.nwb_writer`), ``files_metadata.json``,
``targets.json`` and ``config.json``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from efex_gui.core.errors import SettingsError
from efex_gui.core.synthetic.model import (
    RECORD_DT_MS,
    CellParameters,
    SweepBatch,
    count_spikes,
    integrate,
    random_cell_parameters,
    rheobase_guess,
)

__all__ = [
    "DEMO_PROTOCOLS",
    "DEMO_TARGETS",
    "CellParameters",
    "StepProtocol",
    "demo_cell_parameters",
    "demo_files_metadata",
    "demo_targets",
    "simulate_cell",
    "simulate_cells",
    "simulate_demo_cells",
    "write_demo_dataset",
    "write_demo_files",
]


@dataclass(frozen=True)
class StepProtocol:
    """A family of current steps.

    ``percents`` are step amplitudes in percent of the rheobase, or of the first
    rheobase guess when ``finds_rheobase`` is true (that protocol is simulated first
    and its smallest spiking step becomes the cell's rheobase).
    """

    name: str
    percents: tuple[float, ...]
    ton_ms: float
    toff_ms: float
    tend_ms: float
    finds_rheobase: bool = False


#: the demo protocols, in the order their sweeps are numbered
DEMO_PROTOCOLS: tuple[StepProtocol, ...] = (
    StepProtocol(
        "IDRest", (50, 100, 150, 175, 200, 225, 250, 300), 700.0, 2700.0, 3000.0
    ),
    StepProtocol("IV", (-120, -100, -80, -60, -40, -20, 20, 40), 250.0, 1250.0, 1500.0),
    StepProtocol(
        "IDthresh",
        tuple(float(p) for p in range(76, 125, 4)),
        700.0,
        2700.0,
        3000.0,
        finds_rheobase=True,
    ),
    StepProtocol("APWaveform", (200, 250, 300, 350), 100.0, 150.0, 400.0),
)


def _sweep_layout(
    batch_cells: list[int], protocols: list[StepProtocol], bases: list[float]
) -> tuple[list[tuple[int, StepProtocol, float, float]], np.ndarray]:
    """(cell, protocol, percent, amplitude) of every sweep, and each sweep's cell."""
    layout = [
        (c, protocol, float(percent), float(percent) / 100.0 * bases[c])
        for c in batch_cells
        for protocol in protocols
        for percent in protocol.percents
    ]
    return layout, np.array([batch_cells.index(c) for c, *_ in layout], dtype=np.intp)


def _run(
    cells: list[int],
    params: list[CellParameters],
    rngs: list[np.random.Generator],
    protocols: list[StepProtocol],
    bases: list[float],
) -> dict[int, list[dict[str, Any]]]:
    """Simulate ``protocols`` for the given cells; returns the sweeps of each cell."""
    layout, cell_of_sweep = _sweep_layout(cells, protocols, bases)
    batch = SweepBatch(
        params=[params[c] for c in cells],
        cell_of_sweep=cell_of_sweep,
        amp_na=np.array([amp for *_, amp in layout]),
        ton_ms=np.array([p.ton_ms for _, p, *_ in layout]),
        toff_ms=np.array([p.toff_ms for _, p, *_ in layout]),
        tend_ms=np.array([p.tend_ms for _, p, *_ in layout]),
        rngs=[rngs[c] for c in cells],
    )
    voltage = integrate(batch)
    result: dict[int, list[dict[str, Any]]] = {c: [] for c in cells}
    for row, (c, protocol, percent, amp) in enumerate(layout):
        result[c].append(
            _make_sweep(params[c], rngs[c], protocol, percent, amp, voltage[row])
        )
    return result


def _make_sweep(
    params: CellParameters,
    rng: np.random.Generator,
    protocol: StepProtocol,
    percent: float,
    amp: float,
    voltage: np.ndarray,
) -> dict[str, Any]:
    """Simulate a trace dict (reader keys, internal units) with recording noise."""
    n = int(round(protocol.tend_ms / RECORD_DT_MS))
    t = np.arange(n) * RECORD_DT_MS
    on = (t >= protocol.ton_ms - 1e-9) & (t < protocol.toff_ms - 1e-9)
    current = params.holding_na + amp * on
    return {
        "protocol_name": protocol.name,
        "voltage": voltage[:n] + params.v_noise_mv * rng.standard_normal(n),
        "current": current + params.i_noise_na * rng.standard_normal(n),
        "dt": RECORD_DT_MS,
        "t_unit": "ms",
        "v_unit": "mV",
        "i_unit": "nA",
        "repetition": 1,
        "spikecount": count_spikes(voltage[:n], protocol.ton_ms, protocol.toff_ms),
        "stimulus": {
            "percent": percent,
            "amp_na": amp,
            "holding_na": params.holding_na,
            "ton_ms": protocol.ton_ms,
            "toff_ms": protocol.toff_ms,
            "tend_ms": protocol.tend_ms,
        },
    }


def _find_rheobases(
    params: list[CellParameters],
    rngs: list[np.random.Generator],
    finder: StepProtocol,
) -> tuple[list[float], dict[int, list[dict[str, Any]]]]:
    """Run the rheobase-finding protocol until its ladder brackets each rheobase."""
    guesses = [rheobase_guess(p) for p in params]
    rheobases: list[float | None] = [None] * len(params)
    found: dict[int, list[dict[str, Any]]] = {}
    for _attempt in range(6):
        todo = [c for c, r in enumerate(rheobases) if r is None]
        if not todo:
            break
        for c, sweeps in _run(todo, params, rngs, [finder], guesses).items():
            counts = [s["spikecount"] for s in sweeps]
            if counts[-1] == 0:
                guesses[c] *= 1.6
            elif counts[0] > 0:
                guesses[c] *= 0.6
            else:
                rheobases[c] = min(
                    s["stimulus"]["amp_na"] for s in sweeps if s["spikecount"]
                )
                found[c] = sweeps
    missing = [params[c].name for c, r in enumerate(rheobases) if r is None]
    if missing:
        raise SettingsError(f"no rheobase found for the simulated cell(s) {missing}")
    return [float(r) for r in rheobases if r is not None], found


def simulate_cells(
    parameters: list[CellParameters],
    seeds: list[Any],
    protocols: tuple[StepProtocol, ...] = DEMO_PROTOCOLS,
) -> list[dict[str, Any]]:
    """Simulate several cells together (one NumPy batch per phase).

    Parameters
    ----------
    parameters : list of CellParameters
        One entry per cell.
    seeds : list
        One seed per cell for its noise (anything ``numpy.random.default_rng`` takes).
        A cell's traces depend only on its parameters, its seed and the protocols.
    protocols : tuple of StepProtocol, optional
        At most one with ``finds_rheobase``; without one, amplitudes are relative to
        :func:`rheobase_guess`.

    Returns
    -------
    list of dict
        Per cell: ``name``, ``parameters`` (dict), ``rheobase_na`` and ``sweeps``, a
        list of trace dicts (keys ``id``, ``protocol_name``, ``voltage`` (mV),
        ``current`` (nA), ``dt`` (ms), ``t_unit``, ``v_unit``, ``i_unit``,
        ``repetition``, ``spikecount`` and ``stimulus`` with the nominal step),
        numbered in protocol order as ``CurrentClampSeries_000``, ...
    """
    if len(parameters) != len(seeds):
        raise SettingsError("simulate_cells needs one seed per cell")
    finders = [p for p in protocols if p.finds_rheobase]
    if len(finders) > 1:
        raise SettingsError("at most one protocol may have finds_rheobase=True")
    rngs = [np.random.default_rng(seed) for seed in seeds]
    if finders:
        rheobases, found = _find_rheobases(parameters, rngs, finders[0])
    else:
        rheobases, found = [rheobase_guess(p) for p in parameters], {}
    others = [p for p in protocols if not p.finds_rheobase]
    rest = _run(list(range(len(parameters))), parameters, rngs, others, rheobases)
    cells = []
    for c, params in enumerate(parameters):
        by_protocol: dict[str, list[dict[str, Any]]] = {}
        for sweep in found.get(c, []) + rest[c]:
            by_protocol.setdefault(sweep["protocol_name"], []).append(sweep)
        sweeps = [s for p in protocols for s in by_protocol.get(p.name, [])]
        for index, sweep in enumerate(sweeps):
            sweep["id"] = f"CurrentClampSeries_{index:03d}"
        cells.append(
            {
                "name": params.name,
                "parameters": asdict(params),
                "rheobase_na": rheobases[c],
                "sweeps": sweeps,
            }
        )
    return cells


def demo_cell_parameters(n_cells: int = 3, seed: int = 0) -> list[CellParameters]:
    """Return the parameters of demo cells ``SimCell1``, ``SimCell2``... (``seed``)."""
    return [
        random_cell_parameters(np.random.default_rng([seed, i, 0]), f"SimCell{i + 1}")
        for i in range(n_cells)
    ]


def simulate_cell(
    parameters: CellParameters | None = None,
    seed: int = 0,
    protocols: tuple[StepProtocol, ...] = DEMO_PROTOCOLS,
    name: str | None = None,
) -> dict[str, Any]:
    """Simulate one cell driven by ``protocols``.

    Parameters
    ----------
    parameters : CellParameters, optional
        Default: the first demo cell for ``seed`` (so ``simulate_cell(seed=s)`` equals
        cell ``SimCell1`` of ``write_demo_dataset(..., seed=s)``).
    seed : int, optional
        Seed of the parameters (when drawn) and of the noise.
    protocols : tuple of StepProtocol, optional
        The protocols to run, default :data:`DEMO_PROTOCOLS`.
    name : str, optional
        Overrides the cell name.

    Returns
    -------
    dict
        See :func:`simulate_cells`.
    """
    if parameters is None:
        parameters = demo_cell_parameters(1, seed)[0]
    if name is not None:
        parameters = replace(parameters, name=name)
    return simulate_cells([parameters], [[seed, 0, 1]], protocols)[0]


#: the example targets written beside the demo dataset (spec §5.1 format)
DEMO_TARGETS: tuple[dict[str, Any], ...] = tuple(
    [
        {
            "efeature": feature,
            "protocol": "IDRest",
            "amplitude": amplitude,
            "tolerance": 20,
        }
        for amplitude in (150, 200, 250)
        for feature in (
            "Spikecount",
            "mean_frequency",
            "time_to_first_spike",
            "AP_amplitude",
            "AP_width",
            "AHP_depth",
        )
    ]
    + [
        {"efeature": feature, "protocol": "IV", "amplitude": -40, "tolerance": 10}
        for feature in (
            "voltage_base",
            "steady_state_voltage_stimend",
            "ohmic_input_resistance_vb_ssse",
            "sag_amplitude",
        )
    ]
)


def demo_targets() -> list[dict[str, Any]]:
    """Fresh copies of :data:`DEMO_TARGETS` (the pipeline adds keys to its targets)."""
    return [dict(target) for target in DEMO_TARGETS]


def demo_files_metadata(
    paths: dict[str, Any], protocols: tuple[StepProtocol, ...] = DEMO_PROTOCOLS
) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Build BluePyEfe-style ``files_metadata`` for NWB files.

    Every protocol of every cell points at the cell's file (the NWB reader picks the
    sweeps by protocol name).
    """
    return {
        cell: {
            protocol.name: [
                {
                    "filepath": str(path),
                    "protocol_name": protocol.name,
                    "i_unit": "A",
                    "v_unit": "V",
                    "t_unit": "s",
                }
            ]
            for protocol in protocols
        }
        for cell, path in paths.items()
    }


def write_demo_dataset(
    folder: str | Path, n_cells: int = 3, seed: int = 0
) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Simulate ``n_cells`` cells and write them as a demo dataset in ``folder``.

    Writes ``<cell>.nwb`` per cell, ``files_metadata.json`` (absolute paths),
    ``targets.json`` (:data:`DEMO_TARGETS`) and ``config.json`` (an ``efex extract``
    configuration with paths relative to ``folder``).

    Parameters
    ----------
    folder : str or pathlib.Path
        Output folder, created if needed.
    n_cells : int, optional
        Number of cells, ``SimCell1`` ... ``SimCell<n>``.
    seed : int, optional
        Seed; the same seed writes the same data.

    Returns
    -------
    dict
        ``files_metadata`` ``{cell: {protocol: [file metadata]}}``, absolute paths.
    """
    return write_demo_files(folder, simulate_demo_cells(n_cells, seed))


def simulate_demo_cells(n_cells: int = 3, seed: int = 0) -> list[dict[str, Any]]:
    """Simulate the demo cells ``SimCell1`` ... ``SimCell<n>`` of ``seed``.

    Returns
    -------
    list of dict
        What :func:`write_demo_dataset` writes (see :func:`simulate_cells`).
    """
    if n_cells < 1:
        raise SettingsError(f"n_cells must be at least 1, got {n_cells}")
    parameters = demo_cell_parameters(n_cells, seed)
    return simulate_cells(parameters, [[seed, i, 1] for i in range(n_cells)])


def write_demo_files(
    folder: str | Path, cells: list[dict[str, Any]]
) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Write simulated cells as a demo dataset (see :func:`write_demo_dataset`).

    Parameters
    ----------
    folder : str or pathlib.Path
        Output folder, created if needed.
    cells : list of dict
        Cells simulated with :data:`DEMO_PROTOCOLS` (:func:`simulate_cells`).

    Returns
    -------
    dict
        ``files_metadata`` ``{cell: {protocol: [file metadata]}}``, absolute paths.
    """
    from efex_gui.core.synthetic.nwb_writer import write_nwb

    folder = Path(folder).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    paths = {
        cell["name"]: write_nwb(cell, folder / f"{cell['name']}.nwb") for cell in cells
    }
    files_metadata = demo_files_metadata(paths)
    relative = demo_files_metadata({name: path.name for name, path in paths.items()})
    config = {
        "files_metadata": relative,
        "targets": demo_targets(),
        "protocols_rheobase": ["IDthresh", "IDRest"],
        "rheobase_strategy": "absolute",
        "efel_settings": {
            "strict_stiminterval": True,
            "Threshold": -20.0,
            "interp_step": 0.025,
        },
        "threshold_nvalue_save": 1,
    }
    for name, content in (
        ("files_metadata.json", files_metadata),
        ("targets.json", demo_targets()),
        ("config.json", config),
    ):
        (folder / name).write_text(
            json.dumps(content, indent=2) + "\n", encoding="utf-8"
        )
    return files_metadata
