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
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
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
    scan_folder,
)
from efex_gui.core.importing.profile import starting_profile
from efex_gui.core.session.dataset import (
    file_protocols,
    file_role,
    file_splits,
)
from efex_gui.core.session.folder_import import pair_names, protocol_timings
from efex_gui.resources import load_default
from efex_gui.widgets.help import IMPORT_TIPS, plural
from efex_gui.widgets.import_defaults import DefaultMetadataBox
from efex_gui.widgets.import_tables import ImportTabs, fill_ecodes, fill_preview

if TYPE_CHECKING:
    from efex_gui.app.preferences import Preferences

CUSTOM = "Custom pattern"


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
        self.error = ""
        #: metadata of the last import, offered (not applied) for another folder
        self.carried: dict[str, Any] = {}
        #: protocols whose eCode was guessed from the name (to be confirmed)
        self.guessed: dict[str, str] = {}
        self._role_cache: dict[str, str | None] = {}
        self._protocol_cache: dict[str, list[str] | Exception] = {}
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
        self.defaults_box.set_texts({**self.defaults_box.texts(), **self.carried})
        self.notice.setText("Metadata of your last import applied.")
        self.carry_button.hide()

    @property
    def protocol_timings(self) -> dict[str, dict[str, float]]:
        """``{protocol: {"ton": ms, "toff": ms}}`` typed in the timings table."""
        return self.tabs.timings

    # --- widgets ------------------------------------------------------------------
    def _build_widgets(self) -> None:
        """Build the dialog, top to bottom (the keyboard focus follows)."""
        form = self._build_form()
        self.defaults_box = DefaultMetadataBox(self)
        #: each default metadata key's field
        self.defaults = self.defaults_box.edits
        self.tabs = ImportTabs(self)
        self.preview = self.tabs.preview
        self.ecodes = self.tabs.ecodes
        self.timings_table = self.tabs.timings_table
        self.summary = QLabel(self)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.defaults_box)
        layout.addWidget(self.tabs, 1)
        layout.addLayout(self._build_buttons())
        for name, tip in IMPORT_TIPS.items():
            getattr(self, name).setToolTip(tip)
        for edit in (
            self.pattern,
            self.current_channel,
            self.voltage_channel,
            *self.defaults.values(),
        ):
            edit.textChanged.connect(self._schedule)
        self.pattern.textEdited.connect(lambda _t: self.preset.setCurrentText(CUSTOM))
        self.detect_roles.toggled.connect(self._schedule)

    def _build_form(self) -> QFormLayout:
        """Lay out the folder, the notice, the name pattern and the channels."""
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
        return form

    def _build_buttons(self) -> QHBoxLayout:
        """Lay out the profile buttons, the summary, OK and Cancel."""
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
        bottom = QHBoxLayout()
        bottom.addWidget(self.save_button)
        bottom.addWidget(self.load_button)
        bottom.addWidget(self.summary, 1)
        bottom.addWidget(buttons)
        return bottom

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
            "defaults": self.defaults_box.texts(),
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
        self.defaults_box.set_texts(profile.get("defaults") or {})
        self.ecode_overrides = dict(profile.get("ecode_overrides") or {})
        self.tabs.timings = protocol_timings(profile)
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
        """``file_protocols``, once per file: a refusal (voltage clamp...) too."""
        if path not in self._protocol_cache:
            try:
                self._protocol_cache[path] = file_protocols(str(self.root / path))
            except Exception as exc:  # the pairing says why the file is left out
                self._protocol_cache[path] = exc
        known = self._protocol_cache[path]
        if isinstance(known, Exception):
            raise known
        return known

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
            self.pairing = pair_names(
                self.paths,
                compiled,
                self.current_channel.text().strip() or None,
                self.voltage_channel.text().strip() or None,
                protocols_of=self._protocols_of,
                role_of=self._role_of if self.detect_roles.isChecked() else None,
                splits_of=self._splits_of,
            )
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
        from efex_gui.core.session.folder_import import guess_ecodes

        known = {**self.ecode_overrides, **self.guessed}
        for protocol, (ecode, why) in guess_ecodes(protocols, known).items():
            self.ecode_overrides[protocol] = ecode
            self.guessed[protocol] = why

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
        self.tabs.show_timings(sorted({e.protocol for e in self.pairing.entries}))

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
        return self.defaults_box.values()

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
