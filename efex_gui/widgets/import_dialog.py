"""ImportDialog: from a folder of recordings to a files_metadata, with a live preview.

The user picks a file-name pattern (a preset or their own regex), which channel is
the current and which the voltage (or lets the files' units say), default units, dt
and LJP, and may override the eCode of a protocol. The preview table updates as they
type. All parsing is the core's (:mod:`efex_gui.core.importing.file_names`); the dialog
only shows it. The settings can be saved to a JSON profile and are remembered for next
time.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from efex_gui.core.errors import EfexError
from efex_gui.core.importing.file_names import (
    PRESET_PATTERNS,
    PairingResult,
    best_pattern,
    build_files_metadata,
    compile_pattern,
    pair_files,
    parse_name,
    scan_folder,
)
from efex_gui.core.importing.profile import starting_profile
from efex_gui.core.session.dataset import (
    file_protocols,
    file_role,
    file_splits,
)
from efex_gui.core.session.folder_import import protocol_timings
from efex_gui.resources import load_default
from efex_gui.widgets.help import DEFAULT_LABELS, DEFAULT_TIPS, IMPORT_TIPS, plural
from efex_gui.widgets.import_tables import fill_ecodes, fill_preview, fill_timings
from efex_gui.widgets.setting_fields import metadata_field

if TYPE_CHECKING:
    from efex_gui.app.preferences import Preferences

DEFAULT_KEYS = ("i_unit", "v_unit", "t_unit", "dt", "ljp")
CUSTOM = "Custom pattern"
PREVIEW_COLUMNS = ("Cell", "Protocol", "Number", "eCode", "Current / file", "Voltage")


class ImportDialog(QDialog):
    """Build a files_metadata from the recordings in ``root``.

    Parameters
    ----------
    root : Path
        The data root: paths are stored relative to it.
    paths : list of str, optional
        Relative paths to consider (all recordings below ``root`` if None).
    preferences : Preferences, optional
        Where the last import settings are remembered.
    """

    def __init__(
        self,
        root: str | Path,
        paths: list[str] | None = None,
        preferences: Preferences | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Import recordings")
        self.resize(1100, 720)
        self.root = Path(root)
        self.paths = list(paths) if paths is not None else scan_folder(self.root)
        self.preferences = preferences
        self.pairing = PairingResult()
        self.ecode_overrides: dict[str, str] = {}
        #: protocol -> {"ton": ms, "toff": ms} typed in the timings table
        self.protocol_timings: dict[str, dict[str, float]] = {}
        self.error = ""
        #: metadata of the last import, offered (not applied) for another folder
        self.carried: dict[str, Any] = {}
        #: protocols whose eCode was guessed from the name (to be confirmed)
        self.guessed: dict[str, str] = {}
        self._role_cache: dict[str, str | None] = {}
        self._protocol_cache: dict[str, list[str]] = {}
        self._split_cache: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        self._build_widgets()
        self._timer = QTimer(self, singleShot=True, interval=150)
        self._timer.timeout.connect(self.update_preview)
        self.apply_profile(self._starting_profile(), guess_pattern=False)
        self.update_preview()

    def _starting_profile(self) -> dict[str, Any]:
        """Return the last import's settings where they fit this folder (core rule)."""
        remembered = self.preferences.import_profile() if self.preferences else {}
        start = starting_profile(
            load_default("import"), remembered, str(self.root), self.paths
        )
        self.carried = start.carried
        self.notice.setText(start.notice)
        self.carry_button.setVisible(bool(start.carried))
        return start.profile

    def _apply_carried(self) -> None:
        """Apply the last import's metadata the person chose to carry over."""
        for key, value in self.carried.items():
            if key in self.defaults:
                self.defaults[key].setText(str(value))
        self.notice.setText("Metadata of your last import applied.")
        self.carry_button.hide()

    # --- widgets ------------------------------------------------------------------
    def _build_widgets(self) -> None:
        self.preset = QComboBox(self)
        self.preset.addItems([p.name for p in PRESET_PATTERNS] + [CUSTOM])
        self.preset.activated.connect(self._on_preset)
        self.pattern = QLineEdit(self)
        self.current_channel = QLineEdit(self, placeholderText="auto")
        self.voltage_channel = QLineEdit(self, placeholderText="auto")
        self.detect_roles = QCheckBox(
            "Tell voltage from current by the files' units", self
        )
        self.detect_roles.setChecked(True)
        self.defaults: dict[str, QLineEdit] = {}
        defaults_box = QGroupBox("Metadata added to every file (empty: from the file)")
        grid = QGridLayout(defaults_box)
        for column, key in enumerate(DEFAULT_KEYS):
            widget, edit = metadata_field(key, self)
            widget.setToolTip(DEFAULT_TIPS[key])
            edit.setToolTip(DEFAULT_TIPS[key])
            grid.addWidget(QLabel(DEFAULT_LABELS[key]), 0, column)
            grid.addWidget(widget, 1, column)
            grid.setColumnStretch(column, 1)
            self.defaults[key] = edit
        self.notice = QLabel(self, wordWrap=True)
        self.notice.setStyleSheet("color: #b26a00")
        self.carry_button = QPushButton("Apply them", self)
        self.carry_button.setToolTip(
            "Use the units, dt and LJP of your last import for this folder too"
        )
        self.carry_button.hide()
        self.carry_button.clicked.connect(self._apply_carried)
        notice = QHBoxLayout()
        notice.addWidget(self.notice, 1)
        notice.addWidget(self.carry_button)
        form = QFormLayout()
        form.addRow("Folder", QLabel(f"{self.root}  ({len(self.paths)} files)"))
        form.addRow(notice)
        form.addRow("Name pattern", self.preset)
        form.addRow("Regex", self.pattern)
        channels = QHBoxLayout()
        for label, edit in (
            ("current", self.current_channel),
            ("voltage", self.voltage_channel),
        ):
            channels.addWidget(QLabel(f"{label} channel"))
            channels.addWidget(edit)
        channels.addWidget(self.detect_roles)
        form.addRow("Channels", channels)
        self.preview = QTableWidget(0, len(PREVIEW_COLUMNS), self)
        self.preview.setHorizontalHeaderLabels(PREVIEW_COLUMNS)
        self.preview.horizontalHeader().setStretchLastSection(True)
        self.ecodes = QTableWidget(0, 4, self)
        self.ecodes.setHorizontalHeaderLabels(
            ["Protocol", "Table key", "eCode", "Override"]
        )
        self.ecodes.horizontalHeader().setStretchLastSection(True)
        for table in (self.preview, self.ecodes):
            table.verticalHeader().setDefaultSectionSize(24)
            table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        tabs = QTabWidget(self)
        tabs.addTab(self.preview, "Files")
        tabs.addTab(self.ecodes, "Protocols → eCodes")
        self.timings_table = QTableWidget(0, 3, self)
        self.timings_table.setHorizontalHeaderLabels(
            ["Protocol", "ton (ms)", "toff (ms)"]
        )
        self.timings_table.horizontalHeader().setStretchLastSection(True)
        self.timings_table.setToolTip(
            "The lab's protocol timings (e.g. IDrest 700-2700 ms): written as ton/toff "
            "of every file of the protocol. Empty: the protocol's consensus window."
        )
        self.timings_table.itemChanged.connect(self._on_timing_edited)
        tabs.addTab(self.timings_table, "Protocol timings")
        self.summary = QLabel(self)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel,
            self,
        )
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.cancel_button = buttons.button(QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.save_button = QPushButton("Save profile…", self)
        self.load_button = QPushButton("Load profile…", self)
        self.save_button.clicked.connect(self._save_profile)
        self.load_button.clicked.connect(self._load_profile)
        for name, tip in IMPORT_TIPS.items():
            getattr(self, name).setToolTip(tip)
        bottom = QHBoxLayout()
        bottom.addWidget(self.save_button)
        bottom.addWidget(self.load_button)
        bottom.addWidget(self.summary, 1)
        bottom.addWidget(buttons)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(defaults_box)
        layout.addWidget(tabs, 1)
        layout.addLayout(bottom)
        for edit in (
            self.pattern,
            self.current_channel,
            self.voltage_channel,
            *self.defaults.values(),
        ):
            edit.textChanged.connect(self._schedule)
        self.pattern.textEdited.connect(lambda _t: self.preset.setCurrentText(CUSTOM))
        self.detect_roles.toggled.connect(self._schedule)

    def _schedule(self, *_args: Any) -> None:
        self._timer.start()

    def _on_preset(self, index: int) -> None:
        if index < len(PRESET_PATTERNS):
            self.pattern.setText(PRESET_PATTERNS[index].regex)

    # --- profile ------------------------------------------------------------------
    def profile(self) -> dict[str, Any]:
        """Return the dialog's settings as a JSON-ready dict."""
        return {
            "pattern": self.pattern.text(),
            "current_channel": self.current_channel.text().strip(),
            "voltage_channel": self.voltage_channel.text().strip(),
            "detect_roles": self.detect_roles.isChecked(),
            "defaults": {k: e.text().strip() for k, e in self.defaults.items()},
            "ecode_overrides": dict(self.ecode_overrides),
            "folder": str(self.root),
            "protocol_timings": {p: dict(v) for p, v in self.protocol_timings.items()},
        }

    def apply_profile(
        self, profile: dict[str, Any], guess_pattern: bool = False
    ) -> None:
        """Fill the dialog from a profile (``guess_pattern``: pick the best preset)."""
        pattern = profile.get("pattern") or ""
        if guess_pattern or not pattern:
            best = best_pattern(self.paths) or PRESET_PATTERNS[0]
            pattern = best.regex
        names = [p.regex for p in PRESET_PATTERNS]
        self.preset.setCurrentIndex(
            names.index(pattern) if pattern in names else len(names)
        )
        self.pattern.setText(pattern)
        self.current_channel.setText(str(profile.get("current_channel") or ""))
        self.voltage_channel.setText(str(profile.get("voltage_channel") or ""))
        self.detect_roles.setChecked(bool(profile.get("detect_roles", True)))
        for key, edit in self.defaults.items():
            edit.setText(str((profile.get("defaults") or {}).get(key, "") or ""))
        self.ecode_overrides = dict(profile.get("ecode_overrides") or {})
        self.protocol_timings = protocol_timings(profile)
        self._schedule()

    def _save_profile(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self,
            "Save import profile",
            str(self.root / "import_profile.json"),
            "JSON (*.json)",
        )
        if path:
            Path(path).write_text(
                json.dumps(self.profile(), indent=2), encoding="utf-8"
            )

    def _load_profile(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Load import profile", str(self.root), "JSON (*.json)"
        )
        if path:
            self.apply_profile(json.loads(Path(path).read_text(encoding="utf-8")))

    # --- preview ------------------------------------------------------------------
    def _role_of(self, path: str) -> str | None:
        if path not in self._role_cache:
            self._role_cache[path] = file_role(str(self.root / path))
        return self._role_cache[path]

    def _protocols_of(self, path: str) -> list[str]:
        if path not in self._protocol_cache:
            self._protocol_cache[path] = file_protocols(str(self.root / path))
        return self._protocol_cache[path]

    def _splits_of(self, path: str) -> list[tuple[str, dict[str, Any]]]:
        if path not in self._split_cache:
            self._split_cache[path] = file_splits(str(self.root / path))
        return self._split_cache[path]

    def update_preview(self) -> None:
        """Parse and pair the files with the current settings; refresh the tables."""
        self._timer.stop()
        try:
            compiled = compile_pattern(self.pattern.text())
        except EfexError as exc:
            self.error, self.pairing = str(exc), PairingResult()
        else:
            self.error = ""
            parsed = [parse_name(p, compiled) for p in self.paths]
            self.pairing = pair_files(
                [n for n in parsed if n is not None],
                self.current_channel.text().strip() or None,
                self.voltage_channel.text().strip() or None,
                protocols_of=self._protocols_of,
                role_of=self._role_of if self.detect_roles.isChecked() else None,
                splits_of=self._splits_of,
            )
            for path, name in zip(self.paths, parsed, strict=True):
                if name is None:
                    self.pairing.skipped[path] = "name does not match the pattern"
        self._guess_ecodes(sorted({e.protocol for e in self.pairing.entries}))
        self._fill_preview()
        self._fill_ecodes()
        self._fill_timings()
        cells = {e.cell for e in self.pairing.entries}
        protocols = {e.protocol for e in self.pairing.entries}
        self.summary.setText(
            self.error
            or (
                f"{plural(len(self.pairing.entries), 'recording')}, "
                f"{plural(len(cells), 'cell')}, {plural(len(protocols), 'protocol')}; "
                f"{plural(len(self.pairing.skipped), 'file')} left out"
            )
        )
        self.ok_button.setEnabled(bool(self.pairing.entries))

    def _fill_preview(self) -> None:
        fill_preview(self.preview, self.pairing, self.ecode_overrides, self.guessed)

    def _guess_ecodes(self, protocols: list[str]) -> None:
        """Pre-select the eCode other labs' names suggest (confirm or change it)."""
        from efex_gui.core.recordings.ecodes.names import guess_from_name

        for protocol in protocols:
            if protocol in self.ecode_overrides or protocol in self.guessed:
                continue
            guess = guess_from_name(protocol)
            if guess.how == "name" and guess.ecode is not None:
                self.ecode_overrides[protocol] = guess.ecode
                self.guessed[protocol] = guess.reason

    def _fill_ecodes(self) -> None:
        protocols = sorted({e.protocol for e in self.pairing.entries})
        self._guess_ecodes(protocols)
        fill_ecodes(
            self.ecodes,
            protocols,
            self.ecode_overrides,
            self.guessed,
            self.set_override,
        )

    def _fill_timings(self) -> None:
        protocols = sorted({e.protocol for e in self.pairing.entries})
        fill_timings(self.timings_table, protocols, self.protocol_timings)

    def _on_timing_edited(self, item: QTableWidgetItem) -> None:
        if item.column() == 0:
            return
        name_item = self.timings_table.item(item.row(), 0)
        protocol = name_item.text() if name_item is not None else ""
        key = "ton" if item.column() == 1 else "toff"
        values = self.protocol_timings.setdefault(protocol, {})
        try:
            values[key] = float(item.text())
        except ValueError:
            values.pop(key, None)
            item.setText("")
        if not values:
            self.protocol_timings.pop(protocol, None)

    def set_override(self, protocol: str, name: str) -> None:
        """Read ``protocol`` as the eCode ``name`` ('' for the table's choice)."""
        if self.ecode_overrides.get(protocol) != name:
            self.guessed.pop(protocol, None)  # the person chose: no longer a guess
        if name:
            self.ecode_overrides[protocol] = name
        else:
            self.ecode_overrides.pop(protocol, None)
        self._schedule()

    # --- result -------------------------------------------------------------------
    def defaults_values(self) -> dict[str, Any]:
        """Return the default metadata, numbers parsed (empty fields left out)."""
        values: dict[str, Any] = {}
        for key, edit in self.defaults.items():
            text = edit.text().strip()
            if not text:
                continue
            if key in ("dt", "ljp"):
                try:
                    values[key] = float(text)
                except ValueError as exc:
                    raise EfexError(f"{key} must be a number, got {text!r}.") from exc
            else:
                values[key] = text
        return values

    def files_metadata(self) -> dict[str, dict[str, list[dict[str, Any]]]]:
        """Build the files_metadata of the dialog (paths relative to ``root``)."""
        return build_files_metadata(
            self.pairing.entries, self.defaults_values(), self.protocol_timings
        )

    def accept(self) -> None:
        """Close the dialog if its defaults parse, remembering its settings."""
        self.update_preview()
        try:
            self.defaults_values()
        except EfexError as exc:
            self.summary.setText(str(exc))
            return
        if self.preferences is not None:
            self.preferences.set_import_profile(self.profile())
        super().accept()


def run_import_dialog(
    root: str | Path,
    paths: list[str] | None,
    preferences: Preferences | None,
    parent: QWidget | None = None,
) -> ImportDialog | None:
    """Show the dialog modally; the accepted dialog, or None."""
    dialog = ImportDialog(root, paths, preferences, parent)
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    return dialog if dialog.exec() == QDialog.DialogCode.Accepted else None
