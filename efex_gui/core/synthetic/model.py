"""The simulated neuron of :mod:`efex_gui.core.synthetic.demo`: model, integrator.

A single compartment with Traub-Miles sodium and delayed-rectifier potassium currents
(Pospischil et al. 2008, with a spike threshold parameter ``VT``; kinetics slowed to
give ~1 ms wide spikes), a slow M-type potassium current (spike-frequency adaptation)
and an h-current (sag and rebound on hyperpolarising steps). Exponential Euler at
:data:`SIM_DT_MS` on rate tables, sampled at :data:`RECORD_DT_MS`; every sweep of a
batch is one row of NumPy arrays. Units: mV, nA, ms, uS, nF.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np

#: integration step (ms)
SIM_DT_MS = 0.05
#: sampling interval of the recorded traces (ms), a multiple of SIM_DT_MS
RECORD_DT_MS = 0.1
#: reversal potentials (mV)
E_NA_MV, E_K_MV, E_H_MV = 40.0, -90.0, -40.0
#: voltage grid of the rate tables (mV)
_V_MIN, _V_MAX, _DV = -150.0, 100.0, 0.01
#: spike detection level used to locate the rheobase (mV)
SPIKE_LEVEL_MV = -20.0
_NOISE_CHUNK = 4000


@dataclass(frozen=True)
class CellParameters:
    """Parameters of one simulated cell (conductances in uS, capacitance in nF)."""

    name: str = "SimCell"
    capacitance_nf: float = 0.12
    g_leak_us: float = 0.0060
    e_leak_mv: float = -70.0
    g_na_us: float = 4.0
    g_kd_us: float = 0.6
    g_m_us: float = 0.008
    g_h_us: float = 0.0022
    v_t_mv: float = -56.0
    holding_na: float = -0.01
    noise_na: float = 0.03
    v_noise_mv: float = 0.1
    i_noise_na: float = 0.0015


def random_cell_parameters(rng: np.random.Generator, name: str) -> CellParameters:
    """Draw the parameters of one cell: input resistance, threshold, size, holding vary.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness.
    name : str
        Cell name.

    Returns
    -------
    CellParameters
    """
    r_in_mohm = rng.uniform(130.0, 190.0)
    return CellParameters(
        name=name,
        capacitance_nf=rng.uniform(0.10, 0.14),
        g_leak_us=0.7 / r_in_mohm,
        e_leak_mv=rng.uniform(-71.0, -68.0),
        g_m_us=rng.uniform(0.010, 0.018),
        g_h_us=rng.uniform(0.0015, 0.003),
        v_t_mv=rng.uniform(-57.5, -55.0),
        holding_na=rng.uniform(-0.03, 0.0),
    )


def _vtrap(x: np.ndarray, y: float) -> np.ndarray:
    """``x / (exp(x / y) - 1)`` without the 0/0 at ``x = 0``."""
    small = np.abs(x / y) < 1e-6
    safe = np.where(small, 1.0, x)
    return np.where(small, y * (1.0 - x / (2.0 * y)), safe / np.expm1(safe / y))


@functools.lru_cache(maxsize=4)
def _rate_tables(dt: float) -> tuple[np.ndarray, np.ndarray]:
    """Steady states and exp(-dt/tau) of every gate on the voltage grid.

    Returns the fast table (rows m_inf, m_decay, h_inf, h_decay, n_inf, n_decay; indexed
    by ``V - VT``) and the slow table (rows p_inf, p_decay, q_inf, q_decay; indexed by
    ``V``), q being the h-current gate.
    """
    u = np.arange(_V_MIN, _V_MAX + _DV / 2, _DV)
    pairs = (
        (0.32 * _vtrap(-(u - 13.0), 4.0), 0.28 * _vtrap(u - 40.0, 5.0)),
        (0.128 * np.exp(-(u - 17.0) / 18.0), 4.0 / (1.0 + np.exp(-(u - 40.0) / 5.0))),
        (0.032 * _vtrap(-(u - 15.0), 5.0), 0.5 * np.exp(-(u - 10.0) / 40.0)),
    )
    fast = []
    for alpha, beta in pairs:
        alpha, beta = 0.7 * alpha, 0.7 * beta  # slower kinetics: ~1 ms wide spikes
        fast += [alpha / (alpha + beta), np.exp(-dt * (alpha + beta))]
    p_tau = 600.0 / (3.3 * np.exp((u + 35.0) / 20.0) + np.exp(-(u + 35.0) / 20.0))
    q_tau = 40.0 + 120.0 / (np.exp((u + 75.0) / 15.0) + np.exp(-(u + 75.0) / 15.0))
    slow = [
        1.0 / (1.0 + np.exp(-(u + 35.0) / 10.0)),
        np.exp(-dt / p_tau),
        1.0 / (1.0 + np.exp((u + 82.0) / 7.0)),
        np.exp(-dt / q_tau),
    ]
    return np.array(fast), np.array(slow)


#: the last index of the rate tables' voltage grid
_LAST_INDEX = int(round((_V_MAX - _V_MIN) / _DV))


def _grid_index(v: np.ndarray) -> np.ndarray:
    """Index of ``v`` in the rate tables' voltage grid, clipped to the grid.

    Twice per time step: ``np.minimum``/``np.maximum`` rather than ``np.clip``,
    whose argument checks took a third of a simulation (same indices).
    """
    index = ((v - _V_MIN) * (1.0 / _DV)).astype(np.intp)
    return np.minimum(np.maximum(index, 0), _LAST_INDEX)


@dataclass
class SweepBatch:
    """Sweeps integrated together; every per-sweep array has one entry per sweep."""

    params: list[CellParameters]
    cell_of_sweep: np.ndarray
    amp_na: np.ndarray
    ton_ms: np.ndarray
    toff_ms: np.ndarray
    tend_ms: np.ndarray
    rngs: list[np.random.Generator] = field(default_factory=list)

    def column(self, attribute: str) -> np.ndarray:
        """Return ``attribute`` of each sweep's cell parameters, one value per sweep."""
        values = np.array([getattr(p, attribute) for p in self.params])
        per_sweep: np.ndarray = values[self.cell_of_sweep]
        return per_sweep


def _command_events(batch: SweepBatch, dt: float) -> dict[int, list[tuple[int, float]]]:
    """Step index -> [(sweep, new command current)] at each step edge."""
    events: dict[int, list[tuple[int, float]]] = {}
    hold = batch.column("holding_na")
    for i in range(len(batch.amp_na)):
        on, off = round(batch.ton_ms[i] / dt), round(batch.toff_ms[i] / dt)
        events.setdefault(on, []).append((i, hold[i] + batch.amp_na[i]))
        events.setdefault(off, []).append((i, hold[i]))
    return events


def _noise_chunk(batch: SweepBatch, n_steps: int) -> np.ndarray:
    """Draw intrinsic current noise, cell by cell.

    So a cell's traces do not depend on the other cells of the batch.
    """
    cells = batch.cell_of_sweep
    parts = [
        batch.rngs[c].standard_normal((n_steps, int(np.sum(cells == c))))
        for c in range(len(batch.params))
    ]
    noise: np.ndarray = np.concatenate(parts, axis=1) * batch.column("noise_na")
    return noise


def integrate(batch: SweepBatch) -> np.ndarray:
    """Integrate every sweep of the batch; returns the sampled voltage (mV)."""
    dt, every = SIM_DT_MS, int(round(RECORD_DT_MS / SIM_DT_MS))
    fast, slow = _rate_tables(dt)
    c_m, g_l, e_l = (
        batch.column(a) for a in ("capacitance_nf", "g_leak_us", "e_leak_mv")
    )
    g_na, g_k, g_m = (batch.column(a) for a in ("g_na_us", "g_kd_us", "g_m_us"))
    g_h, v_t = batch.column("g_h_us"), batch.column("v_t_mv")
    command = batch.column("holding_na").astype(float)
    rest = np.array([resting_potential(p) for p in batch.params])
    v = rest[batch.cell_of_sweep]
    gates = fast[::2, _grid_index(v - v_t)]
    slow_gates = slow[::2, _grid_index(v)]
    n_steps = int(round(float(np.max(batch.tend_ms)) / dt))
    out = np.empty((len(v), n_steps // every))
    events = _command_events(batch, dt)
    for k in range(n_steps):
        if k % _NOISE_CHUNK == 0:
            noise = _noise_chunk(batch, _NOISE_CHUNK)
        for sweep, value in events.get(k, ()):
            command[sweep] = value
        table = fast[:, _grid_index(v - v_t)]
        gates = table[::2] + (gates - table[::2]) * table[1::2]
        table = slow[:, _grid_index(v)]
        slow_gates = table[::2] + (slow_gates - table[::2]) * table[1::2]
        m, h, n = gates
        gna = g_na * m**3 * h
        gk = g_k * n**4 + g_m * slow_gates[0]
        gh = g_h * slow_gates[1]
        total = g_l + gna + gk + gh
        drive = g_l * e_l + gna * E_NA_MV + gk * E_K_MV + gh * E_H_MV
        v_inf = (drive + command + noise[k % _NOISE_CHUNK]) / total
        v = v_inf + (v - v_inf) * np.exp(-dt * total / c_m)
        if k % every == 0:
            out[:, k // every] = v
    return out


def count_spikes(voltage: np.ndarray, ton_ms: float, toff_ms: float) -> int:
    """Upward crossings of :data:`SPIKE_LEVEL_MV` between ``ton_ms`` and ``toff_ms``."""
    start, stop = int(ton_ms / RECORD_DT_MS), int(toff_ms / RECORD_DT_MS)
    above = voltage[start:stop] > SPIKE_LEVEL_MV
    return int(np.count_nonzero(above[1:] & ~above[:-1]))


def steady_state_current(params: CellParameters, v_mv: np.ndarray) -> np.ndarray:
    """Membrane current (nA) with every gate at its steady state, at ``v_mv``."""
    fast, slow = _rate_tables(SIM_DT_MS)
    i, j = _grid_index(np.asarray(v_mv) - params.v_t_mv), _grid_index(np.asarray(v_mv))
    m, h, n = fast[0][i], fast[2][i], fast[4][i]
    current: np.ndarray = (
        params.g_leak_us * (v_mv - params.e_leak_mv)
        + (params.g_kd_us * n**4 + params.g_m_us * slow[0][j]) * (v_mv - E_K_MV)
        + params.g_h_us * slow[2][j] * (v_mv - E_H_MV)
        + params.g_na_us * m**3 * h * (v_mv - E_NA_MV)
    )
    return current


def resting_potential(params: CellParameters) -> float:
    """Find the resting potential (mV) of a cell under its holding current.

    The most hyperpolarised potential where the holding current balances the
    steady-state membrane current; the integration starts there, at steady state.
    """
    v = np.arange(-110.0, params.v_t_mv + 5.0, _DV)
    balance = steady_state_current(params, v) - params.holding_na
    crossing = np.flatnonzero((balance[:-1] < 0) & (balance[1:] >= 0))
    return float(v[crossing[0]]) if crossing.size else params.e_leak_mv


def rheobase_guess(params: CellParameters) -> float:
    """Guess the rheobase (nA, above holding) from the steady-state I-V.

    Calibrated on random cells: the rheobase of a 2 s step is about 0.88 times the
    steady-state current 1 mV above ``VT``.
    """
    at_threshold = float(steady_state_current(params, np.array(params.v_t_mv + 1.0)))
    return max(0.02, 0.88 * (at_threshold - params.holding_na))
