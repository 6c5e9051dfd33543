"""TracePlot: the plotted arrays are the core's Recording arrays."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import Qt

from efex_gui.widgets.trace_plot import DIM_ALPHA, TracePlot
from tests.conftest import shared_path
from tests.gui.helpers import b6b8_files_metadata, load_everything

if TYPE_CHECKING:
    from pathlib import Path

    from efex_gui.app.controller import SessionController


def _plot(qtbot: Any, controller: SessionController) -> TracePlot:
    plot = TracePlot(controller)
    qtbot.addWidget(plot)
    plot.resize(900, 600)
    return plot


def test_selected_sweep_is_drawn_from_its_recording(
    qtbot: Any, controller: Any, demo_dir: Path
) -> None:
    plot = _plot(qtbot, controller)
    controller.open_json(demo_dir / "config.json")
    load_everything(qtbot, controller)
    sweep = controller.dataset.sweeps("SimCell1", "IDRest")[5]
    with qtbot.waitSignal(plot.drawn) as drawn:
        controller.select_sweeps([sweep])
    assert drawn.args == [1]
    (recording,) = controller.recordings_for(sweep)
    (voltage,), (current,) = plot.voltage_items, plot.current_items
    np.testing.assert_array_equal(voltage.xData, recording.t)
    np.testing.assert_array_equal(voltage.yData, recording.voltage)
    np.testing.assert_array_equal(current.yData, recording.current)
    assert voltage.opts["autoDownsample"]
    assert voltage.opts["clipToView"]
    assert recording.spikecount > 0
    (spikes,) = plot.spike_items
    np.testing.assert_allclose(spikes.data["x"], recording.peak_time)
    region = plot.stimulus_regions[0].getRegion()
    assert region == (recording.ton, recording.toff)
    threshold = controller.store.efel_settings()["Threshold"]
    assert plot.threshold_line.value() == threshold
    assert f"{recording.spikecount} spikes" in plot.title.text()


def test_overlay_and_dimmed_exclusions(
    qtbot: Any, controller: Any, demo_dir: Path
) -> None:
    plot = _plot(qtbot, controller)
    controller.open_json(demo_dir / "config.json")
    load_everything(qtbot, controller)
    sweeps = controller.dataset.sweeps("SimCell2", "IV")
    with qtbot.waitSignal(plot.drawn) as drawn:
        controller.select_sweeps(sweeps)
    assert drawn.args == [len(sweeps)]
    assert len(plot.voltage_items) == len(sweeps)
    colours = {item.opts["pen"].color().name() for item in plot.voltage_items}
    assert len(colours) == len(sweeps)
    names = [label.text for _sample, label in plot.legend.items]
    assert len(names) == len(sweeps)
    assert all(n.endswith(" nA") for n in names)
    spiking = controller.dataset.sweeps("SimCell2", "IDRest")[-3:]
    with qtbot.waitSignal(plot.drawn):
        controller.select_sweeps(spiking)
    pens = {item.opts["pen"].color().name() for item in plot.voltage_items}
    spike_colours = {s.opts["brush"].color().name() for s in plot.spike_items}
    assert len(spike_colours) == len(plot.spike_items) == 3
    assert spike_colours == pens, "each sweep's spikes take its colour"
    controller.select_sweeps(sweeps)
    with qtbot.waitSignal(plot.drawn):
        controller.set_excluded([controller.exclusion_key(sweeps[0])], True)
    assert plot.voltage_items[0].opts["pen"].color().alpha() == DIM_ALPHA
    assert plot.voltage_items[1].opts["pen"].color().alpha() == 255


def test_keys_step_through_sweeps_and_toggle_exclusion(
    qtbot: Any, controller: Any, demo_dir: Path
) -> None:
    plot = _plot(qtbot, controller)
    controller.open_json(demo_dir / "config.json")
    load_everything(qtbot, controller)
    sweeps = controller.dataset.sweeps("SimCell1", "IDRest")
    controller.select_sweeps([sweeps[0]])
    with qtbot.waitSignal(plot.drawn):
        qtbot.keyClick(plot, Qt.Key.Key_Right)
    assert plot.drawn_sweeps == [sweeps[1]]
    qtbot.keyClick(plot, Qt.Key.Key_Left)
    assert controller.selection == [sweeps[0]]
    qtbot.keyClick(plot, Qt.Key.Key_X)
    assert controller.is_excluded(controller.exclusion_key(sweeps[0]))
    qtbot.keyClick(plot, Qt.Key.Key_Space)
    assert not controller.is_excluded(controller.exclusion_key(sweeps[0]))


def test_draw_time_on_real_data(qtbot: Any, controller: Any) -> None:
    """Selecting an unread B6 sweep reads and draws it (time printed, not asserted)."""
    plot = _plot(qtbot, controller)
    controller.new_session(b6b8_files_metadata(), shared_path("bluepyefe-exp-data"))
    sweep = controller.dataset.sweeps("MouseNeuron1", "IDRest")[4]
    start = time.perf_counter()
    controller.select_sweeps([sweep])
    plot.redraw()
    elapsed = time.perf_counter() - start
    print(f"\nB6 sweep read + drawn in {elapsed * 1000:.0f} ms")
    (recording,) = controller.recordings_for(sweep)
    assert recording.spikecount == 89  # spec §10.2, sweep 185
    np.testing.assert_array_equal(plot.voltage_items[0].yData, recording.voltage)


def test_auto_range_and_box_zoom(qtbot: Any, controller: Any, demo_dir: Path) -> None:
    import pyqtgraph as pg

    plot = _plot(qtbot, controller)
    controller.open_json(demo_dir / "config.json")
    load_everything(qtbot, controller)
    sweep = controller.dataset.sweeps("SimCell1", "IDRest")[3]
    with qtbot.waitSignal(plot.drawn):
        controller.select_sweeps([sweep])
    (recording,) = controller.recordings_for(sweep)
    plot.voltage_plot.setXRange(100, 200, padding=0)
    assert plot.current_plot.viewRange()[0] == [100, 200], "time axes are linked"
    qtbot.keyClick(plot, Qt.Key.Key_A)
    x_min, x_max = plot.voltage_plot.viewRange()[0]
    assert x_min <= recording.t[0]
    assert x_max >= recording.t[-1]
    view = plot.voltage_plot.getViewBox()
    assert view.state["mouseMode"] == pg.ViewBox.PanMode
    qtbot.keyClick(plot, Qt.Key.Key_B)
    assert plot.box_button.isChecked()
    assert view.state["mouseMode"] == pg.ViewBox.RectMode
    plot.box_button.click()
    assert view.state["mouseMode"] == pg.ViewBox.PanMode


def test_arrow_keys_work_after_clicking_into_the_plot(
    qtbot: Any, controller: Any, demo_dir: Path
) -> None:
    plot = _plot(qtbot, controller)
    controller.open_json(demo_dir / "config.json")
    load_everything(qtbot, controller)
    sweeps = controller.dataset.sweeps("SimCell1", "IDRest")
    controller.select_sweeps([sweeps[0]])
    with qtbot.waitSignal(controller.selection_changed):
        qtbot.keyClick(plot.graphics, Qt.Key.Key_Right)
    assert controller.selection == [sweeps[1]]


def test_a_refused_file_is_drawn_raw_with_the_reason_and_a_fix(
    qtbot: Any, controller: Any
) -> None:
    wcp = shared_path("formats", "wcp", "myokit-wcp-file.wcp")
    plot = _plot(qtbot, controller)
    controller.new_session({"c": {"IV": [{"filepath": wcp.name}]}}, wcp.parent)
    load_everything(qtbot, controller)
    sweep = controller.dataset.sweeps("c", "IV")[0]
    with qtbot.waitSignal(plot.drawn):
        controller.select_sweeps([sweep])
    # the clamp command and the membrane current, as they are in the file
    (voltage,), (current,) = plot.voltage_items, plot.current_items
    assert -81 < float(np.median(voltage.yData)) < -79
    assert current.yData.size == voltage.yData.size == 256
    title = plot.title.text()
    assert "raw traces, not interpreted" in title
    refused = "(refused: myokit-wcp-file.wcp: voltage clamp: 11 records of membrane"
    assert refused in title
    assert plot.fix_button.isVisibleTo(plot)
    assert plot.fix_button.text() == "Exclude file"
    with qtbot.waitSignal(controller.exclusions_changed):
        plot.fix_button.click()
    assert controller.is_excluded(controller.exclusion_key(sweep))


def test_an_unknown_ecode_offers_the_ecode_choice(
    qtbot: Any, controller: Any, tmp_path: Path
) -> None:
    # a noisy stimulus under an unknown name: no eCode can be guessed
    rng = np.random.default_rng(0)
    t = np.arange(4000) * 0.1
    np.savetxt(
        tmp_path / "n.txt",
        np.column_stack([t, -70 + rng.normal(0, 1, 4000), rng.normal(0, 0.1, 4000)]),
    )
    entry = {
        "filepath": "n.txt",
        "t_unit": "ms",
        "v_unit": "mV",
        "i_unit": "nA",
        "columns": ["t", "v", "i"],
    }
    plot = _plot(qtbot, controller)
    controller.new_session({"c": {"Prot_9": [entry]}}, tmp_path)
    load_everything(qtbot, controller)
    sweep = controller.dataset.sweeps("c", "Prot_9")[0]
    with qtbot.waitSignal(plot.drawn):
        controller.select_sweeps([sweep])
    assert plot.fix_button.text() == "Choose eCode…"
    assert "neither a step nor a ramp" in plot.title.text()
    assert plot.voltage_items
    assert plot.current_items
    plot.fix_button.click()
    step = next(a for a in plot.ecode_menu.actions() if a.text() == "Step")
    with qtbot.waitSignal(plot.drawn, timeout=20_000):
        step.trigger()
    assert controller.session.ecode_overrides == {"Prot_9": "Step"}
    assert not plot.fix_button.isVisibleTo(plot)


def test_an_exclusion_restyles_the_drawn_sweeps_without_drawing_again(
    qtbot: Any, controller: Any, demo_dir: Path
) -> None:
    """Excluding the sweep on screen dims its curves and spikes in place.

    No trace is drawn (or read) again: at 44 cells the redraw after every exclusion
    click was part of the wait for the plots.
    """
    plot = _plot(qtbot, controller)
    controller.open_json(demo_dir / "config.json")
    load_everything(qtbot, controller)
    sweep = controller.dataset.sweeps("SimCell1", "IDRest")[-1]
    with qtbot.waitSignal(plot.drawn):
        controller.select_sweeps([sweep])
    items = [*plot.voltage_items, *plot.current_items, *plot.spike_items]
    assert plot.spike_items, "a spiking sweep: its spikes are drawn"
    drawn: list[int] = []
    plot.drawn.connect(drawn.append)
    controller.set_excluded([controller.exclusion_key(sweep)], True)
    qtbot.wait(50)  # longer than the redraw timer: nothing was scheduled
    assert drawn == []
    assert [*plot.voltage_items, *plot.current_items, *plot.spike_items] == items
    assert plot.voltage_items[0].opts["pen"].color().alpha() == DIM_ALPHA
    assert plot.current_items[0].opts["pen"].color().alpha() == DIM_ALPHA
    assert plot.spike_items[0].opts["brush"].color().alpha() == DIM_ALPHA
    assert "excluded" in plot.title.text()
    controller.set_excluded([controller.exclusion_key(sweep)], False)
    assert plot.voltage_items[0].opts["pen"].color().alpha() == 255
    assert plot.spike_items[0].opts["brush"].color().alpha() == 255
    assert "excluded" not in plot.title.text()
    assert drawn == []


def test_the_plots_keep_their_size_when_the_title_gets_shorter(
    qtbot: Any, controller: Any, demo_dir: Path
) -> None:
    """A sweep excluded with a long reason has a taller title; including it again
    (or showing another sweep) does not grow the plots back: each resize redrew
    both plots, twice per exclusion click."""
    plot = _plot(qtbot, controller)
    plot.show()
    qtbot.waitExposed(plot)
    controller.open_json(demo_dir / "config.json")
    load_everything(qtbot, controller)
    sweeps = controller.dataset.sweeps("SimCell1", "IDRest")
    with qtbot.waitSignal(plot.drawn):
        controller.select_sweeps([sweeps[-1]])
    qtbot.wait(20)
    short = plot.graphics.height()
    key = controller.exclusion_key(sweeps[-1])
    controller.set_excluded([key], True, "a long reason " * 30)
    qtbot.wait(20)
    tall_title = plot.graphics.height()
    assert tall_title < short, "the long reason takes more lines"
    controller.set_excluded([key], False)
    qtbot.wait(20)
    assert plot.graphics.height() == tall_title
    with qtbot.waitSignal(plot.drawn):
        controller.select_sweeps([sweeps[0]])
    qtbot.wait(20)
    assert plot.graphics.height() == tall_title


def test_an_sscx_apthreshold_ramp_is_drawn_interpreted_without_typing(
    qtbot: Any, controller: Any
) -> None:
    from efex_gui.core.session.folder_import import import_folder

    folder = shared_path("sscx", "input-traces", "C060109A2-SR-C1")
    found = import_folder(folder)
    ramps = {
        c: {"APThreshold": p["APThreshold"]} for c, p in found.files_metadata.items()
    }
    plot = _plot(qtbot, controller)
    controller.new_session(ramps, found.root)
    load_everything(qtbot, controller)
    sweep = controller.dataset.sweeps("C060109A2-SR-C1", "APThreshold")[0]
    with qtbot.waitSignal(plot.drawn):
        controller.select_sweeps([sweep])
    title = plot.title.text()
    assert "not interpreted" not in title
    assert "amp 0.93" in title
    assert "spikes" in title
    # the window the browser writes into the entry: the ramp's, from its sweeps
    config = controller.dataset.config(sweep.entry_key)
    assert config["timing_source"] == "consensus"
    assert abs(config["ton"]) < 5
    assert abs(config["toff"] - 2002.3) < 0.5


def test_the_legend_leaves_the_threshold_label_readable(
    qtbot: Any, controller: Any, demo_dir: Path
) -> None:
    """Both sat at the top right: the legend covered "threshold -20.0 mV".

    And the legend of six sweeps was cut at the bottom of a short plot.
    """
    plot = TracePlot(controller)
    qtbot.addWidget(plot)
    plot.resize(540, 280)  # the docs' main window gives it about that
    plot.show()
    qtbot.waitExposed(plot)
    controller.open_json(demo_dir / "config.json")
    load_everything(qtbot, controller)
    for protocol, count in (("IV", None), ("IDRest", 3), ("IDRest", None)):
        sweeps = controller.dataset.sweeps("SimCell1", protocol)[:count]
        with qtbot.waitSignal(plot.drawn):
            controller.select_sweeps(sweeps)
        plot.grab()  # painted: the views take their ranges, the label its place
        assert 1 < len(plot.legend.items) <= len(sweeps)
        label = plot.threshold_line.label
        assert label.isVisible()
        assert label.toPlainText().startswith("threshold")
        view = plot.voltage_plot.getViewBox().sceneBoundingRect()
        assert view.contains(label.sceneBoundingRect()), protocol
        legend = plot.legend.sceneBoundingRect()
        assert not label.sceneBoundingRect().intersects(legend), protocol
        assert view.contains(legend), "the legend is cut"
