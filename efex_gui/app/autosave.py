"""Autosave to a recovery folder per running instance, and the offer to restore it.

Each running window (one per process) autosaves its session, while it has unsaved
changes, into its own folder ``<application data>/recovery/<instance id>/``: the
session, its last extraction result (``session.efex-results``, as a saved session
keeps it beside its file: a restored session shows it at once, with no
re-extraction), a note saying which file it belongs to, and a lock file
(:class:`~PySide6.QtCore.QLockFile`) held for as long as the instance runs. A clean
exit deletes the folder.

At start, :func:`find_recoveries` lists the folders whose lock it can take: their
instance is gone (a crash, ``kill -9``), since a live instance holds its lock. The
lock stays with the finder until the person chose, so a crashed instance's recovery
is offered to one instance at a time, and a live instance's autosave is never offered
to another. Once offered it is either restored (adopted by the new instance) or
moved to ``recovery/declined/``: it is offered once.

The session a window replaces keeps its recovery copy until the person chose (the
window asks Save / Discard / Cancel before replacing it); the copy is dropped once
the session is saved or replaced.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QLockFile, QObject, QStandardPaths, QTimer

from efex_gui.core.atomic_files import atomic_write_text
from efex_gui.core.extraction.result_store import results_path, save_result
from efex_gui.core.session.document import Session

if TYPE_CHECKING:
    from efex_gui.app.controller import SessionController
    from efex_gui.app.extraction_controller import ExtractionController

logger = logging.getLogger(__name__)

#: milliseconds between a change and its autosave
CHANGE_DELAY_MS = 2000
SESSION_NAME = "session.json"
NOTE_NAME = "note.json"
LOCK_NAME = "instance.lock"
DECLINED = "declined"


def default_recovery_dir() -> Path:
    """``<application data>/recovery``."""
    base = QStandardPaths.writableLocation(
        QStandardPaths.StandardLocation.AppDataLocation
    )
    return Path(base or Path.home() / ".efex_gui") / "recovery"


def _lock(path: Path) -> QLockFile | None:
    """Take the lock at ``path`` if nobody alive holds it (never stale by age)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = QLockFile(str(path))
    lock.setStaleLockTime(0)  # a live instance's lock never goes stale
    return lock if lock.tryLock(0) else None


class Autosaver(QObject):
    """Writes the controller's session to this instance's recovery folder while dirty.

    Parameters
    ----------
    controller : SessionController
        Whose session to keep.
    folder : Path, optional
        Recovery root (:func:`default_recovery_dir` if None); this instance writes
        into a sub-folder named by a fresh id, locked while it lives.
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
        self.root = Path(folder) if folder is not None else default_recovery_dir()
        self.folder = self.root / uuid.uuid4().hex
        self._lock = _lock(self.folder / LOCK_NAME)
        if self._lock is None:  # cannot happen for a fresh id, unless unwritable
            logger.warning("Cannot lock the recovery folder %s", self.folder)
        self._periodic = QTimer(self, interval=max(1, period_s) * 1000)
        self._periodic.timeout.connect(self.save_now)
        if period_s > 0:
            self._periodic.start()
        self._soon = QTimer(self, singleShot=True, interval=CHANGE_DELAY_MS)
        self._soon.timeout.connect(self.save_now)
        controller.changed.connect(self._soon.start)
        controller.dirty_changed.connect(self._on_dirty_changed)
        controller.session_changed.connect(self._on_session_changed)
        self._extraction: ExtractionController | None = None
        #: signature of the result in the recovery folder (None: none there)
        self._kept_signature: str | None = None

    def keep_results(self, extraction: ExtractionController) -> None:
        """Autosave ``extraction``'s last result with the session, when it changes."""
        self._extraction = extraction
        extraction.results_changed.connect(self._soon.start)

    def _on_dirty_changed(self, dirty: bool) -> None:
        if not dirty:  # saved: an older recovery copy would only confuse
            self.discard()

    def _on_session_changed(self, _session: Session) -> None:
        # the window asked before replacing: the old session's copy has served
        self.discard()

    @property
    def session_file(self) -> Path:
        """The recovery copy of the session."""
        return self.folder / SESSION_NAME

    @property
    def results_file(self) -> Path:
        """The recovery copy of the last extraction result."""
        return results_path(self.session_file)

    @property
    def note_file(self) -> Path:
        """What the recovery copy belongs to."""
        return self.folder / NOTE_NAME

    def save_now(self) -> bool:
        """Write the recovery copy if the session has unsaved changes."""
        if not self.controller.is_dirty() or not self.controller.session.files_metadata:
            return False
        session = self.controller.session
        try:
            session_copy = Session.from_dict(session.to_dict(self.folder), self.folder)
            session_copy.save(self.session_file)
            note = {
                "original": str(session.path) if session.path else None,
                "saved_at": time.time(),
            }
            atomic_write_text(self.note_file, json.dumps(note))
            self._save_results()
        except Exception:  # autosave must never disturb the user
            logger.exception("Autosave failed")
            return False
        return True

    def _save_results(self) -> None:
        """Write the extraction result beside the copy unless it is there already."""
        result = None if self._extraction is None else self._extraction.result
        if result is None:
            self.results_file.unlink(missing_ok=True)
            self._kept_signature = None
        elif result.signature != self._kept_signature:
            save_result(result, self.controller.session, self.results_file)
            self._kept_signature = result.signature

    def discard(self) -> None:
        """Delete the recovery copy (after a save, a replacement or a clean exit)."""
        for path in (self.session_file, self.note_file, self.results_file):
            path.unlink(missing_ok=True)
        self._kept_signature = None

    def stop(self) -> None:
        """Stop the timers."""
        self._periodic.stop()
        self._soon.stop()

    def close(self) -> None:
        """Stop, delete the copy and release the folder (a clean exit)."""
        self.stop()
        self.discard()
        if self._lock is not None:
            self._lock.unlock()
            self._lock = None
        shutil.rmtree(self.folder, ignore_errors=True)


@dataclass
class Recovery:
    """A recovery copy left by an instance that is gone; its lock is held.

    Call :meth:`adopted` once restored, or :meth:`decline`; either releases it.
    """

    folder: Path
    session: Session
    original: str | None
    saved_at: float | None
    lock: QLockFile | None = field(repr=False, default=None)

    @property
    def results_file(self) -> Path:
        """The autosaved extraction result (may be absent)."""
        return results_path(self.folder / SESSION_NAME)

    def adopted(self) -> None:
        """Drop the copy: the session was restored (and autosaved by this instance)."""
        self._release()
        shutil.rmtree(self.folder, ignore_errors=True)

    def decline(self) -> Path:
        """Not restored: move it to ``recovery/declined/`` (never offered again)."""
        target = self.folder.parent / DECLINED / self.folder.name
        target.parent.mkdir(parents=True, exist_ok=True)
        self._release()
        (self.folder / LOCK_NAME).unlink(missing_ok=True)
        shutil.move(str(self.folder), str(target))
        return target

    def release(self) -> None:
        """Leave it for another time (keep the copy, release the lock)."""
        self._release()

    def _release(self) -> None:
        if self.lock is not None:
            self.lock.unlock()
            self.lock = None


def find_recoveries(folder: Path | None = None) -> list[Recovery]:
    """Recovery copies of instances that are gone, newest first, each locked."""
    root = Path(folder) if folder is not None else default_recovery_dir()
    if not root.is_dir():
        return []
    found = []
    for candidate in sorted(p for p in root.iterdir() if p.is_dir()):
        if candidate.name == DECLINED or not (candidate / SESSION_NAME).exists():
            continue
        lock = _lock(candidate / LOCK_NAME)
        if lock is None:  # its instance is alive (or another one is offering it)
            continue
        recovery = _read_recovery(candidate, lock)
        if recovery is not None:
            found.append(recovery)
    found.sort(key=lambda r: r.saved_at or 0.0, reverse=True)
    return found


def _read_recovery(folder: Path, lock: QLockFile) -> Recovery | None:
    try:
        session = Session.load(folder / SESSION_NAME)
        note = json.loads((folder / NOTE_NAME).read_text(encoding="utf-8"))
    except Exception:
        logger.warning("Ignoring an unreadable recovery file in %s", folder)
        lock.unlock()
        return None
    session.path = None
    return Recovery(folder, session, note.get("original"), note.get("saved_at"), lock)


def find_recovery(folder: Path | None = None) -> tuple[Session, str | None] | None:
    """Find the newest recovery copy left by an instance that is gone, and its original.

    The copies found are released again (a convenience for scripts and tests; the
    application uses :func:`find_recoveries`).
    """
    found = find_recoveries(folder)
    for recovery in found:
        recovery.release()
    return (found[0].session, found[0].original) if found else None
