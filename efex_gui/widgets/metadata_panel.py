"""MetadataPanel: see and edit the metadata of the selected sweeps' files.

Shows, for one or many selected entries, the user's metadata (units, dt, ljp, ton,
toff, amp, hypamp; "(mixed)" when they differ, "(from file)" when unset), the first
selected sweep's stimulus window, amplitudes and spikes under a heading naming where
its window comes from (:data:`SOURCE_WORDING`), and plausibility problems with a
one-click fix (core :mod:`efex_gui.core.recordings.unit_checks`). "Apply" sends one
undoable ``set_metadata`` command with the fields the user changed; an emptied field
removes the key.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any, NamedTuple

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from efex_gui.app.controller import SessionController
from efex_gui.core.recordings.timing_consensus import stimulus_source
from efex_gui.core.recordings.unit_checks import (
    UnitSuggestion,
    check_metadata,
    check_units,
)
from efex_gui.widgets.controller_view import ControllerView
from efex_gui.widgets.setting_fields import metadata_field

if TYPE_CHECKING:
    from collections.abc import Mapping

    from efex_gui.core.recordings.recording import TimingSource
    from efex_gui.core.session.dataset import EntryKey

UNIT_FIELDS = ("i_unit", "v_unit", "t_unit")
NUMBER_FIELDS = ("dt", "ljp", "ton", "toff", "amp", "hypamp")
LABELS = {
    "i_unit": "Current unit", "v_unit": "Voltage unit", "t_unit": "Time unit",
    "dt": "dt (time unit)", "ljp": "LJP (mV)", "ton": "ton (ms)",
    "toff": "toff (ms)", "amp": "amp (current unit)", "hypamp": "hypamp (current unit)",
}  # fmt: skip
TIPS = {
    "i_unit": "Unit of the current trace (A, nA, pA ...). Empty: the file's own.",
    "v_unit": "Unit of the voltage trace (V, mV ...). Empty: the file's own.",
    "t_unit": "Unit of time for dt (s or ms). Empty: the file's own.",
    "dt": "Sampling interval, in the time unit. Empty: from the file.",
    "ljp": "Liquid junction potential (mV), subtracted from the voltage.",
    "ton": "Stimulus start (ms). Empty: the core detects the step.",
    "toff": "Stimulus end (ms). Empty: the core detects the step.",
    "amp": "Step amplitude, in the current unit. Empty: measured on the trace.",
    "hypamp": "Holding current, in the current unit. Empty: measured on the trace.",
}


class SourceWording(NamedTuple):
    """How the panel words one source of a sweep's stimulus window.

    Attributes
    ----------
    heading : str
        Ends the heading of the sweep's values ("Selected sweep <heading>"): the
        window, and amp/hypamp, spikes and threshold found with it.
    origin : str
        The "window from" row under the heading.
    """

    heading: str
    origin: str


#: The one place that words each ``timing_consensus`` source: the heading and the
#: "window from" row are read from the same entry, so they cannot disagree.
SOURCE_WORDING: dict[TimingSource, SourceWording] = {
    "user": SourceWording("in your window (metadata)", "your metadata (ton/toff)"),
    "file": SourceWording("in the file's protocol window", "the file's own protocol"),
    "consensus": SourceWording(
        "in the protocol's consensus window", "the protocol's consensus over its sweeps"
    ),
    "detected": SourceWording(
        "in its own detected window", "this sweep's own detection"
    ),
    "none": SourceWording("(no stimulus window)", "—"),
}
MIXED = "(mixed)"
FROM_FILE = "(from file)"


class MetadataPanel(ControllerView[SessionController]):
    """Form over the selected entries' metadata, with problems and fixes."""

    def _build(self) -> None:
        self.entries: list[EntryKey] = []
        self._shown: dict[str, str] = {}
        self.header = QLabel("No sweep selected", self)
        self.header.setWordWrap(True)
        self.fields: dict[str, QLineEdit] = {}
        forms = (QFormLayout(), QFormLayout())
        for position, name in enumerate((*UNIT_FIELDS, *NUMBER_FIELDS)):
            form = forms[0] if position < 5 else forms[1]
            widget, edit = metadata_field(name, self)
            form.addRow(LABELS[name], widget)
            edit.textEdited.connect(self._on_edited)
            tip = (
                f"{TIPS[name]}\nWith several files selected, a value typed here "
                "goes to all of them; an emptied field removes the key."
            )
            widget.setToolTip(tip)
            edit.setToolTip(tip)
            self.fields[name] = edit
        self.apply_button = QPushButton("Apply", self)
        self.apply_button.setToolTip(
            "Write the changed fields into the selected files' metadata "
            "(one undoable edit; the sweeps are read again)"
        )
        self.revert_button = QPushButton("Revert", self)
        self.revert_button.setToolTip("Forget the changes typed since the last Apply")
        self.apply_button.clicked.connect(self.apply)
        self.revert_button.clicked.connect(self.refresh)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.revert_button)
        buttons.addWidget(self.apply_button)
        forms[1].addRow(buttons)
        self.detected = QLabel(self)
        self.detected.setWordWrap(True)
        self.detected.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.detected.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
        )
        self.problems = QVBoxLayout()
        info = QVBoxLayout()
        info.addWidget(self.detected)
        info.addStretch(1)
        columns = QHBoxLayout()
        columns.addLayout(forms[0], 3)
        columns.addLayout(forms[1], 3)
        columns.addLayout(info, 3)
        body = QWidget(self)
        layout = QVBoxLayout(body)
        layout.addWidget(self.header)
        layout.addLayout(self.problems)  # first: a proposed fix is seen at once
        layout.addLayout(columns)
        layout.addStretch(1)
        # Long warnings never get cut off: the panel scrolls when it is short.
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(body)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        self.fix_buttons: list[QPushButton] = []
        self.controller.selection_changed.connect(self._on_selection_changed)
        self.controller.metadata_changed.connect(self.refresh)
        self.controller.entries_loaded.connect(self._on_entries_loaded)
        self.controller.qc_changed.connect(self._on_qc_changed)
        self.controller.session_changed.connect(self.refresh)
        self.refresh()

    def focus_fields(self) -> None:
        """Put the cursor in the first empty field (the trace plot's "Fix" button)."""
        empty = [e for e in self.fields.values() if not e.text()]
        (empty or list(self.fields.values()))[0].setFocus()

    # --- showing ------------------------------------------------------------------
    def _on_selection_changed(self, _sweeps: Any) -> None:
        # Nothing typed is lost: valid pending edits go to the files they were
        # typed for (one undoable command) before the panel shows the new ones.
        if self.entries and self.changes():
            self.apply()
        self.refresh()

    def refresh(self, *_args: Any) -> None:
        """Show the metadata of the controller's selected entries."""
        self.entries = self.controller.selected_entries()
        configs = [self.controller.dataset.config(k) for k in self.entries]
        self._shown = {}
        for name, edit in self.fields.items():
            values = {_text(c.get(name)) for c in configs}
            edit.setStyleSheet("")
            if len(values) == 1:
                (value,) = values
                edit.setText(value)
                edit.setPlaceholderText(FROM_FILE)
                self._shown[name] = value
            else:
                edit.setText("")
                edit.setPlaceholderText(MIXED if configs else "")
                self._shown[name] = ""
            edit.setEnabled(bool(configs))
        self.apply_button.setEnabled(False)
        self.revert_button.setEnabled(False)
        self._show_header(configs)
        self._show_detected_and_problems(configs)

    def _show_header(self, configs: list[Mapping[str, Any]]) -> None:
        if not configs:
            self.header.setText("No sweep selected")
        elif len(configs) == 1:
            key = self.entries[0]
            files = [
                str(configs[0][k])
                for k in ("filepath", "v_file", "i_file")
                if configs[0].get(k)
            ]
            self.header.setText(
                f"<b>{key.cell} / {key.protocol}</b><br>" + "<br>".join(files)
            )
        else:
            self.header.setText(f"<b>{len(configs)} files selected</b>")

    def _show_detected_and_problems(self, configs: list[Mapping[str, Any]]) -> None:
        self.fix_buttons = []  # they live in the problem rows deleted below
        while self.problems.count():
            item = self.problems.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                # hidden now: deleteLater waits for the event loop, and a row left
                # out of the layout would be drawn over the form until then
                widget.hide()
                widget.deleteLater()
        problems = [p for c in configs for p in check_metadata(c)]
        recording = self._first_recording()
        self.detected.setText(self._sweep_text(recording))
        suggestions = _unit_suggestions(recording) if recording is not None else []
        for text in dict.fromkeys(problems):
            self._add_problem(text)
        for suggestion in suggestions:
            self._add_problem(suggestion.message, suggestion)

    def _on_qc_changed(self, *_args: Any) -> None:
        if self.controller.selection:
            self.detected.setText(self._sweep_text(self._first_recording()))

    def _sweep_text(self, recording: Any | None) -> str:
        several = len(self.controller.selection) > 1
        return _sweep_values_text(recording, several) + self._qc_text()

    def _qc_text(self) -> str:
        """Describe the first selected sweep's QC results (flags first, then rest)."""
        from efex_gui.app.qc_actions import check_label

        if not self.controller.selection:
            return ""
        results = self.controller.store.qc_results(self.controller.selection[0])
        if not results:
            return ""
        rows = []
        for result in sorted(results, key=lambda r: not r.flagged):
            value = "n/a" if result.value is None else f"{result.value:.3g}"
            line = f"{check_label(result.check)}: {value} (≤ {result.threshold:g})"
            flag = f"<span style='color:#7b1fa2'>⚑ {line}</span>"
            rows.append(flag if result.flagged else line)
        return "<br><b>Automatic QC</b><br>" + "<br>".join(rows)

    def _first_recording(self) -> Any | None:
        for sweep in self.controller.selection[:1]:
            return self.controller.store.recording(sweep)
        return None

    def _add_problem(self, text: str, suggestion: UnitSuggestion | None = None) -> None:
        row = QHBoxLayout()
        label = QLabel(f"⚠ {text}", self)
        label.setWordWrap(True)
        label.setStyleSheet("color: #b26a00")
        row.addWidget(label, 1)
        if suggestion is not None and suggestion.proposed:
            key = "v_unit" if suggestion.quantity == "voltage" else "i_unit"
            button = QPushButton(f"Use {suggestion.proposed}", self)
            button.setToolTip(
                f"Put {suggestion.proposed} in the {key} field; Apply to keep it"
            )
            button.clicked.connect(
                lambda _=False, k=key, u=suggestion.proposed: self.set_field(k, u)
            )
            row.addWidget(button)
            self.fix_buttons.append(button)
        container = QWidget(self)
        container.setLayout(row)
        self.problems.addWidget(container)

    def _on_entries_loaded(self, keys: list[EntryKey]) -> None:
        if set(keys) & set(self.entries):
            configs = [self.controller.dataset.config(k) for k in self.entries]
            self._show_detected_and_problems(configs)

    # --- editing ------------------------------------------------------------------
    def _on_edited(self, _text: str) -> None:
        changed = self.changes()
        for name, edit in self.fields.items():
            edit.setStyleSheet("background: #fff8e1" if name in changed else "")
        self.apply_button.setEnabled(bool(changed))
        self.revert_button.setEnabled(bool(changed))

    def set_field(self, name: str, text: str) -> None:
        """Type ``text`` into a field (as the user would) without applying it."""
        self.fields[name].setText(text)
        self._on_edited(text)

    def changes(self) -> dict[str, Any]:
        """Fields the user changed: value, or None to remove the key."""
        changes: dict[str, Any] = {}
        for name, edit in self.fields.items():
            text = edit.text().strip()
            if text == self._shown.get(name, ""):
                continue
            if not text:
                changes[name] = None
            elif name in NUMBER_FIELDS:
                try:
                    changes[name] = float(text)
                except ValueError:
                    continue
            else:
                changes[name] = text
        return changes

    def invalid_fields(self) -> list[str]:
        """Return the number fields whose text is not a number."""
        bad = []
        for name in NUMBER_FIELDS:
            text = self.fields[name].text().strip()
            try:
                float(text) if text else None
            except ValueError:
                bad.append(name)
        return bad

    def apply(self) -> None:
        """Send the changed fields to the controller (one undoable edit)."""
        changes = self.changes()
        if changes and self.entries:
            self.controller.set_metadata(list(self.entries), changes)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(value)
    return str(value)


def _fmt(value: Any, unit: str) -> str:
    try:
        return f"{float(value):.4g} {unit}"
    except (TypeError, ValueError):
        return "—"


def _sweep_values_text(recording: Any | None, several: bool = False) -> str:
    """Describe a sweep's stimulus window and what was found with it (HTML).

    Parameters
    ----------
    recording : Recording or None
        The first selected sweep (None: nothing is shown).
    several : bool
        Whether more sweeps are selected (the heading says "First selected sweep").
    """
    if recording is None:
        return ""
    source = stimulus_source(recording) if hasattr(recording, "ton") else "none"
    wording = SOURCE_WORDING[source]
    rows = [
        ("window from", wording.origin),
        ("amp", _fmt(recording.amp, "nA")),
        ("hypamp", _fmt(recording.hypamp, "nA")),
        ("ton / toff", f"{_fmt(getattr(recording, 'ton', None), 'ms')} / "
                       f"{_fmt(getattr(recording, 'toff', None), 'ms')}"),
        ("spikes", "—" if recording.spikecount is None else str(recording.spikecount)),
        ("auto threshold", _fmt(recording.auto_threshold, "mV")),
    ]  # fmt: skip
    reader = getattr(recording, "reader_data", None) or {}
    sweep = "First selected sweep" if several else "Selected sweep"
    text = f"<b>{sweep} {wording.heading}</b><br>" + "<br>".join(
        f"{name}: {value}" for name, value in rows
    )
    for key in ("stimulus_note", "reader_note"):
        if reader.get(key):
            text += f"<br><i>{html.escape(str(reader[key]))}</i>"
    if reader.get("holding_current_pa") is not None:
        text += f"<br>holding current: {reader['holding_current_pa']:.4g} pA"
    for warning in getattr(recording, "warnings", []):
        text += f"<br><span style='color:#b26a00'>⚠ {warning}</span>"
    return text


def _unit_suggestions(recording: Any) -> list[UnitSuggestion]:
    reader = getattr(recording, "reader_data", None)
    if not reader or reader.get("voltage") is None:
        return []
    config = recording.config_data
    v_unit = config.get("v_unit") or reader.get("v_unit")
    i_unit = config.get("i_unit") or reader.get("i_unit")
    if not v_unit or not i_unit:
        return []
    return check_units(
        reader.get("voltage"), reader.get("current", [0.0]), str(v_unit), str(i_unit)
    )
