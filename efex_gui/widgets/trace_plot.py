"""TracePlot: voltage above current for the selected sweeps (pyqtgraph).

Everything drawn comes from the core's Recording objects: ``t``, ``voltage``,
``current`` (ms, mV, nA), the detected stimulus window (``ton``, ``toff``), efel's
spikes (``peak_time``) and the spike threshold (the efel ``Threshold`` setting, else
the recording's ``auto_threshold``). Excluded sweeps are drawn dimmed. Left/Right (or
Up/Down) step through the sweeps, X or Space toggles the exclusion.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor, QCursor, QKeyEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMenu,
    QMessageBox,
    QPushButton,
    QToolButton,
    QVBoxLayout,
)

from efex_gui.app.controller import SessionController
from efex_gui.app.qc_actions import SCOPES, WindowScope, apply_window
from efex_gui.core.errors import MetadataError
from efex_gui.core.numbers import finite_number
from efex_gui.widgets.controller_view import ControllerView
from efex_gui.widgets.tree_text import entry_paths, spikes_text, status_text

if TYPE_CHECKING:
    from collections.abc import Callable

    from efex_gui.core.session.dataset import SweepKey

#: at most this many sweeps are drawn at once
MAX_DRAWN = 40
#: overlays of up to this many sweeps get a legend
MAX_LEGEND = 12
#: the legend's columns at most (wider, it would cover the threshold's label)
MAX_LEGEND_COLUMNS = 3
DIM_ALPHA = 50
TITLE_TIP = "Cell / protocol / sweep, its amplitude and spikes"
NOTHING_SELECTED = "Select a sweep in the browser (several: overlaid)"
PLOT_TIP = (
    "Voltage above current, time axes linked. Wheel: zoom; drag: pan (or box "
    "zoom); right-drag: stretch; right-click: plot menu. Shaded: the stimulus "
    "window (ton–toff): drag it or its edges to set the window (snaps to samples; "
    "on release choose this sweep, this protocol in this cell or in every cell); "
    "red dots: spikes; dashed: spike threshold.\n"
    "Keys: ←/→ or ↑/↓ previous/next sweep, X or Space exclude/include, "
    "A auto-range, B box zoom."
)
STIMULUS_BRUSH = (255, 193, 7, 40)
SPIKE_BRUSH = (229, 57, 53)


def sweep_color(position: int, count: int) -> QColor:
    """Pick a distinct colour per overlaid sweep (one colour when alone)."""
    if count <= 1:
        return QColor(25, 90, 170)
    color: QColor = pg.intColor(position, hues=max(count, 2), values=1, maxValue=200)
    return color


class TracePlot(ControllerView[SessionController]):
    """Two linked plots (voltage, current) of the controller's selected sweeps."""

    #: the plot was redrawn (number of sweeps drawn)
    drawn = Signal(int)
    #: the person asked to fix the selected sweep's metadata (the "Fix" button)
    metadata_requested = Signal()
    #: the person asked to describe the selected text file (its entry key)
    text_form_requested = Signal(object)
    #: a dragged stimulus window was refused (the message)
    window_refused = Signal(str)
    #: a dragged stimulus window was applied (list[EntryKey])
    window_applied = Signal(object)

    def _build(self) -> None:
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.title = QLabel(NOTHING_SELECTED, self)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.title.setToolTip(TITLE_TIP)
        self.auto_button = QToolButton(self)
        self.auto_button.setText("Auto-range")
        self.auto_button.setToolTip("Show the whole traces again (A)")
        self.auto_button.clicked.connect(self.auto_range)
        self.box_button = QToolButton(self)
        self.box_button.setText("Box zoom")
        self.box_button.setCheckable(True)
        self.box_button.setToolTip(
            "On: drag a rectangle to zoom into it. Off: drag to pan (B)"
        )
        self.box_button.toggled.connect(self.set_box_zoom)
        self.graphics = pg.GraphicsLayoutWidget(self)
        self.graphics.setBackground("w")
        self.graphics.setToolTip(PLOT_TIP)
        self.voltage_plot = self.graphics.addPlot(row=0, col=0)
        self.current_plot = self.graphics.addPlot(row=1, col=0)
        self.graphics.ci.layout.setRowStretchFactor(0, 3)
        self.graphics.ci.layout.setRowStretchFactor(1, 1)
        self.current_plot.setXLink(self.voltage_plot)
        self.legend = self.voltage_plot.addLegend(
            offset=(-10, 10), brush=(255, 255, 255, 190), labelTextSize="8pt"
        )
        self.voltage_plot.setLabel("left", "Voltage", units="mV")
        self.current_plot.setLabel("left", "Current", units="nA")
        self.current_plot.setLabel("bottom", "Time", units="ms")
        for plot in (self.voltage_plot, self.current_plot):
            plot.getAxis("left").enableAutoSIPrefix(False)
            plot.getAxis("bottom").enableAutoSIPrefix(False)
        self.title.setWordWrap(True)
        self.fix_button = QPushButton(self)
        self.fix_button.setToolTip("Fix what kept this sweep from being interpreted")
        self.fix_button.hide()
        self.fix_button.clicked.connect(self._on_fix)
        self._fix_kind: str | None = None
        header = QHBoxLayout()
        header.addWidget(self.title, 1)
        header.addWidget(self.fix_button)
        header.addWidget(self.box_button)
        header.addWidget(self.auto_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(header)
        layout.addWidget(self.graphics)
        self.voltage_items: list[pg.PlotDataItem] = []
        self.current_items: list[pg.PlotDataItem] = []
        self.spike_items: list[pg.ScatterPlotItem] = []
        self.threshold_line: pg.InfiniteLine | None = None
        self.stimulus_regions: list[pg.LinearRegionItem] = []
        self.drawn_sweeps: list[SweepKey] = []
        #: display-only voltage transform ``f(recording, voltage)`` (trace_tools)
        self.display_transform: Any = None
        #: asks where a dropped window applies (None: cancelled); tests replace it
        self.choose_scope: Callable[[], WindowScope | None] = self._ask_scope
        self._window_owner: tuple[SweepKey, Any] | None = None
        self._redraw_timer = QTimer(self, singleShot=True, interval=15)
        self._redraw_timer.timeout.connect(self.redraw)
        #: per drawn sweep: its colour, whether drawn as excluded, and its items
        self._styles: list[_DrawnStyle] = []
        self._drawn_selection: list[SweepKey] = []
        self.controller.selection_changed.connect(self._schedule)
        self.controller.exclusions_changed.connect(self._on_state)
        self.controller.metadata_changed.connect(self._on_entries)
        self.controller.rheobase_changed.connect(self._on_state)
        self.controller.session_changed.connect(self._schedule)

    def _schedule(self, *_args: Any) -> None:
        # Holding an arrow key selects many sweeps quickly: draw the last one only.
        self._redraw_timer.start()

    def _on_state(self, *_args: Any) -> None:
        """Exclusions or rheobases changed: restyle what is drawn (no new traces).

        Redraws in full only when another draw is already due.
        """
        if (
            self._redraw_timer.isActive()
            or not self._styles
            or self._drawn_selection != list(self.controller.selection)
        ):
            self._schedule()
            return
        for style in self._styles:
            excluded = self.controller.is_excluded(
                self.controller.exclusion_key(style.sweep)
            )
            if excluded != style.excluded:
                style.excluded = excluded
                _apply_style(style)
        self._set_title(self._title(self._drawn_pairs()))

    def _set_title(self, text: str) -> None:
        """Show ``text`` above the plots; the header only ever grows.

        A title one line taller (an excluded sweep's reason) would shrink the plots
        and a shorter one grow them back: each resize redraws both plots.
        """
        self.title.setText(text)
        if not self.title.isVisible():  # not laid out yet: its width means nothing
            return
        needed = self.title.heightForWidth(self.title.width())
        if needed > self.title.minimumHeight():
            self.title.setMinimumHeight(needed)

    def _drawn_pairs(self) -> list[tuple[SweepKey, Any]]:
        return [(style.sweep, style.recording) for style in self._styles]

    def _on_entries(self, keys: list[Any]) -> None:
        if set(keys) & {s.entry_key for s in self.controller.selection}:
            self._schedule()

    # --- drawing ------------------------------------------------------------------
    def clear(self) -> None:
        """Remove every drawn item."""
        for plot in (self.voltage_plot, self.current_plot):
            plot.clear()
        self.voltage_items, self.current_items, self.spike_items = [], [], []
        self.threshold_line, self.stimulus_regions, self.drawn_sweeps = None, [], []
        self._window_owner = None
        self._styles, self._drawn_selection = [], []

    def redraw(self) -> None:
        """Draw the controller's selection now."""
        self._redraw_timer.stop()
        self.clear()
        pairs = []
        for sweep in self.controller.selection[:MAX_DRAWN]:
            for recording in self.controller.recordings_for(sweep):
                if recording is not None and recording.voltage is not None:
                    pairs.append((sweep, recording))
        named = 1 < len(pairs) <= MAX_LEGEND
        self.legend.setColumnCount(2 if len(pairs) > MAX_LEGEND // 2 else 1)
        for position, (sweep, recording) in enumerate(pairs):
            excluded = self.controller.is_excluded(self.controller.exclusion_key(sweep))
            color = sweep_color(position, len(pairs))
            name = self._legend_name(sweep) if named else None
            style = _DrawnStyle(sweep, recording, color, excluded, len(pairs) > 1)
            self._draw_recording(recording, style, name)
            self.drawn_sweeps.append(sweep)
            self._styles.append(style)
        self._drawn_selection = list(self.controller.selection)
        if pairs:
            self._window_owner = pairs[0]
            self._draw_stimulus(pairs[0][1])
            self._draw_threshold(pairs[0][1])
        if named:
            self._fit_legend()
        self._show_fix(None)
        if not pairs and self.controller.selection:
            self._draw_raw(self.controller.selection[0])
        else:
            self._set_units("mV", "nA", "ms")
        self._set_title(self._title(pairs))
        warnings = self.controller.summary(pairs[0][0]).warnings if pairs else ()
        self.title.setToolTip("\n".join(warnings) if len(pairs) == 1 and warnings
                              else TITLE_TIP)  # fmt: skip
        self.drawn.emit(len(pairs))

    # --- what could not be interpreted ---------------------------------------------
    def _set_units(self, v_label: str, i_label: str, t_label: str) -> None:
        self.voltage_plot.setLabel("left", "Voltage", units=v_label)
        self.current_plot.setLabel("left", "Current", units=i_label)
        self.current_plot.setLabel("bottom", "Time", units=t_label)

    def _draw_raw(self, sweep: SweepKey) -> None:
        """Draw the file's raw voltage and current when the sweep is not interpreted."""
        raw, fix = self.controller.raw_trace(sweep)
        self._show_fix(fix)
        if raw is None:
            return
        pen = pg.mkPen(QColor(90, 90, 90), width=1)
        for plot, values, items in (
            (self.voltage_plot, raw.voltage, self.voltage_items),
            (self.current_plot, raw.current, self.current_items),
        ):
            if values is None:
                continue
            item = pg.PlotDataItem(raw.t, values, pen=pen)
            plot.addItem(item)
            item.setDownsampling(auto=True, method="peak")
            item.setClipToView(True)
            items.append(item)
        self._set_units(raw.v_label, raw.i_label or "none", raw.t_label)

    def _show_fix(self, kind: str | None) -> None:
        self._fix_kind = kind
        labels = {
            "text": "Describe the file…",
            "ecode": "Choose eCode…",
            "metadata": "Fix metadata…",
            "not_recording": "Exclude file",
            "exclude": "Exclude file",
        }
        self.fix_button.setVisible(kind in labels)
        if kind in labels:
            from efex_gui.core.recordings.interpretation import FIXES

            self.fix_button.setText(labels[kind])
            self.fix_button.setToolTip(FIXES[kind].capitalize())

    def _on_fix(self) -> None:
        if not self.controller.selection:
            return
        sweep = self.controller.selection[0]
        if self._fix_kind == "ecode":
            self._choose_ecode(sweep)
        elif self._fix_kind in ("exclude", "not_recording"):
            key = self.controller.exclusion_key(sweep)
            reason = self.controller.summary(sweep).reason
            self.controller.set_excluded([key], True, reason or "not current clamp")
        elif self._fix_kind == "text":
            self.text_form_requested.emit(sweep.entry_key)
        else:
            self.metadata_requested.emit()

    def _choose_ecode(self, sweep: SweepKey) -> None:
        from efex_gui.core.session.dataset import ecode_names

        menu = QMenu(self)
        for name in ecode_names():
            action = menu.addAction(name)
            action.triggered.connect(
                lambda _=False, n=name: self.controller.set_ecode_override(
                    sweep.protocol, n
                )
            )
        menu.popup(self.fix_button.mapToGlobal(self.fix_button.rect().bottomLeft()))
        self.ecode_menu = menu

    def _legend_name(self, sweep: SweepKey) -> str:
        """Short: the amplitude (the names are in the browser), else the name."""
        summary = self.controller.summary(sweep)
        return summary.name if summary.amp is None else f"{summary.amp:.3g} nA"

    def _draw_recording(
        self, recording: Any, style: _DrawnStyle, name: str | None = None
    ) -> None:
        t = np.asarray(recording.t, dtype=float)
        voltage = np.asarray(recording.voltage, dtype=float)
        if self.display_transform is not None:
            voltage = self.display_transform(recording, voltage)
        for plot, values, items in (
            (self.voltage_plot, voltage, self.voltage_items),
            (self.current_plot, recording.current, self.current_items),
        ):
            label = name if plot is self.voltage_plot else None
            item = pg.PlotDataItem(t, np.asarray(values, dtype=float), name=label)
            item.setSkipFiniteCheck(True)
            plot.addItem(item)
            # After addItem: pyqtgraph 0.14 looks for the ViewBox while adding.
            item.setDownsampling(auto=True, method="peak")
            item.setClipToView(True)
            items.append(item)
            style.curves.append(item)
        peaks = recording.peak_time
        if peaks is not None and len(peaks):
            peaks = np.asarray(peaks, dtype=float)
            heights = np.interp(peaks, t, voltage)
            # overlaid: each sweep's spikes in its colour, outlined
            outline = pg.mkPen((40, 40, 40), width=0.5) if style.overlay else None
            spikes = pg.ScatterPlotItem(peaks, heights, size=7, pen=outline, symbol="o")
            self.voltage_plot.addItem(spikes)
            self.spike_items.append(spikes)
            style.spikes = spikes
        _apply_style(style)

    def _draw_stimulus(self, recording: Any) -> None:
        ton, toff = getattr(recording, "ton", None), getattr(recording, "toff", None)
        if ton is None or toff is None or not np.isfinite([ton, toff]).all():
            return
        for plot in (self.voltage_plot, self.current_plot):
            region = pg.LinearRegionItem(
                (float(ton), float(toff)),
                movable=True,
                brush=pg.mkBrush(*STIMULUS_BRUSH),
            )
            region.setZValue(-10)
            plot.addItem(region)
            region.sigRegionChanged.connect(self._on_region_moved)
            region.sigRegionChangeFinished.connect(self._on_region_dropped)
            self.stimulus_regions.append(region)

    # --- the draggable stimulus window --------------------------------------------
    def _snapped(self, region: pg.LinearRegionItem) -> tuple[float, float]:
        """Snap the region's edges to the drawn sweep's sample grid (ms)."""
        dt = float(self._window_owner[1].dt) if self._window_owner else 0.0
        low, high = (float(v) for v in region.getRegion())
        if dt > 0:
            low = round(round(low / dt) * dt, 9)
            high = round(round(high / dt) * dt, 9)
        return low, high

    def _on_region_moved(self, region: pg.LinearRegionItem) -> None:
        """Snap to samples and keep the voltage and current bands together."""
        snapped = self._snapped(region)
        for other in self.stimulus_regions:
            if tuple(other.getRegion()) != snapped:
                other.blockSignals(True)
                other.setRegion(snapped)
                other.blockSignals(False)

    def _on_region_dropped(self, region: pg.LinearRegionItem) -> None:
        if self._window_owner is None:
            return
        sweep, recording = self._window_owner
        ton, toff = self._snapped(region)
        if (ton, toff) == (float(recording.ton), float(recording.toff)):
            return
        self.drop_window(sweep, ton, toff, len(recording.t) * float(recording.dt))

    def drop_window(
        self, sweep: SweepKey, ton: float, toff: float, duration: float
    ) -> bool:
        """Apply a dropped window where the person chooses (False: refused)."""
        if not (0.0 <= ton < toff <= duration):
            message = (
                f"The stimulus window {ton:g}-{toff:g} ms is outside the trace "
                f"(0-{duration:g} ms): drag it inside the sweep, start before end."
            )
            return self._refuse(message)
        scope = self.choose_scope()
        if scope is None:
            self._schedule()  # cancelled: the band goes back
            return False
        try:
            keys = apply_window(self.controller, sweep, ton, toff, scope, duration)
        except MetadataError as exc:
            return self._refuse(str(exc))
        self.window_applied.emit(keys)
        return True

    def _refuse(self, message: str) -> bool:
        self.window_refused.emit(message)
        if self.isVisible():
            QMessageBox.warning(self, "Stimulus window refused", message)
        self._schedule()
        return False

    def _ask_scope(self) -> WindowScope | None:
        menu = QMenu(self)
        menu.addSection("Apply this stimulus window to")
        actions = {menu.addAction(text): scope for scope, text in SCOPES}
        menu.setActiveAction(next(iter(actions)))
        chosen = menu.exec(QCursor.pos())
        return actions.get(chosen) if chosen is not None else None

    def threshold_of(self, recording: Any) -> float | None:
        """Return the spike threshold used for ``recording`` (mV)."""
        threshold: Any = self.controller.store.efel_settings().get("Threshold")
        if threshold is None:
            threshold = getattr(recording, "auto_threshold", None)
        return finite_number(threshold)

    def _fit_legend(self) -> None:
        """Add columns to the legend while it is taller than the plot (it was cut)."""
        view = self.voltage_plot.getViewBox().sceneBoundingRect().height()
        room = view - 10  # the legend's offset from the top
        columns = self.legend.columnCount
        while (
            room > 0
            and self.legend.boundingRect().height() > room
            and columns < min(MAX_LEGEND_COLUMNS, len(self.legend.items))
        ):
            columns += 1
            self.legend.setColumnCount(columns)

    def _draw_threshold(self, recording: Any) -> None:
        """Draw the spike threshold, labelled at its left end.

        There the traces rest well below it, before the stimulus. At its right end
        the label covered spikes, and the legend of overlaid sweeps covered it.
        """
        threshold = self.threshold_of(recording)
        if threshold is None:
            return
        self.threshold_line = pg.InfiniteLine(
            threshold,
            angle=0,
            movable=False,
            pen=pg.mkPen((120, 120, 120), style=Qt.PenStyle.DashLine),
            label=f"threshold {threshold:.1f} mV",
            labelOpts={
                "position": 0.02,
                "color": (90, 90, 90),
                "fill": (255, 255, 255, 210),
                "anchors": [(0, 0), (0, 0)],  # below the line: seen at the top
            },
        )
        self.voltage_plot.addItem(self.threshold_line)

    def _title(self, pairs: list[tuple[SweepKey, Any]]) -> str:
        if not pairs and self.controller.selection:
            return self._nothing_drawn_title(self.controller.selection[0])
        if not pairs:
            return NOTHING_SELECTED
        if len(pairs) > 1:
            protocols = sorted({s.protocol for s, _ in pairs})
            text = f"{len(pairs)} sweeps overlaid ({', '.join(protocols)})"
            selected = len(self.controller.selection)
            if selected > MAX_DRAWN:
                text += (
                    f" — <span style='color:#b26a00'>the first {MAX_DRAWN} of "
                    f"{selected} selected sweeps</span>"
                )
            return text
        sweep, _ = pairs[0]
        summary = self.controller.summary(sweep)
        parts = [f"<b>{sweep.cell} / {sweep.protocol} / {summary.name}</b>"]
        if summary.amp is not None:
            rel = f" ({summary.amp_rel:.0f} %)" if summary.amp_rel is not None else ""
            parts.append(f"amp {summary.amp:.4g} nA{rel}")
        count = spikes_text(summary)
        if count:
            parts.append(f"{count} spike{'' if count == '1' else 's'}")
        if summary.status == "excluded":
            why = f": {html.escape(summary.reason)}" if summary.reason else ""
            parts.append(f"<span style='color:#c62828'>excluded{why}</span>")
        if summary.warnings:
            n_warnings = len(summary.warnings)
            parts.append(
                f"<span style='color:#b26a00'>⚠ {n_warnings} warning"
                f"{'s' if n_warnings > 1 else ''} (hover)</span>"
            )
        return " — ".join(parts)

    def _nothing_drawn_title(self, sweep: SweepKey) -> str:
        """Why a selected sweep shows no trace (unreadable file, bad trace)."""
        summary = self.controller.summary(sweep)
        paths = entry_paths(self.controller.dataset, sweep.entry_key)
        reason = html.escape(status_text(summary, paths))
        what = (
            "raw traces, not interpreted" if self.voltage_items else "nothing to draw"
        )
        return (
            f"<b>{html.escape(f'{sweep.cell} / {sweep.protocol} / {summary.name}')}"
            f"</b> — <span style='color:#c62828'>{what} ({reason})</span>"
        )

    # --- view -----------------------------------------------------------------------
    def auto_range(self) -> None:
        """Fit both plots to the drawn traces again."""
        for plot in (self.voltage_plot, self.current_plot):
            plot.getViewBox().autoRange()
            plot.enableAutoRange()

    def set_box_zoom(self, on: bool) -> None:
        """Left-drag draws a zoom rectangle (on) or pans (off)."""
        mode = pg.ViewBox.RectMode if on else pg.ViewBox.PanMode
        for plot in (self.voltage_plot, self.current_plot):
            plot.getViewBox().setMouseMode(mode)

    # --- keys ---------------------------------------------------------------------
    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Step through the sweeps (arrows), exclude (X, space) and other plot keys."""
        key = event.key()
        if key in (Qt.Key.Key_Right, Qt.Key.Key_Down):
            self.controller.step_selection(1)
        elif key in (Qt.Key.Key_Left, Qt.Key.Key_Up):
            self.controller.step_selection(-1)
        elif key in (Qt.Key.Key_X, Qt.Key.Key_Space):
            self.controller.toggle_selection_excluded()
        elif key == Qt.Key.Key_A:
            self.auto_range()
        elif key == Qt.Key.Key_B:
            self.box_button.toggle()
        else:
            super().keyPressEvent(event)
            return
        event.accept()


@dataclass
class _DrawnStyle:
    """How one drawn sweep looks, and its items (restyled when it is excluded)."""

    sweep: SweepKey
    recording: Any
    color: QColor
    excluded: bool
    overlay: bool
    curves: list[pg.PlotDataItem] = field(default_factory=list)
    spikes: pg.ScatterPlotItem | None = None


def _apply_style(style: _DrawnStyle) -> None:
    """Give a drawn sweep's curves and spikes their colour (dimmed when excluded)."""
    color = QColor(style.color)
    if style.excluded:
        color.setAlpha(DIM_ALPHA)
    pen = pg.mkPen(color, width=1)
    for curve in style.curves:
        curve.setPen(pen)
    if style.spikes is not None:
        # overlaid: each sweep's spikes in its colour, outlined
        brush = QColor(style.color) if style.overlay else QColor(*SPIKE_BRUSH)
        if style.excluded:
            brush.setAlpha(DIM_ALPHA)
        style.spikes.setBrush(brush)
