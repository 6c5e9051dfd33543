"""The import dialog's default metadata: units, dt and LJP added to every file.

An empty field means "from the file" (its own units, its sampling). The core parses
what was typed (``parse_profile_defaults``); the dialog saves the texts in its
profile.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QGridLayout, QGroupBox, QLabel, QLineEdit, QWidget

from efex_gui.core.session.folder_import import parse_profile_defaults
from efex_gui.widgets.help import DEFAULT_LABELS, DEFAULT_TIPS
from efex_gui.widgets.setting_fields import metadata_field

if TYPE_CHECKING:
    from collections.abc import Mapping

#: the metadata keys offered, in their column order
DEFAULT_KEYS = ("i_unit", "v_unit", "t_unit", "dt", "ljp")


class DefaultMetadataBox(QGroupBox):
    """One field per key of :data:`DEFAULT_KEYS` (a unit menu or a number).

    Parameters
    ----------
    parent : QWidget, optional
        Qt parent.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Metadata added to every file (empty: from the file)", parent)
        grid = QGridLayout(self)
        #: the line edit of each key (a unit menu's editable line for units)
        self.edits: dict[str, QLineEdit] = {}
        for column, key in enumerate(DEFAULT_KEYS):
            widget, edit = metadata_field(key, self)
            widget.setToolTip(DEFAULT_TIPS[key])
            edit.setToolTip(DEFAULT_TIPS[key])
            grid.addWidget(QLabel(DEFAULT_LABELS[key]), 0, column)
            grid.addWidget(widget, 1, column)
            grid.setColumnStretch(column, 1)
            self.edits[key] = edit

    def texts(self) -> dict[str, str]:
        """Return what was typed in each field (stripped; '' when empty)."""
        return {key: edit.text().strip() for key, edit in self.edits.items()}

    def set_texts(self, values: Mapping[str, Any]) -> None:
        """Show ``values`` (missing or None keys: empty fields)."""
        for key, edit in self.edits.items():
            value = values.get(key)
            edit.setText("" if value is None else str(value))

    def values(self) -> dict[str, Any]:
        """Return the metadata typed, numbers parsed (empty fields left out).

        The core's reading of an import profile's defaults (``efex import`` reads
        them the same way).

        Raises
        ------
        MetadataError
            A number field holds something that is not a number.
        """
        return parse_profile_defaults(self.texts())
