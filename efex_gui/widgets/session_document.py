"""The session as a document: unsaved work is never replaced without asking.

:class:`SessionDocument` is mixed into the main window. Every path that closes or
replaces the session (open folder / files / session, drag and drop, recent files,
New session, Close session, Quit) calls :meth:`SessionDocument.confirm_replace`
first, the one guard that asks Save / Discard / Cancel. The window title names the
session and carries Qt's ``[*]`` placeholder, shown while there is unsaved work.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QMainWindow, QMessageBox

from efex_gui.core.session.document import Session

if TYPE_CHECKING:
    from efex_gui.app.controller import SessionController


class SessionDocument:
    """Document behaviour of the main window (a mixin over QMainWindow).

    The window provides ``controller``, ``confirm_close``, ``save()`` and, once the
    extraction UI is installed, ``extraction``.
    """

    controller: SessionController
    confirm_close: bool
    #: the empty session is a new, untitled document (New session), not no document
    _new_document = False

    def save(self) -> bool:  # provided by the window
        """Save the session; the window that uses this mixin provides it."""
        raise NotImplementedError

    # --- unsaved work -------------------------------------------------------------
    def has_unsaved_work(self) -> bool:
        """Whether closing or replacing the session would lose something.

        Unsaved session changes (exclusions, overrides, metadata, targets,
        settings), or results of an extraction not saved with the session.
        """
        if not self.controller.session.files_metadata:
            return False
        extraction = getattr(self, "extraction", None)
        unsaved_results = extraction is not None and extraction.has_unsaved_results()
        return self.controller.is_dirty() or unsaved_results

    def ask_unsaved(self, action: str) -> QMessageBox.StandardButton:
        """Ask Save / Discard / Cancel before ``action`` (tests replace this)."""
        name = self.controller.session.path
        return QMessageBox.question(
            self._as_window(),
            "Unsaved changes",
            f"The session {name.name if name else '(untitled)'} has unsaved "
            f"changes. Save them before {action}?",
            QMessageBox.StandardButton.Save
            | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Save,
        )

    def confirm_replace(self, action: str) -> bool:
        """Whether the current session may be closed or replaced for ``action``.

        The one guard of every path that replaces the session (open, import, drop,
        recent files, new, close, quit): with unsaved work it asks Save / Discard /
        Cancel; Save saves first (and stops if that fails or is cancelled).
        """
        if not self.confirm_close or not self.has_unsaved_work():
            return True
        answer = self.ask_unsaved(action)
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        return answer == QMessageBox.StandardButton.Discard

    def ask_overwrite(self, name: str) -> str:
        """Ask what to do with a session file changed elsewhere (tests click it).

        Returns ``"overwrite"``, ``"save_as"`` or ``"cancel"``.
        """
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Session file changed",
            f"{name} was changed on disk (by another efex-gui window or another "
            "program) since this window opened or saved it.",
            parent=self._as_window(),
        )
        box.setInformativeText(
            "Overwrite it with this window's session (the other changes are lost), "
            "or save this session under another name?"
        )
        overwrite = box.addButton("Overwrite", QMessageBox.ButtonRole.DestructiveRole)
        save_as = box.addButton("Save as…", QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(save_as)
        box.exec()
        clicked = box.clickedButton()
        if clicked is overwrite:
            return "overwrite"
        return "save_as" if clicked is save_as else "cancel"

    def new_session(self) -> bool:
        """Start an empty, untitled session (after asking about unsaved work).

        The window then names it "untitled session" and says how to add recordings;
        :meth:`close_session` leaves no session at all ("efex-gui").
        """
        return self._replace_with_empty(
            "starting a new session",
            "New session: add recordings with File → Open folder… or Open files…",
            new_document=True,
        )

    def close_session(self) -> bool:
        """Close the session and show the empty window (after asking)."""
        return self._replace_with_empty(
            "closing it",
            "Session closed: open a folder, files or a session to start again",
            new_document=False,
        )

    def _replace_with_empty(
        self, action: str, status: str, *, new_document: bool
    ) -> bool:
        """Replace the session by an empty one once the person agreed to ``action``.

        Returns
        -------
        bool
            False when the person kept the current session.
        """
        if not self.confirm_replace(action):
            return False
        self._new_document = new_document
        self.controller.set_session(Session())
        self._as_window().statusBar().showMessage(status)
        return True

    def _as_window(self) -> QMainWindow:
        assert isinstance(self, QMainWindow)
        return self

    def _update_title(self, *_args: Any) -> None:
        """``name[*] — efex-gui``: Qt shows the ``*`` while there is unsaved work."""
        session = self.controller.session
        if session.files_metadata or session.path is not None:
            self._new_document = False  # the new document got its recordings
        if session.path is not None:
            self._as_window().setWindowTitle(f"{session.path.name}[*] — efex-gui")
        elif session.files_metadata or self._new_document:
            self._as_window().setWindowTitle("untitled session[*] — efex-gui")
        else:
            self._as_window().setWindowTitle("efex-gui")
        self._as_window().setWindowModified(self.has_unsaved_work())
