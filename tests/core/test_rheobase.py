"""Rheobase strategies (spec §4, §10.2) and the compatibility switches."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import numpy as np
import pytest

from efex_gui.core.errors import SettingsError
from efex_gui.core.recordings.cell import Cell
from efex_gui.core.rheobase.strategies import (
    compute_rheobase,
    compute_rheobase_flush,
    compute_rheobase_interpolation,
    compute_rheobase_majority_bin,
    get_list_spiking_amplitude,
)
from tests.core.ecode_data import b6b8_files


@pytest.fixture(scope="module")
def b6b8_cells():
    cells = []
    for name in ("B6", "B8"):
        cell = Cell(name)
        cell.read_recordings(b6b8_files(name), "IDRest")
        cells.append(cell)
    return cells


def _rheobases(cells, strategy, settings=None, **kwargs):
    for cell in cells:
        cell.rheobase = None
    compute_rheobase(cells, ["IDRest"], strategy, settings, **kwargs)
    return [cell.rheobase for cell in cells]


@pytest.mark.parametrize(
    ("strategy", "settings", "expected"),
    [
        ("absolute", None, (0.118744, 0.093745)),
        ("flush", None, (0.118744, 0.093745)),
        ("flush", {"upper_bound_spikecount": 4}, (None, None)),
        ("majority", None, (0.133744, 0.108745)),
        ("interpolation", None, (None, None)),
    ],
)
def test_b6b8_rheobase_by_strategy(b6b8_cells, strategy, settings, expected):
    found = _rheobases(b6b8_cells, strategy, settings)
    for value, wanted in zip(found, expected, strict=True):
        if wanted is None:
            assert value is None
        else:
            assert value == pytest.approx(wanted, abs=1e-6)


def test_b6b8_global_rheobase(b6b8_cells):
    found = _rheobases(b6b8_cells, "absolute")
    assert np.nanmean(found) == pytest.approx(0.1062448, abs=1e-7)


def test_majority_fixed_binning(b6b8_cells):
    step = 0.01
    fixed = _rheobases(b6b8_cells, "majority", {"binning": "fixed", "min_step": step})
    compat = _rheobases(b6b8_cells, "majority", {"min_step": step})
    for cell, value, old in zip(b6b8_cells, fixed, compat, strict=True):
        lowest = min(r.amp for r in cell.recordings)
        # the centre of the bin that holds the lowest (spiking) sweep
        assert value == pytest.approx(lowest + step / 2)
        assert old == pytest.approx(value + step)
    with pytest.raises(SettingsError):
        _rheobases(b6b8_cells, "majority", {"binning": "other"})


def test_unknown_strategy_and_setting(b6b8_cells):
    with pytest.raises(SettingsError, match=r"Rheobase strategy bogus unknown"):
        compute_rheobase(b6b8_cells, ["IDRest"], "bogus")
    with pytest.raises(TypeError):
        compute_rheobase(b6b8_cells, ["IDRest"], "absolute", {"nope": 1})


def test_protocol_names_are_exact(b6b8_cells):
    assert _rheobases(b6b8_cells, "absolute", None) != [None, None]
    for cell in b6b8_cells:
        cell.rheobase = None
    compute_rheobase(b6b8_cells, ["idrest"])
    assert [c.rheobase for c in b6b8_cells] == [None, None]


# ----------------------------------------------------------------- fake cells
def _fake_cell(pairs, protocol="IDRest"):
    recordings = [
        SimpleNamespace(protocol_name=protocol, amp=amp, spikecount=count)
        for amp, count in pairs
    ]
    cell = Cell("fake")
    cell.recordings = recordings
    return cell


def test_eligible_sweeps_are_sorted_and_none_counts_dropped(caplog):
    cell = _fake_cell([(0.3, 5), (0.1, None), (0.005, 2), (0.2, 0)])
    with caplog.at_level(logging.WARNING):
        amps, counts = get_list_spiking_amplitude(cell, ["IDRest"])
    assert amps == [0.005, 0.2, 0.3]
    assert counts == [2, 0, 5]
    assert "low current amplitude" in caplog.text


def test_majority_without_eligible_sweeps_gives_none_and_a_warning():
    cell = _fake_cell([(0.1, None), (0.2, None)])
    compute_rheobase_majority_bin(cell, ["IDRest"])
    assert cell.rheobase is None
    assert any("majority" in w for w in cell.warnings)


def test_flush_length_needs_consecutive_spiking_sweeps():
    cell = _fake_cell([(0.1, 1), (0.2, 0), (0.3, 2), (0.4, 3), (0.5, 4)])
    compute_rheobase_flush(cell, ["IDRest"], flush_length=2)
    assert cell.rheobase == 0.3
    cell = _fake_cell([(0.1, 1), (0.2, 2)])
    compute_rheobase_flush(cell, ["IDRest"], flush_length=2)
    assert cell.rheobase is None


def test_interpolation_fits_amplitude_at_one_spike():
    cell = _fake_cell([(0.1, 0), (0.2, 2), (0.3, 4)])
    compute_rheobase_interpolation(cell, ["IDRest"])
    assert cell.rheobase == pytest.approx(0.15)


def test_stale_rheobase_survives_unless_reset(b6b8_cells):
    for cell in b6b8_cells:
        cell.rheobase = 0.5
    compute_rheobase(b6b8_cells, ["IDRest"], "flush", {"upper_bound_spikecount": 4})
    assert [c.rheobase for c in b6b8_cells] == [0.5, 0.5]  # BluePyEfe keeps it
    compute_rheobase(
        b6b8_cells, ["IDRest"], "flush", {"upper_bound_spikecount": 4}, reset=True
    )
    assert [c.rheobase for c in b6b8_cells] == [None, None]


def test_overrides_replace_the_strategy_and_set_relative_amplitudes(b6b8_cells):
    # the flush strategy with a bound finds none; the override still applies
    assert _rheobases(
        b6b8_cells,
        "flush",
        {"upper_bound_spikecount": 4},
        rheobase_overrides={"B8": 0.2},
    ) == [None, 0.2]
    assert _rheobases(
        b6b8_cells, "absolute", rheobase_overrides={"B6": 0.25}
    ) == pytest.approx([0.25, 0.093745], abs=1e-6)
    recording = b6b8_cells[0].recordings[0]
    assert recording.amp_rel == pytest.approx(100 * recording.amp / 0.25)


def test_matches_bluepyefe_strategies(b6b8_cells):
    rheobase = pytest.importorskip("bluepyefe.rheobase")
    ours = {
        "absolute": _rheobases(b6b8_cells, "absolute"),
        "majority": _rheobases(b6b8_cells, "majority"),
        "flush": _rheobases(b6b8_cells, "flush"),
    }
    theirs_fn = {
        "absolute": rheobase.compute_rheobase_absolute,
        "majority": rheobase.compute_rheobase_majority_bin,
        "flush": rheobase.compute_rheobase_flush,
    }
    for name, fn in theirs_fn.items():
        values = []
        for cell in b6b8_cells:
            cell.rheobase = None
            fn(cell, ["IDRest"])
            values.append(cell.rheobase)
        assert values == ours[name], name
