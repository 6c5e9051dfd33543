"""Small form helpers: spin boxes, forms, optional settings, metadata fields.

A :class:`SettingField` is one setting in a form: a check box ("set"; unticked means
the key is absent) or a plain label for a required field, and an editor (spin box or
combo box) whose range and choices come from ``resources/defaults/settings.json``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSignalBlocker, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from efex_gui.core.units import UNIT_CHOICES

if TYPE_CHECKING:
    from collections.abc import Callable

    from PySide6.QtGui import QWheelEvent


def _wheel_when_focused(
    widget: QWidget, event: QWheelEvent, take: Callable[[QWheelEvent], None]
) -> None:
    """Give ``event`` to ``take`` when ``widget`` has the focus; else ignore it.

    An ignored wheel event goes to the parent: in a scrolled form, the form scrolls.
    """
    if widget.hasFocus():
        take(event)
    else:
        event.ignore()


class WheelSafeComboBox(QComboBox):
    """A combo box that the mouse wheel changes only once it has the focus.

    In a scrolled form the wheel scrolls the form: a plain combo box under the
    pointer took the wheel and changed its value (a time unit became ``10th_ms``
    while the metadata panel was scrolled to its Apply button).
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # the wheel gives no focus

    def wheelEvent(self, event: QWheelEvent) -> None:
        """Change the value only when focused; else let the form scroll."""
        _wheel_when_focused(self, event, super().wheelEvent)


class WheelSafeSpinBox(QSpinBox):
    """An integer spin box that the mouse wheel changes only once it has the focus.

    As :class:`WheelSafeComboBox`: scrolling the settings panel over a spin box
    changed the setting under the pointer.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # the wheel gives no focus

    def wheelEvent(self, event: QWheelEvent) -> None:
        """Change the value only when focused; else let the form scroll."""
        _wheel_when_focused(self, event, super().wheelEvent)


class WheelSafeDoubleSpinBox(QDoubleSpinBox):
    """A decimal spin box that the mouse wheel changes only once it has the focus.

    See :class:`WheelSafeSpinBox`.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # the wheel gives no focus

    def wheelEvent(self, event: QWheelEvent) -> None:
        """Change the value only when focused; else let the form scroll."""
        _wheel_when_focused(self, event, super().wheelEvent)


def spin_box(field: dict[str, Any], parent: QWidget) -> QSpinBox | QDoubleSpinBox:
    """Make a spin box for a numeric setting ``field`` (range, decimals, unit).

    Parameters
    ----------
    field : dict
        The setting's description: ``type`` ("int" or "float"), optional
        ``minimum``, ``maximum``, ``decimals`` and ``unit``.
    parent : QWidget
        The box's parent.

    Returns
    -------
    QSpinBox or QDoubleSpinBox
        The box (a :class:`WheelSafeSpinBox` or :class:`WheelSafeDoubleSpinBox`: the
        wheel scrolls the form unless the box has the focus), without keyboard
        tracking (a value counts once typed).
    """
    if field["type"] == "int":
        spin: QSpinBox | QDoubleSpinBox = WheelSafeSpinBox(parent)
    else:
        spin = WheelSafeDoubleSpinBox(parent)
        spin.setDecimals(field.get("decimals", 4))
        spin.setSingleStep(0.005 if field.get("maximum", 1) <= 10 else 1.0)
    spin.setRange(field.get("minimum", -1e9), field.get("maximum", 1e9))
    if field.get("unit"):
        spin.setSuffix(f" {field['unit']}")
    spin.setKeyboardTracking(False)
    return spin


def form_layout(parent: QWidget | None) -> QFormLayout:
    """Make a form layout whose fields keep their size hint.

    Parameters
    ----------
    parent : QWidget or None
        The widget the layout is set on, or None for a nested layout.

    Returns
    -------
    QFormLayout
        The layout.
    """
    form = QFormLayout(parent) if parent is not None else QFormLayout()
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
    return form


#: the widest number a metadata field must show whole
WIDEST_NUMBER = "-00000.000"


def metadata_field(name: str, parent: QWidget) -> tuple[QWidget, QLineEdit]:
    """Make the editor of a metadata key: units offered for a unit key.

    Parameters
    ----------
    name : str
        The metadata key; a key of :data:`~efex_gui.core.units.UNIT_CHOICES` gets an
        editable combo box of its units (and an empty choice), any other a line edit.
    parent : QWidget
        The editor's parent.

    Returns
    -------
    tuple of (QWidget, QLineEdit)
        The widget to put in the form, and the line edit that holds the text.
    """
    if name not in UNIT_CHOICES:
        edit = QLineEdit(parent)
        # a window end such as 2002.3 ms must show whole in a narrow form (it read
        # "02.3" beside the panel's notes)
        edit.setMinimumWidth(edit.fontMetrics().horizontalAdvance(WIDEST_NUMBER) + 12)
        return edit, edit
    combo = WheelSafeComboBox(parent)
    combo.setEditable(True)
    combo.addItems(["", *UNIT_CHOICES[name]])
    line = combo.lineEdit()
    assert line is not None  # an editable combo box has one
    return combo, line


class SettingField:
    """A 'set' check box and an editor for one optional setting."""

    def __init__(
        self, name: str, spec: dict[str, Any], parent: QWidget, optional: bool = True
    ) -> None:
        self.name, self.spec = name, spec
        self.enabled = QCheckBox(name, parent)
        self.enabled.setToolTip(spec.get("help", ""))
        #: what the form shows left of the editor: the check box, or a plain label
        self.label: QWidget = self.enabled
        if not optional:
            self.enabled.setChecked(True)
            self.enabled.setVisible(False)
            self.label = QLabel(name, parent)
        if spec["type"] == "bool":
            self.editor: Any = WheelSafeComboBox(parent)
            self.editor.addItems(["true", "false"])
        elif spec["type"] == "choice":
            self.editor = WheelSafeComboBox(parent)
            self.editor.addItems(spec["choices"])
        else:
            self.editor = spin_box(spec, parent)
        self.editor.setToolTip(spec.get("help", ""))
        self.enabled.toggled.connect(self.editor.setEnabled)

    def set(self, present: bool, value: Any) -> None:
        """Show ``value`` (the default when None) and tick 'set' when ``present``."""
        blockers = [QSignalBlocker(self.enabled), QSignalBlocker(self.editor)]
        self.enabled.setChecked(present)
        self.editor.setEnabled(present)
        if value is None:
            value = self.spec.get("default")
        if isinstance(self.editor, QComboBox):
            text = (
                ("true" if value else "false") if self.spec["type"] == "bool" else value
            )
            self.editor.setCurrentText(str(text))
        elif value is not None:
            self.editor.setValue(value)
        del blockers

    def value(self) -> Any:
        """Return the editor's value (a bool, a choice's text or a number)."""
        if self.spec["type"] == "bool":
            return self.editor.currentText() == "true"
        if self.spec["type"] == "choice":
            return self.editor.currentText()
        return self.editor.value()

    def connect(self, slot: Any) -> None:
        """Call ``slot`` when the 'set' box or the editor's value changes."""
        self.enabled.toggled.connect(slot)
        if isinstance(self.editor, QComboBox):
            self.editor.currentTextChanged.connect(slot)
        else:
            self.editor.valueChanged.connect(slot)
