"""PDF reports (efex_gui.report) on fake cells: file names; fixes §9.1-14, 23, 25."""

from __future__ import annotations

import re
import warnings
from types import SimpleNamespace
from typing import TYPE_CHECKING

import numpy as np
import pytest

from efex_gui import report
from efex_gui.core.extraction.protocol import Protocol
from efex_gui.core.targets.target import EFeatureTarget

if TYPE_CHECKING:
    from pathlib import Path

DT = 0.1  # ms


class FakeRecording:
    """Duck-typed recording with what the report reads."""

    def __init__(self, protocol: str, amp: float, spikes: float, n: int = 4000) -> None:
        self.protocol_name = protocol
        self.t = np.arange(n) * DT
        self.current = np.where((self.t > 50) & (self.t < 350), amp, 0.0)
        rng = np.random.default_rng(int(amp * 1000))
        self.voltage = -70 + 20 * self.current + rng.normal(0, 0.1, n)
        self.amp, self.hypamp, self.amp_rel = amp, 0.0, 100 * amp / 0.1
        self.id, self.repetition, self.name = f"sweep{amp}", None, f"sweep{amp}"
        self.peak_time = [60.0, 120.0] if spikes else None
        self.auto_threshold = -40.0
        self.efeatures = {"Spikecount": spikes}
        self.files = [f"{protocol}_{amp}.ibw"]

    def generate(self):
        return self.t, self.current

    def call_efel(self, features, settings):
        return {"voltage_base": np.array([-70.0]), "current_base": np.array([0.0])}


def fake_cell(name: str, protocol: str = "IDRest") -> SimpleNamespace:
    recordings = [
        FakeRecording(protocol, amp, spikes)
        for amp, spikes in [(0.2, 5.0), (0.1, 0.0), (0.15, 3.0)]
    ]
    return SimpleNamespace(
        name=name,
        recordings=recordings,
        get_recordings_by_protocol_name=lambda p: [
            r for r in recordings if r.protocol_name == p
        ],
    )


def protocol_for(cells, amplitude=150.0) -> Protocol:
    target = EFeatureTarget(None, "Spikecount", "IDRest", amplitude, 30)
    protocol = Protocol("IDRest", amplitude, 30, [target], 0.1)
    for cell in cells:
        for rec in cell.recordings:
            if abs(rec.amp_rel - amplitude) < 30:
                protocol.append(rec)
    return protocol


def _names(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*.pdf")}


def test_report_files_with_builtin_map(tmp_path: Path) -> None:
    cells = [fake_cell("A"), fake_cell("B")]
    written = report.plot_all_recordings_efeatures(
        cells, [protocol_for(cells)], output_dir=tmp_path
    )
    assert {p.relative_to(tmp_path).as_posix() for p in written} == _names(tmp_path)
    assert _names(tmp_path) == {
        "A/A_IDRest_recordings.pdf",
        "B/B_IDRest_recordings.pdf",
        "legend.pdf",
        "IDRest_Spikecount_amp.pdf",
        "IDRest_Spikecount_amp_rel.pdf",
        # §9.1-14 (fixed): BluePyEfe writes these only with a non-builtin map
        "A/A_IDRest_Spikecount_amp.pdf",
        "A/A_IDRest_Spikecount_amp_rel.pdf",
        "B/B_IDRest_Spikecount_amp.pdf",
        "B/B_IDRest_Spikecount_amp_rel.pdf",
    }


def test_recordings_are_paginated(tmp_path: Path) -> None:
    cell = fake_cell("A")
    cell.recordings = cell.recordings * 5  # 15 recordings -> 2 pages
    pdf = report.plot_cell_recordings(cell, tmp_path)[0]
    assert len(re.findall(rb"/Type\s*/Page(?!s)", pdf.read_bytes())) == 2


def test_low_memory_cells_are_skipped(tmp_path: Path) -> None:
    cell = fake_cell("A")
    for rec in cell.recordings:
        rec.voltage = None
    assert report.plot_cell_recordings(cell, tmp_path) == []


def test_impedance_uses_the_trace_sampling_step(tmp_path: Path) -> None:
    # §9.1-25 (fixed): BluePyEfe scales the axis with interp_step (0.025 ms)
    recording = FakeRecording("SineSpec", 0.1, 0.0, n=20000)
    freq, impedance = report._impedance(recording)
    duration_s = 20000 * DT / 1000.0
    assert freq[0] == pytest.approx(1 / duration_s)
    assert freq.max() <= report.IMPEDANCE_MAX_FREQ
    assert impedance.max() == pytest.approx(1.0)


def test_sinespec_impedance_files_without_deprecation(tmp_path: Path) -> None:
    # §9.1-23 (fixed): no scipy.ndimage.filters import
    cell = fake_cell("A", protocol="SineSpec")
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        report.plot_cell_recordings(cell, tmp_path)
    impedance = sorted((tmp_path / "A" / "impedance").glob("*.pdf"))
    assert [p.name for p in impedance] == [
        f"A_SineSpec_{i}_{rec.name}_impedance.pdf"
        for i, rec in enumerate(sorted(cell.recordings, key=lambda r: r.amp))
    ]
