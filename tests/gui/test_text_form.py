"""TextForm: a text file's missing metadata asked at once, with a preview."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from efex_gui.widgets.text_form import TextForm
from efex_gui.widgets.trace_plot import TracePlot
from tests.gui.helpers import load_everything

if TYPE_CHECKING:
    from pathlib import Path


def test_one_form_asks_everything_and_previews_the_trace(
    qtbot: Any, controller: Any, tmp_path: Path
) -> None:
    v = np.full(4000, -70.0)
    v[1000:3000] = -60.0
    np.savetxt(tmp_path / "cell.csv", v[:, None], delimiter=",")
    controller.new_session({"c": {"IDRest": [{"filepath": "cell.csv"}]}}, tmp_path)
    load_everything(qtbot, controller)
    plot = TracePlot(controller)
    qtbot.addWidget(plot)
    sweep = controller.dataset.sweeps("c", "IDRest")[0]
    with qtbot.waitSignal(plot.drawn):
        controller.select_sweeps([sweep])
    assert plot.fix_button.text() == "Describe the file…"
    with qtbot.waitSignal(plot.text_form_requested) as requested:
        plot.fix_button.click()
    form = TextForm(controller, requested.args[0])
    qtbot.addWidget(form)
    # nothing given yet: the status names every missing key at once
    for key in ("v_unit", "t_unit", "dt", "i_unit", "ton", "toff", "amp"):
        assert key in form.status.text()
    assert not form.apply_button.isEnabled()
    for key, value in {
        "v_unit": "mV",
        "t_unit": "ms",
        "dt": "0.1",
        "i_unit": "nA",
        "ton": "100",
        "toff": "300",
        "amp": "0.2",
    }.items():
        form.fields[key].setText(value)
    assert form.apply_button.isEnabled()
    (voltage,) = form.voltage_plot.listDataItems()
    (current,) = form.current_plot.listDataItems()
    assert voltage.yData.size == 4000
    assert abs(voltage.xData[-1] - 399.9) < 1e-9
    assert current.yData.max() == np.float64(0.2)
    # the axes read in the units given (pyqtgraph's SI prefix made 0.2 nA "200 mnA")
    form.show()
    qtbot.waitExposed(form)
    for plot, side, unit in (
        (form.current_plot, "left", "nA"),
        (form.current_plot, "bottom", "ms"),
        (form.voltage_plot, "left", "mV"),
    ):
        plot.autoRange()  # pyqtgraph picks its prefix from the axis' range
        axis = plot.getAxis(side)
        qtbot.waitUntil(lambda axis=axis: axis.range[1] > axis.range[0] + 0.1)
        assert f"({unit})" in axis.labelString()
        assert axis.autoSIPrefixScale == 1.0
    with qtbot.waitSignal(controller.metadata_changed):
        form.apply_button.click()
    config = controller.dataset.config(sweep.entry_key)
    assert config["dt"] == 0.1
    assert config["ton"] == 100.0
    assert config["v_unit"] == "mV"
    load_everything(qtbot, controller)
    assert controller.summary(sweep).status == "ok"
