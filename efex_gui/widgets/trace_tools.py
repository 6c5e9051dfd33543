"""Measuring cursors and display-only filters for the trace plot.

:class:`TraceTools` adds to a :class:`~efex_gui.widgets.trace_plot.TracePlot` a row
of toggles: two vertical cursors on the voltage plot (draggable) with a readout of
Δt, ΔV and the mean voltage between them (first drawn sweep), a baseline subtraction
and a low-pass filter. The filters change only what is drawn
(:func:`efex_gui.core.analysis.display.subtract_baseline` and ``low_pass`` applied to
the drawn copy); the extraction reads the recordings untouched.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QSpinBox, QWidget

from efex_gui.core.analysis.display import (
    CursorReadout,
    cursor_readout,
    low_pass,
    subtract_baseline,
)

CURSOR_PENS = ((0, 150, 136), (156, 39, 176))


class TraceTools(QObject):
    """Cursors and display filters bound to one trace plot.

    Parameters
    ----------
    plot : TracePlot
        The trace plot; its ``display_transform`` is set here.
    """

    #: the cursor readout changed (CursorReadout or None)
    readout_changed = Signal(object)

    def __init__(self, plot: Any) -> None:
        super().__init__(plot)
        self.plot = plot
        self.bar = QWidget(plot)
        self.cursors_box = QCheckBox("Cursors", self.bar)
        self.cursors_box.setToolTip("Two cursors: Δt, ΔV and the mean between them")
        self.baseline_box = QCheckBox("Subtract baseline", self.bar)
        self.baseline_box.setToolTip(
            "Display only: each sweep minus its median before the stimulus"
        )
        self.filter_box = QCheckBox("Low-pass", self.bar)
        self.filter_box.setToolTip(
            "Display only: 4-pole Butterworth, zero phase; the extraction reads the "
            "raw trace"
        )
        self.cutoff = QSpinBox(self.bar)
        self.cutoff.setRange(10, 20000)
        self.cutoff.setValue(1000)
        self.cutoff.setSuffix(" Hz")
        self.readout = QLabel("", self.bar)
        layout = QHBoxLayout(self.bar)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.cursors_box, self.baseline_box, self.filter_box,
                       self.cutoff):  # fmt: skip
            layout.addWidget(widget)
        layout.addWidget(self.readout, 1)
        plot.layout().insertWidget(1, self.bar)
        self.cursors = [
            pg.InfiniteLine(angle=90, movable=True, pen=pg.mkPen(c, width=1.5))
            for c in CURSOR_PENS
        ]
        for cursor in self.cursors:
            cursor.sigPositionChanged.connect(self.update_readout)
        self.cursors_box.toggled.connect(self.show_cursors)
        for box in (self.baseline_box, self.filter_box):
            box.toggled.connect(plot.redraw)
        self.cutoff.valueChanged.connect(
            lambda _v: self.filter_box.isChecked() and plot.redraw()
        )
        plot.display_transform = self.transform
        plot.drawn.connect(self._on_drawn)

    # --- filters ------------------------------------------------------------------
    def transform(self, recording: Any, voltage: np.ndarray) -> np.ndarray:
        """Return the voltage as drawn: filtered and/or baseline-subtracted."""
        t = np.asarray(recording.t, dtype=float)
        v = np.asarray(voltage, dtype=float)
        if self.filter_box.isChecked() and len(t) > 1:
            v = low_pass(v, float(t[1] - t[0]), float(self.cutoff.value()))
        if self.baseline_box.isChecked():
            v = subtract_baseline(t, v, getattr(recording, "ton", None))
        return v

    # --- cursors --------------------------------------------------------------------
    def show_cursors(self, on: bool) -> None:
        """Show the two cursors (placed at 1/3 and 2/3 of the view) or hide them."""
        vplot = self.plot.voltage_plot
        for cursor in self.cursors:
            if cursor.scene() is not None:
                vplot.removeItem(cursor)
        if on:
            (x0, x1), _ = vplot.getViewBox().viewRange()
            for cursor, f in zip(self.cursors, (1 / 3, 2 / 3), strict=True):
                cursor.setValue(x0 + f * (x1 - x0))
                vplot.addItem(cursor)
        self.update_readout()

    def _on_drawn(self, _count: int) -> None:
        # the plot clears every item on redraw: put the cursors back
        if self.cursors_box.isChecked():
            for cursor in self.cursors:
                if cursor.scene() is None:
                    self.plot.voltage_plot.addItem(cursor)
        self.update_readout()

    def measure(self) -> CursorReadout | None:
        """Measure the cursors' readout on the first drawn sweep (None if not shown)."""
        items = self.plot.voltage_items
        if not self.cursors_box.isChecked() or not items:
            return None
        t, v = items[0].getOriginalDataset()
        if t is None or len(t) < 2:
            return None
        t1, t2 = (float(c.value()) for c in self.cursors)
        return cursor_readout(t, v, t1, t2)

    def update_readout(self, *_args: Any) -> None:
        """Refresh the readout label."""
        readout = self.measure()
        if readout is None:
            self.readout.setText("")
        else:
            self.readout.setText(
                f"Δt {readout.dt_ms:.2f} ms   ΔV {readout.dv_mv:.2f} mV   "
                f"mean {readout.mean_mv:.2f} mV (first sweep)"
            )
        self.readout_changed.emit(readout)

    def settings(self) -> dict[str, Any]:
        """Return the display settings (for a figure's provenance)."""
        return {
            "baseline_subtracted": self.baseline_box.isChecked(),
            "low_pass_hz": self.cutoff.value() if self.filter_box.isChecked() else None,
            "cursors_ms": [float(c.value()) for c in self.cursors]
            if self.cursors_box.isChecked()
            else None,
        }
