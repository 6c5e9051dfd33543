"""Autosave to a recovery file, and the offer to restore it after a crash.

While the session has unsaved changes, it is written every few seconds (and shortly
after each change) to ``recovery/session.json`` in the application's data folder,
beside a small note saying which file it belongs to. A clean exit deletes both, so
finding them at start means the last run did not end cleanly.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from PySide6.QtCore import QObject, QStandardPaths, QTimer

from efex_gui.app.controller import SessionController
from efex_gui.core.session.document import Session, atomic_write_text

logger = logging.getLogger(__name__)

#: milliseconds between a change and its autosave
CHANGE_DELAY_MS = 2000


def default_recovery_dir() -> Path:
    """``<application data>/recovery``."""
    base = QStandardPaths.writableLocation(
        QStandardPaths.StandardLocation.AppDataLocation
    )
    return Path(base or Path.home() / ".efex_gui") / "recovery"


class Autosaver(QObject):
    """Writes the controller's session to a recovery file while it is dirty.

    Parameters
    ----------
    controller : SessionController
        Whose session to keep.
    folder : Path, optional
        Recovery folder (:func:`default_recovery_dir` if None).
    period_s : int
        Seconds between periodic saves (0 disables the timer, not the on-change save).
    """

    def __init__(
        self,
        controller: SessionController,
        folder: Path | None = None,
        period_s: int = 60,
    ) -> None:
        super().__init__(controller)
        self.controller = controller
        self.folder = Path(folder) if folder is not None else default_recovery_dir()
        self._periodic = QTimer(self, interval=max(1, period_s) * 1000)
        self._periodic.timeout.connect(self.save_now)
        if period_s > 0:
            self._periodic.start()
        self._soon = QTimer(self, singleShot=True, interval=CHANGE_DELAY_MS)
        self._soon.timeout.connect(self.save_now)
        controller.changed.connect(self._soon.start)
        controller.dirty_changed.connect(self._on_dirty_changed)

    def _on_dirty_changed(self, dirty: bool) -> None:
        if not dirty:  # saved: an older recovery copy would only confuse
            self.discard()

    @property
    def session_file(self) -> Path:
        """The recovery copy of the session."""
        return self.folder / "session.json"

    @property
    def note_file(self) -> Path:
        """What the recovery copy belongs to."""
        return self.folder / "note.json"

    def save_now(self) -> bool:
        """Write the recovery copy if the session has unsaved changes."""
        if not self.controller.is_dirty() or not self.controller.session.files_metadata:
            return False
        session = self.controller.session
        try:
            session_copy = Session.from_dict(session.to_dict(self.folder), self.folder)
            session_copy.save(self.session_file)
            note = {"original": str(session.path) if session.path else None}
            atomic_write_text(self.note_file, json.dumps(note))
        except Exception:  # autosave must never disturb the user
            logger.exception("Autosave failed")
            return False
        return True

    def discard(self) -> None:
        """Delete the recovery copy (after a save or a clean exit)."""
        for path in (self.session_file, self.note_file):
            path.unlink(missing_ok=True)

    def stop(self) -> None:
        """Stop the timers."""
        self._periodic.stop()
        self._soon.stop()


def find_recovery(folder: Path | None = None) -> tuple[Session, str | None] | None:
    """The session left by a run that did not end cleanly, and its original file."""
    folder = Path(folder) if folder is not None else default_recovery_dir()
    session_file = folder / "session.json"
    if not session_file.exists():
        return None
    try:
        session = Session.load(session_file)
        note = json.loads((folder / "note.json").read_text(encoding="utf-8"))
    except Exception:
        logger.warning("Ignoring an unreadable recovery file %s", session_file)
        return None
    session.path = None
    return session, note.get("original")
