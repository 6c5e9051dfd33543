"""Missing protocols, the protocol mapping, curves, waveforms, cursors and outputs."""

from __future__ import annotations

import csv
import json
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

from efex_gui.core.analysis.cell_summary import (
    MEASURES,
    SummaryContext,
    summarize_cell,
)
from efex_gui.core.analysis.curves import fi_curve, iv_curves, mean_curve
from efex_gui.core.analysis.display import cursor_readout, low_pass, subtract_baseline
from efex_gui.core.analysis.protocol_map import MeasureProtocols
from efex_gui.core.analysis.summary_io import (
    summary_document,
    summary_table,
    write_summary,
)
from efex_gui.core.analysis.waveforms import (
    aligned_first_spike,
    average_spike,
    phase_plot,
)
from efex_gui.core.errors import SettingsError
from tests.core.analysis.conftest import DEMO_EFEL_SETTINGS

if TYPE_CHECKING:
    from pathlib import Path


def _context(protocols: MeasureProtocols | None = None) -> SummaryContext:
    return SummaryContext(
        protocols=protocols or MeasureProtocols(),
        protocols_rheobase=["IDthresh", "IDRest"],
        efel_settings=dict(DEMO_EFEL_SETTINGS),
    )


def test_missing_protocol_gives_none_with_the_reason(passive_cell: Any) -> None:
    summary = passive_cell.summaries["Passive"]
    fi = summary.measures["fi_slope_Hz_per_nA"]
    assert fi.value is None
    assert fi.n == 0
    assert fi.note == "no IDrest or IDthresh sweeps"
    assert summary.measures["ap_width_ms"].reason == "no IDrest or IDthresh sweeps"
    assert summary.measures["rheobase_nA"].reason == "no spiking IV sweep"
    assert summary.to_json()["fi_slope_Hz_per_nA"] is None


def test_the_mapping_can_be_changed(demo_cells: Any) -> None:
    cell = demo_cells.cells["SimCell1"]
    context = _context(MeasureProtocols.from_dict({"input_resistance": ["IDRest"]}))
    summary = summarize_cell(cell, context)
    rin = summary.measures["input_resistance_MOhm"]
    assert rin.value is None
    assert rin.reason == "no IDRest hyperpolarising steps"
    # only the IDRest sweeps feed the RMP when asked
    context = _context(MeasureProtocols.from_dict({"rmp": ["idrest"]}))
    rmp = summarize_cell(cell, context).measures["rmp_mV"]
    assert {r.protocol_name for r in rmp.sweeps} == {"IDRest"}
    with pytest.raises(SettingsError, match="unknown measure 'rin'"):
        MeasureProtocols.from_dict({"rin": ["IV"]})
    with pytest.raises(SettingsError, match="list of protocol names"):
        MeasureProtocols.from_dict({"rmp": "IV"})


def test_single_sweep_measure_says_so(demo_cells: Any) -> None:
    cell = demo_cells.cells["SimCell1"]
    iv = cell.get_recordings_by_protocol_name("IV")
    context = _context()
    one = [r for r in cell.recordings if r.protocol_name != "IV" or r is iv[0]]
    stub = type("OneIV", (), {"name": cell.name, "recordings": one, "rheobase": None})
    rin = summarize_cell(stub(), context).measures["input_resistance_MOhm"]
    assert rin.n == 1
    assert rin.note == "from a single sweep"
    v = context.cache.get(iv[0], context.efel_settings)
    expected = (
        v.get("steady_state_voltage_stimend") - v.get("voltage_base")
    ) / v.amp_na
    assert rin.value == pytest.approx(expected)


def test_json_csv_and_xlsx_outputs(demo_cells: Any, tmp_path: Path) -> None:
    summaries = list(demo_cells.summaries.values())
    document = summary_document(summaries)
    assert list(document["cells"]) == ["SimCell1", "SimCell2"]
    cell = document["cells"]["SimCell1"]
    assert list(cell) == [*MEASURES, "n"]
    assert cell["n"]["input_resistance_MOhm"] == 6
    path = write_summary(summaries, tmp_path / "cells.json")
    assert json.loads(path.read_text()) == json.loads(json.dumps(document))
    written = write_summary(summaries, tmp_path / "c.csv")
    rows = list(csv.reader(written.read_text(encoding="utf-8").splitlines()))
    assert rows[0][:3] == ["cell", "rheobase_nA", "input_resistance_MOhm"]
    assert float(rows[1][2]) == pytest.approx(cell["input_resistance_MOhm"])
    from openpyxl import load_workbook

    sheet = load_workbook(write_summary(summaries, tmp_path / "c.xlsx")).active
    assert [c.value for c in sheet[1]] == summary_table(summaries)[0]
    assert sheet.cell(2, 3).value == pytest.approx(cell["input_resistance_MOhm"])
    with pytest.raises(SettingsError, match=r"\.csv, \.json, \.xlsx"):
        write_summary(summaries, tmp_path / "c.txt")


def test_fi_and_iv_curves_link_their_sweeps(demo_cells: Any) -> None:
    cell = demo_cells.cells["SimCell1"]
    context = _context()
    fi = fi_curve(cell, context)
    assert len(fi.points) == 8 + 13  # IDRest + IDthresh
    assert np.all(np.diff(fi.x) >= 0)
    for point in fi.points:
        r = point.recording
        window = (r.t >= r.ton) & (r.t <= r.toff)
        above = r.voltage[window] > -20.0
        crossings = np.count_nonzero(above[1:] & ~above[:-1])
        # efel's count (peaks inside the window) may differ by the edge spike
        spikes = point.y * (r.toff - r.ton) / 1000.0
        assert abs(spikes - crossings) <= 1
        assert spikes == pytest.approx(round(spikes))
    steady, peak = iv_curves(cell, context)
    assert len(steady.points) == 8  # every IV step stays below threshold
    hyper = [p for p in peak.points if p.x < 0]
    for p_peak, p_steady in zip(hyper, steady.points, strict=False):
        assert p_peak.recording is p_steady.recording
        assert p_peak.y <= p_steady.y  # the sag: the peak is below the steady state


def test_mean_curve_bins_cells_and_gives_sem() -> None:
    from efex_gui.core.analysis.curves import Curve, CurvePoint

    a = Curve("a", "fi", (CurvePoint(0.1, 10.0, None), CurvePoint(0.2, 20.0, None)))
    b = Curve("b", "fi", (CurvePoint(0.1, 14.0, None), CurvePoint(0.1, 16.0, None)))
    mean = mean_curve([a, b], bin_width=0.05)
    assert mean.x.tolist() == pytest.approx([0.1, 0.2])
    assert mean.mean.tolist() == pytest.approx([12.5, 20.0])  # b's bin first: 15
    assert mean.sem[0] == pytest.approx(np.std([10.0, 15.0], ddof=1) / np.sqrt(2))
    assert np.isnan(mean.sem[1])
    assert mean.n.tolist() == [2, 1]
    relative = mean_curve([a, b], bin_width=10, rheobases={"a": 0.1, "b": None})
    assert relative.x.tolist() == [100.0, 200.0]
    assert relative.n.tolist() == [1, 1]


def test_phase_plot_and_aligned_first_spikes(demo_cells: Any) -> None:
    cell = demo_cells.cells["SimCell1"]
    context = _context()
    spiking = [
        r for r in cell.get_recordings_by_protocol_name("IDRest") if r.spikecount
    ]
    plot = phase_plot(spiking[0])
    assert plot.voltage_mv.shape == plot.dvdt_mv_per_ms.shape
    assert plot.dvdt_mv_per_ms.max() > 100  # an action potential upstroke
    t = spiking[0].t
    assert len(plot.voltage_mv) == np.count_nonzero(
        (t >= spiking[0].ton) & (t <= spiking[0].toff)
    )
    spikes = [aligned_first_spike(r, context) for r in spiking[:3]]
    for spike in spikes:
        assert spike.time_ms[0] == pytest.approx(-3.0, abs=0.11)
        assert np.interp(0.0, spike.time_ms, spike.voltage_mv) == pytest.approx(
            spike.threshold_mv, abs=1.0
        )
        assert spike.voltage_mv.max() > spike.threshold_mv + 50
    mean = average_spike(spikes)
    assert mean.threshold_mv == pytest.approx(np.mean([s.threshold_mv for s in spikes]))
    assert mean.voltage_mv.shape == mean.time_ms.shape
    quiet = next(r for r in cell.get_recordings_by_protocol_name("IV"))
    assert aligned_first_spike(quiet, context) is None


def test_cursors_baseline_and_low_pass() -> None:
    t = np.arange(0, 100, 0.1)
    v = np.where(t >= 50, -60.0, -70.0)
    readout = cursor_readout(t, v, 60.0, 40.0)
    assert readout.dt_ms == pytest.approx(-20.0)
    assert readout.dv_mv == pytest.approx(-10.0)
    assert readout.mean_mv == pytest.approx(-65.0, abs=0.3)
    shifted = subtract_baseline(t, v, 50.0)
    assert shifted[0] == 0.0
    assert shifted[-1] == 10.0
    rng = np.random.default_rng(0)
    noisy = v + rng.normal(0, 1.0, len(v))
    smooth = low_pass(noisy, 0.1, 500.0)
    assert np.std(smooth[:400] - v[:400]) < 0.4 * np.std(noisy[:400] - v[:400])
    assert low_pass(noisy, 0.1, 6000.0) is not None
    assert np.array_equal(low_pass(noisy, 0.1, 6000.0), noisy)  # above Nyquist


def test_a_negative_input_resistance_is_refused() -> None:
    from efex_gui.core.analysis.sweep_values import SweepValues

    # what wrongly detected windows give: a "deflection" that shrinks with the step
    steps = [
        SweepValues(
            None,
            amp,
            1000.0,
            {"voltage_base": -70.0, "steady_state_voltage_stimend": -70.0 - amp},
        )
        for amp in (-0.1, -0.05)
    ]

    class Fixed(SummaryContext):
        def sweeps(self, cell: Any, protocols: Any) -> list[SweepValues]:
            return steps

    cell = type("Stub", (), {"name": "c", "recordings": [], "rheobase": None})()
    rin = summarize_cell(cell, Fixed()).measures["input_resistance_MOhm"]
    assert rin.value is None
    assert rin.n == 0
    assert rin.note == (
        "the IV/IDhyperpol steps give a slope of -1 MΩ (check their stimulus windows)"
    )
