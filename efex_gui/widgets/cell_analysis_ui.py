"""The cell-analysis part of the main window, installed by one call.

:func:`install_cell_analysis` adds, beside the extraction docks, a *Cells* dock (the
cell summary table) and a *Cell curves* dock (f-I, I-V, phase plot, first spikes),
the trace plot's cursors and display filters, figure export on the trace plot's
right-click menu, and an *Analysis* menu.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMainWindow, QMenu

from efex_gui.app.cell_analysis import CellAnalysisController
from efex_gui.widgets.cell_plots import CellPlots
from efex_gui.widgets.cells_view import CellsView
from efex_gui.widgets.extraction_panel import _dock
from efex_gui.widgets.figure_export import add_export_menu, copy_figure, export_dialog
from efex_gui.widgets.trace_tools import TraceTools


def _trace_provenance(window: Any, tools: TraceTools) -> dict[str, Any]:
    plot = window.plot
    return {
        "plot": "traces",
        "sweeps": [[s.cell, s.protocol, s.entry, s.index] for s in plot.drawn_sweeps],
        "display": tools.settings(),
    }


def _analysis_menu(window: QMainWindow, items: dict[str, Any]) -> QMenu:
    menubar = window.menuBar()
    menu = QMenu("&Analysis", window)
    last = menubar.actions()[-1] if menubar.actions() else None
    if last is not None and last.text().replace("&", "") == "Help":
        menubar.insertMenu(last, menu)
    else:
        menubar.addMenu(menu)
    cells, plots, tools = items["cells"], items["plots"], items["tools"]
    trace = window.plot.graphics.ci  # type: ignore[attr-defined]
    entries = [
        ("Export cell summary as CSV…", lambda: cells.export_dialog(".csv")),
        ("Export cell summary as Excel…", lambda: cells.export_dialog(".xlsx")),
        ("Copy cell summary", cells.copy_selection),
        (None, None),
        ("Export trace figure (PNG/SVG)…", lambda: export_dialog(
            window, trace, lambda: _trace_provenance(window, tools), "traces")),
        ("Copy trace figure", lambda: copy_figure(trace)),
        ("Export cell plot (PNG/SVG)…", lambda: export_dialog(
            window, plots.current_plot(), plots._provenance, "cell_plot")),
        ("Copy cell plot", lambda: copy_figure(plots.current_plot())),
        (None, None),
        ("Measuring cursors", tools.cursors_box.toggle),
    ]  # fmt: skip
    for text, slot in entries:
        if text is None:
            menu.addSeparator()
            continue
        action = QAction(text, window)
        action.triggered.connect(slot)
        menu.addAction(action)
    for dock in items["docks"]:
        menu.addAction(dock.toggleViewAction())
    return menu


def install_cell_analysis(
    window: QMainWindow, extraction: Any
) -> CellAnalysisController:
    """Add the Cells and Cell curves docks, trace tools and the Analysis menu.

    Parameters
    ----------
    window : MainWindow
        The main window (with ``plot`` and ``extraction_ui`` installed).
    extraction : ExtractionController
        Its extraction controller.

    Returns
    -------
    CellAnalysisController
    """
    controller = CellAnalysisController(extraction, window)
    cells = CellsView(controller, window)
    plots = CellPlots(controller, window)
    tools = TraceTools(window.plot)  # type: ignore[attr-defined]
    docks = [_dock(window, "Cells", cells, "cells_dock"),
             _dock(window, "Cell curves", plots, "cell_curves_dock")]  # fmt: skip
    anchor = window.extraction_ui["docks"][-1]  # type: ignore[attr-defined]
    for dock in docks:
        window.tabifyDockWidget(anchor, dock)
    cells.table.selectionModel().selectionChanged.connect(
        lambda *_a: controller.set_curve_cells(cells.selected_cells())
    )
    for plot in (window.plot.voltage_plot, window.plot.current_plot):  # type: ignore[attr-defined]
        add_export_menu(window, plot, lambda: _trace_provenance(window, tools),
                        "traces", item=window.plot.graphics.ci)  # type: ignore[attr-defined]  # fmt: skip
    items = {"cells": cells, "plots": plots, "tools": tools, "docks": docks}
    _analysis_menu(window, items)
    window.cell_analysis_ui = items  # type: ignore[attr-defined]
    return controller
