"""SessionController: owns the one Session and what is derived from it.

Widgets call commands (``open_json``, ``select_sweeps``, ``set_excluded``,
``set_metadata`` ...); the controller updates the session, keeps the derived state
(the :class:`~efex_gui.core.session.dataset.Dataset` listing, the Recordings read so
far, the rheobases) and emits one signal per kind of change. Reading files runs on the
worker
thread (see :mod:`efex_gui.app.loading`); edits go through a QUndoStack.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QUndoStack

from efex_gui.app.loading import RecordingStore
from efex_gui.app.undo import ConfigSnapshot, SetValueCommand
from efex_gui.app.worker import TaskContext, WorkerThread
from efex_gui.core.recordings.timing_consensus import SOURCE_KEY
from efex_gui.core.session.dataset import Dataset, EntryKey, SweepKey, entry_order
from efex_gui.core.session.document import ExtractionSettings, Session, open_json
from efex_gui.core.session.exclusions import (
    ExclusionKey,
    Exclusions,
    include,
    same_recording_keys,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from efex_gui.app.sweep_summary import SweepSummary

#: while files are read in the background, the views are told at most this often
LOADED_BATCH_MS = 400


class SessionController(QObject):
    """The single owner of project state; commands in, signals out."""

    #: a new session replaced the old one (Session)
    session_changed = Signal(object)
    #: the exclusions document changed (Exclusions)
    exclusions_changed = Signal(object)
    #: entries' metadata changed; their sweeps are unread again (list[EntryKey])
    metadata_changed = Signal(object)
    #: protocol → eCode overrides changed (dict)
    ecodes_changed = Signal(object)
    #: entries were read or failed to read (list[EntryKey])
    entries_loaded = Signal(object)
    #: the selected sweeps changed (list[SweepKey])
    selection_changed = Signal(object)
    #: per-cell rheobases were recomputed (dict[str, float | None])
    rheobase_changed = Signal(object)
    #: the QC flags were recomputed (dict[SweepKey, list[QCResult]])
    qc_changed = Signal(object)
    #: the session differs, or no longer differs, from its file (bool)
    dirty_changed = Signal(bool)
    #: any change worth autosaving (no payload)
    changed = Signal()
    #: a background task started (name), progressed (TaskProgress), ended
    task_started = Signal(str)
    task_progressed = Signal(object)
    task_finished = Signal(str)
    task_failed = Signal(object)
    task_cancelled = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = Session()
        self.dataset = Dataset(
            self.session.files_metadata, None, self.session.path_strings
        )
        self.undo_stack = QUndoStack(self)
        self.undo_stack.cleanChanged.connect(self._on_clean_changed)
        self.selection: list[SweepKey] = []
        self._never_saved = False
        #: size and mtime of the session file when opened or last saved here
        self._file_stamp: tuple[int, int] | None = None
        self._worker = WorkerThread()
        self.store = RecordingStore(self, self._worker)
        self.store.loaded.connect(self._on_loaded)
        self.store.rheobase_changed.connect(self.rheobase_changed)
        self.store.qc_changed.connect(self.qc_changed)
        for name in (
            "task_started",
            "task_progressed",
            "task_finished",
            "task_failed",
            "task_cancelled",
        ):
            getattr(self.store, name).connect(getattr(self, name))
        self._loaded_timer = QTimer(self, singleShot=True, interval=0)
        self._loaded_timer.timeout.connect(self._flush_loaded)
        self._pending_loaded: set[EntryKey] = set()

    # --- sessions ---------------------------------------------------------------
    def set_session(self, session: Session, *, saved: bool = True) -> None:
        """Replace the session (everything derived is dropped and rebuilt lazily)."""
        self.store.cancel()
        self.session = session
        self._file_stamp = _file_stamp(session.path)
        self.dataset = Dataset(
            session.files_metadata, session.data_root, session.path_strings
        )
        self.dataset.make_read_only()  # entries are replaced, never changed
        self.store.reset(self.dataset, session)
        self.selection = []
        self.undo_stack.clear()
        self._never_saved = not saved
        self.session_changed.emit(session)
        self.selection_changed.emit([])
        self.dirty_changed.emit(self.is_dirty())
        self.changed.emit()

    def new_session(
        self,
        files_metadata: dict[str, dict[str, list[dict[str, Any]]]],
        data_root: str | Path,
        ecode_overrides: dict[str, str] | None = None,
        targets: list[dict[str, Any]] | None = None,
    ) -> Session:
        """Start an unsaved session from imported files.

        The protocols of imported files are taken by their eCode for the rheobase
        and the automatic targets (``match_protocols_by_ecode``): a folder is not a
        BluePyEfe configuration whose numbers must stay BluePyEfe's.
        """
        copied: dict[str, dict[str, list[Mapping[str, Any]]]] = {
            cell: {name: copy.deepcopy(list(entries)) for name, entries in p.items()}
            for cell, p in files_metadata.items()
        }
        session = Session(
            files_metadata=copied,
            data_root=Path(data_root).absolute(),
            ecode_overrides=dict(ecode_overrides or {}),
            targets=targets,
            settings=ExtractionSettings(match_protocols_by_ecode=True),
        )
        self.set_session(session, saved=False)
        return session

    def open_json(self, path: str | Path) -> Session:
        """Open a session, an extraction config or a files_metadata JSON."""
        session = self.read_json(path)
        self.set_session(session, saved=session.path is not None)
        return session

    @staticmethod
    def read_json(path: str | Path) -> Session:
        """Read a session, config or files_metadata JSON without opening it yet."""
        return open_json(path)

    def save_session(self, path: str | Path | None = None) -> Path:
        """Save to ``path`` (or where it was last saved) atomically."""
        target = Path(path) if path is not None else self.session.path
        if target is None:
            raise ValueError("No file name for the session: use 'Save as'.")
        self.session.save(target)
        self._file_stamp = _file_stamp(target)
        self._never_saved = False
        self.undo_stack.setClean()
        self.dirty_changed.emit(False)
        return Path(target)

    def file_changed_on_disk(self) -> bool:
        """Whether the session file changed since this window opened or saved it.

        Another window, instance or program saved it: saving now would overwrite
        their work (a deleted file is not a change: saving writes it again).
        """
        path = self.session.path
        now = _file_stamp(path)
        return now is not None and now != self._file_stamp

    def is_dirty(self) -> bool:
        """Whether the session has changes not in its file."""
        return self._never_saved or not self.undo_stack.isClean()

    def _on_clean_changed(self, _clean: bool) -> None:
        self.dirty_changed.emit(self.is_dirty())

    # --- reading ----------------------------------------------------------------
    def load_all(self) -> None:
        """Read every entry not read yet, on the worker thread."""
        self.store.load(
            k for k in self.dataset.entry_keys() if not self.dataset.is_loaded(k)
        )

    def load_entries(self, keys: list[EntryKey]) -> None:
        """Read these entries (again) on the worker thread."""
        self.store.load(keys, force=True)

    def cancel_task(self) -> None:
        """Ask the running task to stop."""
        self.store.cancel()

    def is_busy(self) -> bool:
        """Whether a background task is running."""
        return self.store.is_busy()

    def recordings_for(self, sweep: SweepKey) -> list[Any]:
        """Return a sweep's Recordings, read if needed (an unread entry: all traces)."""
        return self.store.recordings_for(sweep)

    def raw_trace(self, sweep: SweepKey) -> tuple[Any | None, str | None]:
        """Return the raw trace and fix kind of a sweep not interpreted."""
        return self.store.raw_trace(sweep)

    def summary(self, sweep: SweepKey) -> SweepSummary:
        """Summarize what the browser shows for one sweep."""
        return self.store.summary(sweep, self.session.exclusions)

    def _on_loaded(self, keys: list[EntryKey]) -> None:
        # Deferred: a read on demand may happen while a view is painting. While a
        # background read runs, results are batched (the views and the target check
        # redo their work per batch, not per file) and the timer is not restarted.
        self._pending_loaded.update(keys)
        if not self._loaded_timer.isActive():
            busy = self.store.is_busy()
            self._loaded_timer.setInterval(LOADED_BATCH_MS if busy else 0)
            self._loaded_timer.start()

    def _flush_loaded(self) -> None:
        keys = sorted(self._pending_loaded, key=entry_order)
        self._pending_loaded = set()
        if keys:
            self.selection = [self.store.normalize(s) for s in self.selection]
            self.entries_loaded.emit(keys)

    # --- selection --------------------------------------------------------------
    def select_sweeps(self, sweeps: list[SweepKey]) -> None:
        """Make ``sweeps`` the selection (no signal if unchanged)."""
        normalized = [self.store.normalize(s) for s in sweeps]
        if normalized != self.selection:
            self.selection = normalized
            self.selection_changed.emit(list(normalized))

    def step_selection(self, delta: int) -> None:
        """Select the sweep ``delta`` places after the last selected one."""
        sweeps = [self.store.normalize(s) for s in self.dataset.all_sweeps()]
        if not sweeps:
            return
        if self.selection and self.selection[-1] in sweeps:
            position = sweeps.index(self.selection[-1]) + delta
        else:
            position = 0 if delta > 0 else len(sweeps) - 1
        self.select_sweeps([sweeps[max(0, min(len(sweeps) - 1, position))]])

    def selected_entries(self) -> list[EntryKey]:
        """Entries of the selected sweeps, without repeats, in order."""
        return list(dict.fromkeys(s.entry_key for s in self.selection))

    # --- exclusions -------------------------------------------------------------
    def exclusion_key(self, sweep: SweepKey) -> ExclusionKey:
        """Return the exclusion key of a sweep."""
        return self.dataset.exclusion_key(sweep)

    def is_excluded(self, key: ExclusionKey) -> bool:
        """Whether ``key`` is excluded (by itself or a level above)."""
        return self.session.exclusions.is_excluded(key)

    def set_excluded(
        self, keys: list[ExclusionKey], excluded: bool, reason: str = ""
    ) -> None:
        """Exclude (or include again) cells, protocols, entries or traces; undoable.

        A file follows its recording: excluded (or included) under one protocol, it
        is under every protocol that reads it (:func:`same_recording_keys`).
        """
        keys = same_recording_keys(self.session.files_metadata, keys)
        old = self.session.exclusions
        if excluded:
            new = old.with_excluded(keys, reason)
        else:
            new = old
            for key in keys:
                new = include(new, key, self.dataset.child_keys)
        if new == old:
            return
        verb = "Exclude" if excluded else "Include"
        text = f"{verb} {_describe_keys(keys)}"
        self.undo_stack.push(
            SetValueCommand(self._apply_exclusions, old, new, text, None)
        )

    def toggle_selection_excluded(self, reason: str = "") -> None:
        """Exclude the selected sweeps, or include them if all are excluded."""
        keys = list(dict.fromkeys(self.exclusion_key(s) for s in self.selection))
        if keys:
            all_excluded = all(self.is_excluded(k) for k in keys)
            self.set_excluded(keys, not all_excluded, reason)

    def _apply_exclusions(self, exclusions: Exclusions) -> None:
        changed = set(exclusions.reasons) ^ set(self.session.exclusions.reasons)
        self.session.exclusions = exclusions
        self.exclusions_changed.emit(exclusions)
        # only the cells whose exclusions changed can have another rheobase
        self.store.exclusions_changed(self.session, {k.cell for k in changed})
        self.changed.emit()

    # --- metadata ---------------------------------------------------------------
    def set_metadata(self, keys: list[EntryKey], changes: dict[str, Any]) -> None:
        """Set (value) or remove (None) metadata keys of entries; undoable."""
        old: ConfigSnapshot = {k: self.dataset.config(k) for k in keys}
        new: ConfigSnapshot = {}
        for key, config in old.items():
            edited = dict(config)
            if {"ton", "toff"} & set(changes) and SOURCE_KEY not in changes:
                edited.pop(SOURCE_KEY, None)  # a window the person sets is theirs
            for name, value in changes.items():
                if value is None:
                    edited.pop(name, None)
                else:
                    edited[name] = value
            new[key] = edited
        if new == old:
            return
        text = f"Edit {', '.join(changes)} of {len(keys)} file(s)"
        self.undo_stack.push(SetValueCommand(self._apply_configs, old, new, text))

    def _apply_configs(self, snapshot: ConfigSnapshot) -> None:
        for key, config in snapshot.items():
            self.dataset.set_config(key, config)
            self.store.forget(key)
        keys = sorted(snapshot)
        self.metadata_changed.emit(keys)
        self.changed.emit()
        self.store.load(keys)

    def set_ecode_override(self, protocol: str, name: str | None) -> None:
        """Read ``protocol`` as the eCode ``name`` resolves to (None: the table's)."""
        old = dict(self.session.ecode_overrides)
        new = dict(old)
        if name:
            new[protocol] = name
        else:
            new.pop(protocol, None)
        if new != old:
            text = f"eCode of {protocol}: {name or 'default'}"
            self.undo_stack.push(SetValueCommand(self._apply_overrides, old, new, text))

    def _apply_overrides(self, overrides: dict[str, str]) -> None:
        changed = set(overrides) ^ set(self.session.ecode_overrides)
        changed |= {
            p for p in overrides if overrides[p] != self.session.ecode_overrides.get(p)
        }
        self.session.ecode_overrides = overrides
        keys = [k for k in self.dataset.entry_keys() if k.protocol in changed]
        for key in keys:
            self.store.forget(key)
        self.ecodes_changed.emit(dict(overrides))
        self.metadata_changed.emit(keys)
        self.changed.emit()
        self.store.load(keys)

    # --- lifecycle --------------------------------------------------------------
    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Cancel the running task and stop the worker thread."""
        self.store.cancel()
        return self._worker.stop(timeout_ms)

    def run_in_worker(self, name: str, fn: Any) -> TaskContext:
        """Run ``fn(context)`` on the worker thread (one task at a time)."""
        return self.store.run_task(name, fn)


def _file_stamp(path: Path | None) -> tuple[int, int] | None:
    """Size and modification time (ns) of ``path`` (None if absent or unknown)."""
    try:
        stat = Path(path).stat() if path is not None else None
    except OSError:
        return None
    return None if stat is None else (stat.st_size, stat.st_mtime_ns)


def _describe_keys(keys: list[ExclusionKey]) -> str:
    if len(keys) == 1:
        return " / ".join(str(p) for p in keys[0].as_list())
    return f"{len(keys)} items"
