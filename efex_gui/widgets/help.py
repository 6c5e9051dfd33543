"""Help texts: tooltips of the import dialog, the keyboard-shortcut sheet, About.

Kept apart from the widgets so that each text is written once: the shortcut sheet
lists the same keys the widgets handle, and About reports the versions of the
libraries the numbers depend on.
"""

from __future__ import annotations

from importlib import metadata
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QDockWidget,
    QLabel,
    QVBoxLayout,
    QWidget,
)

#: attribute of ImportDialog → its tooltip
IMPORT_TIPS = {
    "preset": "Name patterns for common layouts; pick one or write your own regex",
    "pattern": (
        "Regular expression matched against each path relative to the folder. "
        "Named groups: cell, protocol, channel, number, repetition. Files with no "
        "channel group are read whole (NWB, ABF: protocols from inside the file)."
    ),
    "current_channel": (
        "Channel number of the current files (e.g. 0 for ch0). Empty: the files' "
        "units decide, else the lowest channel"
    ),
    "voltage_channel": (
        "Channel number of the voltage files (e.g. 1 for ch1). Empty: the files' "
        "units decide, else the highest channel"
    ),
    "detect_roles": (
        "Open the first file of each cell and channel to read its unit (A or V) "
        "and so tell current from voltage"
    ),
    "preview": (
        "One row per recording the import will create; files left out are red, "
        "with the reason"
    ),
    "ecodes": (
        "How each protocol name is read: the eCode table's key it matched and the "
        "eCode class. Pick an override when the name says nothing (e.g. a Step "
        "protocol called 'TestPulse')"
    ),
    "summary": "What the import will create",
    "ok_button": "Create the session with these recordings (nothing is read yet)",
    "cancel_button": "Close without importing",
    "save_button": "Save the pattern, channels, defaults and eCode overrides",
    "load_button": "Load saved import settings",
}
#: default metadata key → its label
DEFAULT_LABELS = {
    "i_unit": "Current unit", "v_unit": "Voltage unit", "t_unit": "Time unit",
    "dt": "dt (in the time unit)", "ljp": "LJP (mV)",
}  # fmt: skip
#: default metadata key → tooltip
DEFAULT_TIPS = {
    "i_unit": "Current unit for every file (empty: the file's own unit)",
    "v_unit": "Voltage unit for every file (empty: the file's own unit)",
    "t_unit": "Time unit of dt (empty: the file's own)",
    "dt": "Sampling interval in the time unit (empty: from the file)",
    "ljp": "Liquid junction potential in mV, subtracted from the voltage",
}

#: keys handled by the widgets themselves: (place, [(keys, what they do)])
SHORTCUTS: list[tuple[str, list[tuple[str, str]]]] = [
    ("File browser", [
        ("↑ / ↓", "Move through cells, protocols and sweeps"),
        ("← / →", "Collapse / expand"),
        ("Shift or Ctrl + click", "Select several sweeps (overlaid in the plot)"),
        ("X", "Exclude or include the selected rows"),
        ("Right-click", "Exclude with a reason, include, read again, copy paths"),
    ]),
    ("Trace plot (click it first)", [
        ("← / → or ↑ / ↓", "Previous / next sweep"),
        ("X or Space", "Exclude or include the sweep"),
        ("A", "Auto-range"),
        ("B", "Box zoom on/off"),
        ("Wheel / drag / right-drag", "Zoom / pan (or box) / stretch an axis"),
    ]),
]  # fmt: skip


def plural(count: int, word: str) -> str:
    """``"1 cell"``, ``"2 cells"``."""
    return f"{count} {word}{'' if count == 1 else 's'}"


def action_shortcuts(window: QWidget) -> list[tuple[str, str]]:
    """``(keys, what)`` of every action of ``window`` that has a shortcut.

    Actions of a dock (the extraction panels) are named with the dock's title.
    """
    found: dict[str, str] = {}
    for action in window.findChildren(QAction):
        keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        if not keys or keys in found:
            continue
        text = action.text().replace("&", "").replace("…", "")
        if text.startswith(("Undo ", "Redo ")):  # QUndoStack adds the last command
            text = text.split()[0]
        dock = _dock_title(action)
        found[keys] = f"{dock}: {text}" if dock else text
    return sorted(found.items(), key=lambda kv: (":" in kv[1], kv[1].lower()))


def _dock_title(action: QAction) -> str:
    parent = action.parent()
    while parent is not None and not isinstance(parent, QDockWidget):
        parent = parent.parent()
    return parent.windowTitle() if parent is not None else ""


def shortcut_html(window: QWidget | None = None) -> str:
    """Render the shortcut sheet as an HTML table (menu keys read from ``window``)."""
    menus = action_shortcuts(window) if window is not None else []
    rows = []
    for place, keys in [("Menus and toolbars", menus), *SHORTCUTS]:
        rows.append(f"<tr><td colspan=2><h4>{place}</h4></td></tr>")
        rows += [
            f"<tr><td><b>{key}</b>&nbsp;&nbsp;</td><td>{what}</td></tr>"
            for key, what in keys
        ]
    return "<table cellspacing=2>" + "".join(rows) + "</table>"


def versions() -> dict[str, str]:
    """Installed versions of efex_gui and the libraries its numbers come from."""
    found = {}
    for name, dist in (
        ("efex_gui", "efex-gui"),
        ("efel", "efel"),
        ("numpy", "numpy"),
        ("PySide6", "PySide6"),
        ("pyqtgraph", "pyqtgraph"),
    ):
        found[name] = _version(name, dist)
    return found


def _version(module: str, dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        pass
    try:
        imported: Any = __import__(module)
    except ImportError:
        return "not installed"
    return str(getattr(imported, "__version__", "unknown"))


def about_html() -> str:
    """Render the About box text, with the versions."""
    from efex_gui import __version__

    lines = "".join(
        f"<tr><td>{name}&nbsp;&nbsp;</td><td>{version}</td></tr>"
        for name, version in versions().items()
    )
    return (
        f"<h3>efex-gui {__version__}</h3>"
        "<p>See, curate and extract e-features from patch-clamp recordings; "
        "exports BluePyEfe-compatible JSON.</p>"
        f"<table>{lines}</table>"
    )


def show_shortcuts(parent: QWidget) -> QDialog:
    """Open the shortcut sheet of ``parent``'s actions (non-modal); the dialog."""
    dialog = QDialog(parent)
    dialog.setWindowTitle("Keyboard shortcuts")
    label = QLabel(shortcut_html(parent), dialog)
    label.setTextFormat(Qt.TextFormat.RichText)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, dialog)
    buttons.rejected.connect(dialog.close)
    layout = QVBoxLayout(dialog)
    layout.addWidget(label)
    layout.addWidget(buttons)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    return dialog
