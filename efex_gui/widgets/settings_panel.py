"""SettingsPanel: the extraction settings of the session, as a form.

Every widget edits one field of
:class:`~efex_gui.core.session.document.ExtractionSettings` through the controller (an
undoable command); the panel redraws from ``settings_changed`` with its signals blocked,
so there is no echo. Ranges and choices come from ``resources/defaults/settings.json``;
spin boxes cannot hold impossible values and free-text fields are parsed when left, with
the reason shown when refused.

``None`` keeps BluePyEfe's meaning and is shown as such: "BluePyEfe's default efel
settings" (Threshold −20 mV, strict stimulus interval, interp_step 0.025 ms), "the
preset rheobase protocols", "the strategy's own defaults".
"""

from __future__ import annotations

import copy
from typing import Any

from PySide6.QtCore import QSignalBlocker, Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from efex_gui.app.extraction_controller import ExtractionController
from efex_gui.core.session.document import ExtractionSettings
from efex_gui.resources import load_default
from efex_gui.widgets.controller_view import ControllerView
from efex_gui.widgets.setting_fields import SettingField, form_layout, spin_box
from efex_gui.widgets.target_table_model import (
    EditRefusedError,
    format_settings,
    parse_settings,
)


class SettingsPanel(ControllerView[ExtractionController]):
    """Form over the session's extraction settings.

    The controller owns the settings.
    """

    def _build(self) -> None:
        self.spec = load_default("settings")
        self.message = QLabel(self)
        self.message.setStyleSheet("color: #b00020;")
        self.message.setWordWrap(True)
        body = QWidget(self)
        layout = QVBoxLayout(body)
        groups = QHBoxLayout()  # side by side: the docks are wide and low
        for group in (
            self._efel_group(body),
            self._rheobase_group(body),
            self._output_group(body),
        ):
            groups.addWidget(group, 0, Qt.AlignmentFlag.AlignTop)
        groups.addStretch(1)
        layout.addLayout(groups)
        self.reset_button = QPushButton("Reset to defaults", body)
        self.reset_button.setToolTip(
            "Every setting back to resources/defaults/settings.json (undoable)"
        )
        self.reset_button.clicked.connect(self.reset_to_defaults)
        row = QHBoxLayout()
        row.addWidget(self.reset_button)
        row.addStretch(1)
        layout.addLayout(row)
        layout.addStretch(1)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.message)
        outer.addWidget(scroll)
        self.controller.settings_changed.connect(self.show_settings)
        self.show_settings(self.controller.settings)

    # --- groups -------------------------------------------------------------------
    def _efel_group(self, parent: QWidget) -> QGroupBox:
        group = QGroupBox("Spike detection and efel settings", parent)
        form = form_layout(group)
        defaults = format_settings(self.spec["default_efel_settings"])
        self.efel_default = QCheckBox(f"BluePyEfe's defaults ({defaults})", group)
        self.efel_default.setToolTip(
            "Ticked: efel_settings = None, BluePyEfe's defaults; untick to set them"
        )
        self.efel_default.toggled.connect(self._commit)
        form.addRow(self.efel_default)
        self.efel_fields = {
            name: SettingField(name, spec, group)
            for name, spec in self.spec["efel_fields"].items()
        }
        for item in self.efel_fields.values():
            item.connect(self._commit)
            form.addRow(item.label, item.editor)
        self.efel_other = QLineEdit(group)
        self.efel_other.setPlaceholderText("other efel settings: name=value, …")
        self.efel_other.setMinimumWidth(300)
        self.efel_other.setToolTip(
            "Any other global efel setting, e.g. DerivativeThreshold=10, "
            "stimulus_current=0.3 (target-level settings override them)"
        )
        self.efel_other.editingFinished.connect(self._commit)
        form.addRow("Other", self.efel_other)
        note = QLabel(
            "Unset Threshold: each sweep's automatic threshold (baseline + 20 mV).",
            group,
        )
        note.setWordWrap(True)
        form.addRow(note)
        return group

    def _rheobase_group(self, parent: QWidget) -> QGroupBox:
        group = QGroupBox("Rheobase", parent)
        form = form_layout(group)
        preset = ", ".join(self.spec["preset_protocols_rheobase"])
        self.protocols_default = QCheckBox("BluePyEfe's preset protocols", group)
        self.protocols_default.setToolTip(preset)
        self.protocols_default.toggled.connect(self._commit)
        form.addRow(self.protocols_default)
        self.protocol_list = QListWidget(group)
        self.protocol_list.setMaximumHeight(110)
        self.protocol_list.setMinimumWidth(220)
        self.protocol_list.setToolTip(
            "Protocols whose sweeps give the rheobase (exact, case-sensitive names)"
        )
        self.protocol_list.itemChanged.connect(self._commit)
        form.addRow("Protocols", self.protocol_list)
        self.by_ecode = QCheckBox("Also the protocols of the same eCode", group)
        self.by_ecode.setToolTip(
            "A protocol whose eCode is that of a listed one counts too, for the "
            "rheobase and the automatic targets (a lab's 'IV_FI' as 'IV', a "
            "protocol mapped to Step as 'Step'). On for a folder you imported; "
            "off for a BluePyEfe configuration (BluePyEfe matches exact names)."
        )
        self.by_ecode.toggled.connect(self._commit)
        form.addRow(self.by_ecode)
        self.by_ecode_added = QLabel(group)
        self.by_ecode_added.setWordWrap(True)
        form.addRow(self.by_ecode_added)
        self.strategy = QComboBox(group)
        self.strategy.addItems(list(self.spec["rheobase_strategies"]))
        self.strategy.setMinimumWidth(160)
        self.strategy.setToolTip(
            "How the rheobase is found from the spike counts (the Rheobase tab shows "
            "what each strategy gives)"
        )
        self.strategy.currentTextChanged.connect(self._on_strategy)
        form.addRow("Strategy", self.strategy)
        self.strategy_help = QLabel(group)
        self.strategy_help.setWordWrap(True)
        form.addRow(self.strategy_help)
        self.strategy_form = form_layout(None)
        form.addRow(self.strategy_form)
        self.strategy_note = QLabel("(the strategy's own defaults)", group)
        form.addRow(self.strategy_note)
        self.strategy_fields: dict[str, SettingField] = {}
        self._fields_for: str | None = None
        return group

    def _output_group(self, parent: QWidget) -> QGroupBox:
        group = QGroupBox("Amplitudes and output", parent)
        form = form_layout(group)
        self.relative = QRadioButton("relative, % of the rheobase", group)
        self.absolute = QRadioButton("absolute, nA", group)
        self.relative.setToolTip(
            "Target amplitudes and tolerances in % of each cell's rheobase"
        )
        self.absolute.setToolTip(
            "Target amplitudes and tolerances in nA (no rheobase; explicit targets "
            "only)"
        )
        self.amplitude_group = QButtonGroup(group)
        for button in (self.relative, self.absolute):
            self.amplitude_group.addButton(button)
        self.absolute.toggled.connect(self._commit)
        column = QVBoxLayout()
        column.addWidget(self.relative)
        column.addWidget(self.absolute)
        form.addRow("Target amplitudes", column)
        self.protocol_mode = QComboBox(group)
        self.protocol_mode.addItems(self.spec["protocol_modes"])
        self.protocol_mode.setToolTip(
            "How the sweeps of a target are reduced to the stimulus written in "
            "protocols.json"
        )
        self.protocol_mode.currentTextChanged.connect(self._commit)
        form.addRow("Protocol mode", self.protocol_mode)
        spec = self.spec["threshold_nvalue_save"]
        self.nvalue = spin_box({"type": "int", **spec}, group)
        self.nvalue.setToolTip(
            "A feature with fewer values is left out of features.json"
        )
        self.nvalue.valueChanged.connect(self._commit)
        form.addRow("threshold_nvalue_save", self.nvalue)
        self.std_value = QLineEdit(group)
        self.std_value.setToolTip(
            "Written as the std of a feature whose std is 0 (e.g. a single value)"
        )
        self.std_value.editingFinished.connect(self._commit)
        form.addRow("default_std_value", self.std_value)
        return group

    # --- model → widgets ----------------------------------------------------------
    def show_settings(self, settings: ExtractionSettings) -> None:
        """Show ``settings`` without emitting edits."""
        widgets = [
            self.efel_default,
            self.efel_other,
            self.protocols_default,
            self.protocol_list,
            self.by_ecode,
            self.strategy,
            self.absolute,
            self.relative,
            self.protocol_mode,
            self.nvalue,
            self.std_value,
        ]
        blockers = [QSignalBlocker(w) for w in widgets]
        efel = settings.efel_settings
        shown = self.spec["default_efel_settings"] if efel is None else efel
        self.efel_default.setChecked(efel is None)
        for name, item in self.efel_fields.items():
            item.set(name in shown, shown.get(name))
            item.enabled.setEnabled(efel is not None)
            item.editor.setEnabled(efel is not None and name in shown)
        self.efel_other.setText(
            format_settings(
                {k: v for k, v in shown.items() if k not in self.efel_fields}
            )
        )
        self.efel_other.setEnabled(efel is not None)
        self.protocols_default.setChecked(settings.protocols_rheobase is None)
        self._fill_protocols(settings)
        self.by_ecode.setChecked(settings.match_protocols_by_ecode)
        joined = self.controller.protocols_joined_by_ecode(settings)
        self.by_ecode_added.setText("Adds: " + ", ".join(joined) if joined else "")
        self.by_ecode_added.setVisible(bool(joined))
        self.strategy.setCurrentText(settings.rheobase_strategy)
        self._build_strategy_fields(settings)
        self.absolute.setChecked(settings.absolute_amplitude)
        self.relative.setChecked(not settings.absolute_amplitude)
        self.protocol_mode.setCurrentText(settings.protocol_mode)
        self.nvalue.setValue(settings.threshold_nvalue_save)
        self.std_value.setText(repr(settings.default_std_value))
        del blockers

    def _fill_protocols(self, settings: ExtractionSettings | None = None) -> None:
        settings = settings or self.controller.settings
        chosen = settings.protocols_rheobase
        checked = set(
            self.spec["preset_protocols_rheobase"] if chosen is None else chosen
        )
        names = list(dict.fromkeys(self.controller.protocols() + list(chosen or [])))
        blocker = QSignalBlocker(self.protocol_list)
        self.protocol_list.clear()
        for name in names:
            item = QListWidgetItem(name, self.protocol_list)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(
                Qt.CheckState.Checked if name in checked else Qt.CheckState.Unchecked
            )
        self.protocol_list.setEnabled(chosen is not None)
        del blocker

    def _build_strategy_fields(self, settings: ExtractionSettings) -> None:
        name = settings.rheobase_strategy
        spec = self.spec["rheobase_strategies"].get(name, {})
        if name != self._fields_for:  # never while one of the fields is emitting
            self.strategy_help.setText(spec.get("help", ""))
            while self.strategy_form.rowCount():
                self.strategy_form.removeRow(0)
            self.strategy_fields = {}
            for field_name, field in spec.get("fields", {}).items():
                optional = bool(field.get("optional"))
                item = SettingField(field_name, field, self, optional)
                item.connect(lambda *_: self._commit(strategy=True))
                self.strategy_fields[field_name] = item
                self.strategy_form.addRow(item.label, item.editor)
            self._fields_for = name
        values = settings.rheobase_settings or {}
        for field_name, item in self.strategy_fields.items():
            value = values.get(field_name)
            item.set(value is not None or not item.spec.get("optional"), value)
        self.strategy_note.setVisible(
            settings.rheobase_settings is None and bool(self.strategy_fields)
        )

    # --- widgets → model ----------------------------------------------------------
    def _on_strategy(self, name: str) -> None:
        # another strategy takes other settings: back to its defaults
        self._send(
            self.controller.with_settings(
                rheobase_strategy=name, rheobase_settings=None
            )
        )

    def _commit(self, *_args: Any, strategy: bool = False) -> None:
        try:
            settings = self.read_settings(strategy)
        except EditRefusedError as exc:
            self.message.setText(str(exc))
            self.show_settings(self.controller.settings)
            return
        self._send(settings)

    def _send(self, settings: ExtractionSettings) -> None:
        self.message.clear()
        self.controller.set_settings(settings)

    def read_settings(self, strategy: bool = False) -> ExtractionSettings:
        """Read the settings the widgets show.

        Parameters
        ----------
        strategy : bool
            Read the strategy's fields (they were edited); otherwise the strategy
            settings stay as they are (None keeps the strategy's defaults).

        Raises
        ------
        EditRefusedError
            A free-text field holds an impossible value.
        """
        current = self.controller.settings
        return ExtractionSettings(
            protocols_rheobase=self._read_protocols(),
            rheobase_strategy=self.strategy.currentText(),
            rheobase_settings=self._read_strategy(current, strategy),
            efel_settings=self._read_efel(current),
            threshold_nvalue_save=int(self.nvalue.value()),
            protocol_mode=self.protocol_mode.currentText(),
            absolute_amplitude=self.absolute.isChecked(),
            default_std_value=self._read_std(),
            match_protocols_by_ecode=self.by_ecode.isChecked(),
        )

    def _read_efel(self, current: ExtractionSettings) -> dict[str, Any] | None:
        if self.efel_default.isChecked():
            return None
        if current.efel_settings is None:  # just unticked: start from the defaults
            defaults: dict[str, Any] = copy.deepcopy(self.spec["default_efel_settings"])
            return defaults
        settings = {
            name: item.value()
            for name, item in self.efel_fields.items()
            if item.enabled.isChecked()
        }
        other = parse_settings(self.efel_other.text())
        clash = sorted(set(other) & set(self.efel_fields))
        if clash:
            raise EditRefusedError(f"Set {', '.join(clash)} with its own field.")
        return {**settings, **other}

    def _read_protocols(self) -> list[str] | None:
        if self.protocols_default.isChecked():
            return None
        items = [self.protocol_list.item(i) for i in range(self.protocol_list.count())]
        checked = [i.text() for i in items if i.checkState() == Qt.CheckState.Checked]
        # keep the stored order; newly ticked names go last
        current = self.controller.settings.protocols_rheobase or []
        kept = [name for name in current if name in checked]
        return kept + [name for name in checked if name not in kept]

    def _read_strategy(
        self, current: ExtractionSettings, edited: bool
    ) -> dict[str, Any] | None:
        if self.strategy.currentText() != current.rheobase_strategy:
            return None
        if not edited:
            return copy.deepcopy(current.rheobase_settings)
        return {
            name: item.value() if item.enabled.isChecked() else None
            for name, item in self.strategy_fields.items()
        }

    def _read_std(self) -> float:
        text = self.std_value.text().strip()
        bounds = self.spec["default_std_value"]
        try:
            value = float(text)
        except ValueError:
            raise EditRefusedError(
                f"default_std_value: {text!r} is not a number."
            ) from None
        if not bounds["minimum"] <= value <= bounds["maximum"]:
            raise EditRefusedError(
                f"default_std_value must be > 0 (between {bounds['minimum']} and "
                f"{bounds['maximum']})."
            )
        return value

    def reset_to_defaults(self) -> None:
        """Replace every setting by the defaults of settings.json."""
        self._send(self.controller.default_settings())
