"""User interface preferences kept in QSettings (never in the session file)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings

MAX_RECENT = 10
#: the short list offered when excluding (editable in Edit → Exclusion reasons…)
DEFAULT_EXCLUSION_REASONS = (
    "noisy baseline", "drift", "unstable access", "clipped", "failed step",
    "wrong protocol", "other",
)  # fmt: skip
DEFAULT_AUTOSAVE_S = 60


class Preferences:
    """Recent files, last folder, window geometry, autosave period, import profile.

    Parameters
    ----------
    settings : QSettings, optional
        Where to keep them (the application's default QSettings if None).
    """

    def __init__(self, settings: QSettings | None = None) -> None:
        self.settings = (
            settings if settings is not None else QSettings("efex_gui", "efex-gui")
        )

    # recent files
    def recent_files(self) -> list[str]:
        """Most recent first; files that no longer exist are left out."""
        value: Any = self.settings.value("recent_files", [])
        files = [value] if isinstance(value, str) else list(value or [])
        return [f for f in files if Path(f).exists()]

    def add_recent_file(self, path: str | Path) -> None:
        """Put ``path`` first in the recent files."""
        path = str(Path(path).absolute())
        files = [f for f in self.recent_files() if f != path]
        self.settings.setValue("recent_files", [path, *files][:MAX_RECENT])

    def clear_recent_files(self) -> None:
        """Forget the recent files."""
        self.settings.setValue("recent_files", [])

    # folders and geometry
    def last_folder(self) -> str:
        """Return the folder of the last file dialog ('' if none)."""
        return str(self.settings.value("last_folder", "") or "")

    def set_last_folder(self, folder: str | Path) -> None:
        """Remember the folder of the last file dialog."""
        self.settings.setValue("last_folder", str(folder))

    def geometry(self) -> QByteArray | None:
        """Return the saved main-window geometry."""
        value = self.settings.value("geometry")
        return value if isinstance(value, QByteArray) else None

    def set_geometry(self, geometry: QByteArray) -> None:
        """Save the main-window geometry."""
        self.settings.setValue("geometry", geometry)

    def window_state(self) -> QByteArray | None:
        """Return the saved main-window state (docks, toolbars)."""
        value = self.settings.value("window_state")
        return value if isinstance(value, QByteArray) else None

    def set_window_state(self, state: QByteArray) -> None:
        """Save the main-window state."""
        self.settings.setValue("window_state", state)

    # exclusion reasons
    def exclusion_reasons(self) -> list[str]:
        """Return the common reasons offered when excluding (defaults if never set)."""
        value = self.settings.value("exclusion_reasons")
        if value is None:
            return list(DEFAULT_EXCLUSION_REASONS)
        reasons = [value] if isinstance(value, str) else list(value or [])
        return [str(r).strip() for r in reasons if str(r).strip()]

    def set_exclusion_reasons(self, reasons: list[str]) -> None:
        """Replace the list of common reasons (blank lines dropped, order kept)."""
        kept = list(dict.fromkeys(r.strip() for r in reasons if r.strip()))
        self.settings.setValue("exclusion_reasons", kept)

    # autosave
    def autosave_seconds(self) -> int:
        """Seconds between autosaves of a changed session (0: never)."""
        try:
            value: Any = self.settings.value("autosave_seconds", DEFAULT_AUTOSAVE_S)
            return int(value)
        except (TypeError, ValueError):
            return DEFAULT_AUTOSAVE_S

    def set_autosave_seconds(self, seconds: int) -> None:
        """Set the autosave period."""
        self.settings.setValue("autosave_seconds", int(seconds))

    # import profile
    def import_profile(self) -> dict[str, Any]:
        """Return the last import settings (pattern, channels, defaults, eCodes)."""
        text = self.settings.value("import_profile", "")
        try:
            value = json.loads(str(text)) if text else {}
        except json.JSONDecodeError:
            return {}
        return value if isinstance(value, dict) else {}

    def set_import_profile(self, profile: dict[str, Any]) -> None:
        """Remember the import settings for next time."""
        self.settings.setValue("import_profile", json.dumps(profile))
