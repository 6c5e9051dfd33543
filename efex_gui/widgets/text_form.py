"""TextForm: one form for everything a text file still needs, with a live preview.

A text export says nothing about itself: which column is time, voltage or current,
the units, ``dt`` when there is no time column, the step when there is no current.
The form asks for all of it at once (the core lists what is missing:
:func:`efex_gui.core.readers.text.missing_text_metadata`) and draws the trace as the
reader will read it, so the person sees the result before applying.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from efex_gui.widgets.setting_fields import metadata_field

if TYPE_CHECKING:
    from efex_gui.app.controller import SessionController
    from efex_gui.core.session.dataset import EntryKey

#: the keys the form asks, in order, with their label
FIELDS = {
    "columns": "Columns (t, v, i, skip)",
    "v_unit": "Voltage unit",
    "t_unit": "Time unit",
    "dt": "dt (in the time unit)",
    "i_unit": "Current unit",
    "ton": "Step start ton (ms)",
    "toff": "Step end toff (ms)",
    "amp": "Step amplitude (current unit)",
    "hypamp": "Holding current (current unit)",
}
NUMBERS = ("dt", "ton", "toff", "amp", "hypamp")


class TextForm(QDialog):
    """Ask every missing metadata key of one text-file entry at once.

    Parameters
    ----------
    controller : SessionController
        Applies the metadata (one undoable edit).
    key : EntryKey
        The entry of the text file.
    """

    def __init__(
        self,
        controller: SessionController,
        key: EntryKey,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.controller, self.key = controller, key
        self.config = dict(controller.dataset.config(key))
        self.setWindowTitle(f"Describe {self._file_name()}")
        self.resize(900, 640)
        self.fields: dict[str, QLineEdit] = {}
        form = QFormLayout()
        for name, label in FIELDS.items():
            widget, edit = metadata_field(name, self)
            edit.setText(_text(self.config.get(name)))
            edit.textChanged.connect(self.update_preview)
            form.addRow(label, widget)
            self.fields[name] = edit
        self.status = QLabel(self, wordWrap=True)
        self.plot = pg.GraphicsLayoutWidget(self)
        self.plot.setBackground("w")
        self.voltage_plot = self.plot.addPlot(row=0, col=0)
        self.current_plot = self.plot.addPlot(row=1, col=0)
        self.current_plot.setXLink(self.voltage_plot)
        for plot in (self.voltage_plot, self.current_plot):  # the units are the file's
            for side in ("left", "bottom"):  # 0.2 nA is not "200 mnA"
                plot.getAxis(side).enableAutoSIPrefix(False)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Apply
            | QDialogButtonBox.StandardButton.Cancel,
            self,
        )
        self.apply_button = buttons.button(QDialogButtonBox.StandardButton.Apply)
        self.apply_button.clicked.connect(self.apply)
        buttons.rejected.connect(self.reject)
        top = QHBoxLayout()
        top.addLayout(form, 1)
        top.addWidget(self.plot, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(top, 1)
        layout.addWidget(self.status)
        layout.addWidget(buttons)
        self.update_preview()

    def _file_name(self) -> str:
        return str(self.config.get("filepath") or "the text file")

    def values(self) -> dict[str, Any]:
        """Return the form's values, numbers parsed; empty fields left out."""
        values: dict[str, Any] = {}
        for name, edit in self.fields.items():
            text = edit.text().strip()
            if not text:
                continue
            if name == "columns":
                values[name] = [c.strip() for c in text.replace(";", ",").split(",")]
            elif name in NUMBERS:
                try:
                    values[name] = float(text)
                except ValueError:
                    values[name] = text  # the preview says it is not a number
            else:
                values[name] = text
        return values

    def update_preview(self) -> None:
        """Read the file with the form's values and draw it (or say what is wrong)."""
        from efex_gui.core.readers import read_file
        from efex_gui.core.readers.raw import raw_trace

        config = {**self.controller.dataset.absolute_config(self.key), **self.values()}
        for plot in (self.voltage_plot, self.current_plot):
            plot.clear()
        try:
            (trace,) = read_file(config)
        except Exception as exc:  # the form shows every problem, never raises
            self.status.setText(f"<span style='color:#c62828'>{exc}</span>")
            self.apply_button.setEnabled(False)
            return
        raw = raw_trace(trace, config)
        self.voltage_plot.plot(raw.t, raw.voltage, pen=pg.mkPen((25, 90, 170)))
        if raw.current is not None:
            self.current_plot.plot(raw.t, raw.current, pen=pg.mkPen((25, 90, 170)))
        self.voltage_plot.setLabel("left", "Voltage", units=raw.v_label)
        self.current_plot.setLabel("left", "Current", units=raw.i_label)
        self.current_plot.setLabel("bottom", "Time", units=raw.t_label)
        span = raw.t[-1] if raw.t.size else 0.0
        self.status.setText(
            f"{raw.voltage.size} samples, {span:.6g} {raw.t_label}; "
            f"Vm median {float(np.median(raw.voltage)):.4g} {raw.v_label}"
        )
        self.apply_button.setEnabled(True)

    def apply(self) -> None:
        """Write the values into the entry's metadata (one undoable edit)."""
        changes = {k: v for k, v in self.values().items() if self.config.get(k) != v}
        if changes:
            self.controller.set_metadata([self.key], changes)
        self.accept()


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)
