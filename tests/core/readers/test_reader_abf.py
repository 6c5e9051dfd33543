"""ABF reader: BluePyEfe's layout rule and the channels-by-unit path (T1-T6)."""

from __future__ import annotations

import numpy as np
import pytest

from efex_gui.core.errors import MetadataError, NotARecordingError, ReaderError
from efex_gui.core.readers import axon_reader, inspect_file, read_file
from tests.conftest import shared_path


def _abf(name: str, **extra: object) -> dict:
    return {"filepath": str(shared_path("formats", "abf", name)), **extra}


def _step(trace: dict) -> tuple[float, float, float]:
    """(start s, end s, level) of the current's largest deviation from its start."""
    current = np.asarray(trace["current"], dtype=float)
    level = current[np.argmax(np.abs(current - current[0]))]
    on = np.nonzero(current == level)[0]
    return on[0] * trace["dt"], (on[-1] + 1) * trace["dt"], float(level)


def test_two_channel_file_follows_bluepyefe_rule() -> None:
    traces = axon_reader(_abf("2020_03_02_0000.abf"))
    assert len(traces) == 16
    assert set(traces[0]) == {"voltage", "current", "dt"}
    assert traces[0]["dt"] == 1.0 / 10000
    assert traces[0]["voltage"].dtype == np.float32


def test_single_channel_file_falls_back_to_the_protocol_command() -> None:
    traces = read_file(_abf("17o05028_ic_steps.abf"))
    assert len(traces) == 16
    assert traces[0]["dt"] == pytest.approx(1 / 20000)
    assert traces[0]["current_source"] == "protocol"
    assert (traces[0]["v_unit"], traces[0]["i_unit"]) == ("mV", "pA")
    current = traces[15]["current"]
    dt = traces[15]["dt"]
    # first step 0.147-0.647 s, +100 pA on the last sweep (-50 + 15 x 10)
    assert current[int(0.4 / dt)] == pytest.approx(100.0)
    assert current[int(0.9 / dt)] == pytest.approx(0.0)
    assert current[int(1.3 / dt)] == pytest.approx(-50.0)


@pytest.mark.parametrize(
    ("name", "n_sweeps", "start", "end", "first", "increment"),
    [
        ("20303010_rita.abf", 13, 0.088, 0.488, -200.0, 50.0),
        ("File_axon_5.abf", 9, 0.216, 0.716, -100.0, 50.0),
    ],
)
def test_documented_steps_are_rebuilt(
    name: str, n_sweeps: int, start: float, end: float, first: float, increment: float
) -> None:
    traces = read_file(_abf(name))
    assert len(traces) == n_sweeps
    for k, trace in enumerate(traces):
        if first + k * increment == 0:
            assert np.ptp(trace["current"]) == 0
            continue
        on, off, level = _step(trace)
        assert on == pytest.approx(start, abs=1e-3)
        assert off == pytest.approx(end, abs=1e-3)
        assert level == pytest.approx(first + k * increment)


def test_abf1_merged_voltage_channels() -> None:
    # BluePyEfe's rule takes the second mV channel as "current" (trap T21) ...
    compat = axon_reader(_abf("190619B_0003.abf"))
    assert len(compat) == 10
    assert compat[0]["dt"] == 1e-4
    # ... the units path picks IN 0 and rebuilds the ABF1 step from the epoch table
    # (pyabf gives the DAC unit: no i_unit needed in the metadata)
    traces = axon_reader(_abf("190619B_0003.abf", abf_layout="units"))
    assert traces[0]["i_unit"] == "pA"
    assert traces[0]["v_channel"] == "IN 0"
    for k, trace in enumerate(traces):
        if k == 2:  # -120 + 2 x 60 = 0 pA: no step
            continue
        on, off, level = _step(trace)
        assert (on, off) == (
            pytest.approx(1.048, abs=1e-3),
            pytest.approx(2.048, abs=1e-3),
        )
        assert level == pytest.approx(-120.0 + 60.0 * k)


def test_recorded_current_channel_is_preferred() -> None:
    traces = axon_reader(_abf("2020_03_02_0000.abf", abf_layout="units"))
    assert traces[0]["current_source"] == "recorded"
    assert traces[0]["i_channel"] == "I_Com"
    trace = traces[-1]
    dt, current = trace["dt"], trace["current"]
    # model cell: the recorded I_Com is ~10 % above the +550 pA command, 0.131-0.631 s
    assert np.median(current[int(0.2 / dt) : int(0.6 / dt)]) == pytest.approx(
        550, rel=0.2
    )
    assert abs(np.median(current[: int(0.1 / dt)])) < 20
    assert abs(np.median(current[int(0.7 / dt) :])) < 20


def test_explicit_channels_and_bad_layout() -> None:
    traces = axon_reader(_abf("190619B_0003.abf", v_channel="IN 2", i_unit="pA"))
    assert traces[0]["v_channel"] == "IN 2"
    with pytest.raises(MetadataError, match="abf_layout"):
        axon_reader(_abf("190619B_0003.abf", abf_layout="magic"))
    with pytest.raises(MetadataError, match="v_channel"):
        axon_reader(_abf("190619B_0003.abf", v_channel="IN 7"))


def test_gap_free_file_reads_as_one_trace_and_says_why_no_step() -> None:
    (trace,) = read_file(_abf("2020_07_29_0062.abf", abf_layout="units"))
    assert trace["voltage"].size == 184320
    assert "gap-free" in trace["stimulus_note"]
    assert "ton" not in trace
    assert "stimulus_source" not in trace


@pytest.mark.parametrize("layout", ["bluepyefe", "units"])
def test_voltage_clamp_abf_is_refused_saying_what_it_is(layout: str) -> None:
    path = str(shared_path("formats", "atf", "18702001-step.abf"))
    with pytest.raises(NotARecordingError) as info:
        axon_reader({"filepath": path, "abf_layout": layout})
    assert info.value.kind == "voltage clamp"
    assert "3 sweeps of membrane current" in str(info.value)


def test_inspection_reports_channels_and_rate() -> None:
    info = inspect_file(_abf("2020_03_02_0000.abf")["filepath"])
    assert info["n_sweeps"] == 16
    assert info["sampling_rate"] == 10000.0
    assert [c["unit"] for c in info["channels"]] == ["mV", "pA"]


def test_readers_disagreeing_on_the_sweeps_are_flagged(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # trap T9: a file re-saved by another program (neo 1 sweep, the header 3)
    from efex_gui.core.readers import axon_units
    from efex_gui.core.readers.abf_protocol import AbfProtocol

    fake = AbfProtocol("1.8", 5, 3, 50000, 0.1, dac=0, dac_unit="pA")
    monkeypatch.setattr(axon_units, "read_abf_protocol", lambda path: fake)
    with pytest.raises(
        ReaderError, match="disagree on the sweep structure: neo reads 1"
    ):
        axon_units._protocol("x.abf", 1)


@pytest.mark.parametrize(("mode", "words"), [(1, "event-driven"), (3, "gap-free")])
def test_non_episodic_protocols_say_why_there_is_no_step(mode: int, words: str) -> None:
    from efex_gui.core.readers.abf_protocol import MODES, AbfProtocol
    from efex_gui.core.readers.axon_units import file_stimulus

    protocol = AbfProtocol("2.9", mode, 1, 1000, 0.1, dac=0, dac_unit="pA")
    protocol.note = f"{MODES[mode]} recording: no step protocol"
    keys = file_stimulus(protocol, 0, "pA")
    assert words in keys["stimulus_note"]
    assert "ton" not in keys
