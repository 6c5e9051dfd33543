"""Clamp recognition and refusals on data the tests make (issue 13, trap T11)."""

from __future__ import annotations

from typing import Any

import neo
import numpy as np
import pytest
import quantities as pq

from efex_gui.core.errors import NotARecordingError, ReaderError
from efex_gui.core.readers import read_file, reader_for
from efex_gui.core.readers.clamp import is_command_like, voltage_is_clamped
from efex_gui.core.readers.neo_generic import neo_reader, traces_from_block

DT_MS = 0.1


def _command(n: int = 4000, rng: int = 0) -> np.ndarray:
    """A -80 / -20 / -80 mV voltage-clamp command with 0.1 mV noise."""
    noise = np.random.default_rng(rng).normal(0.0, 0.1, n)
    v = np.full(n, -80.0)
    v[n // 4 : 3 * n // 4] = -20.0
    return v + noise


@pytest.fixture
def sweeps(demo_cell: dict[str, Any]) -> list[dict[str, Any]]:
    """The demo neuron's sweeps (``simulate_cell(seed=0)``, simulated once a run)."""
    return list(demo_cell["sweeps"])


def test_a_clean_command_is_recognised() -> None:
    assert is_command_like(_command(), DT_MS)
    assert voltage_is_clamped([_command(rng=k) for k in range(3)], DT_MS)


def test_current_clamp_responses_are_not_commands(
    sweeps: list[dict[str, Any]],
) -> None:
    # a membrane charges after a current step; spikes fall back within ms: none of
    # the demo neuron's sweeps (hyperpolarising, subthreshold, firing) is a command
    for sweep in sweeps:
        assert not is_command_like(np.asarray(sweep["voltage"]), sweep["dt"])
    assert not voltage_is_clamped([s["voltage"] for s in sweeps], sweeps[0]["dt"])


def test_flat_or_short_traces_are_not_commands() -> None:
    assert not is_command_like(np.zeros(5000), DT_MS)
    assert not is_command_like(_command(40), DT_MS)


def _block(
    signals: list[tuple[str, np.ndarray, str]], n_segments: int = 2
) -> neo.Block:
    block = neo.Block()
    for _ in range(n_segments):
        segment = neo.Segment()
        for name, data, unit in signals:
            segment.analogsignals.append(
                neo.AnalogSignal(
                    data.reshape(-1, 1),
                    units=unit,
                    sampling_rate=10 * pq.kHz,
                    name=name,
                    array_annotations={"channel_names": [name]},
                )
            )
        block.segments.append(segment)
    return block


def test_neo_block_voltage_clamp_is_refused() -> None:
    block = _block(
        [
            ("Im", np.random.default_rng(1).normal(0, 5, 4000), "pA"),
            ("Vm", _command(), "mV"),
        ]
    )
    with pytest.raises(NotARecordingError, match="voltage clamp: 2 records"):
        traces_from_block(block, {"filepath": "x.axgx"}, "x.axgx")


def test_neo_block_with_only_currents_is_voltage_clamp() -> None:
    block = _block([("Im", np.ones(400), "pA")], n_segments=3)
    with pytest.raises(NotARecordingError) as info:
        traces_from_block(block, {"filepath": "x.axgx"}, "x.axgx")
    assert info.value.detail.startswith("3 sweeps of membrane current")


def test_neo_block_of_spike_trains_is_no_continuous_signal() -> None:
    block = neo.Block()
    segment = neo.Segment()
    for _ in range(5):
        segment.spiketrains.append(neo.SpikeTrain([1, 2] * pq.s, t_stop=3 * pq.s))
    block.segments.append(segment)
    with pytest.raises(NotARecordingError) as info:
        traces_from_block(block, {"filepath": "x.nex"}, "x.nex")
    assert str(info.value).endswith(
        "no continuous signal: 5 spike trains; not a current-clamp recording"
    )


def test_neo_block_without_units_names_the_channels_and_the_fix() -> None:
    block = _block([("Ch 1", np.ones(400), "dimensionless")])
    with pytest.raises(ReaderError, match=r"'Ch 1' \(dimensionless\).*v_channel"):
        traces_from_block(block, {"filepath": "x.axgd"}, "x.axgd")


def test_neo_block_current_clamp_reads_by_units(
    sweeps: list[dict[str, Any]],
) -> None:
    v = np.asarray(sweeps[4]["voltage"], dtype=float)
    current = np.zeros(v.size)
    current[v.size // 4 : v.size // 2] = 300.0
    block = _block([("I", current, "pA"), ("V", v, "mV")])
    traces = traces_from_block(block, {"filepath": "x.axgx"}, "x.axgx")
    assert len(traces) == 2
    assert (traces[0]["v_channel"], traces[0]["i_channel"]) == ("V", "I")
    assert traces[0]["clamp"] == "current"
    assert traces[0]["dt"] == pytest.approx(1e-4)


def test_formats_neo_reads_are_dispatched_to_the_generic_path() -> None:
    for name in ("a.axgx", "a.axgd", "a.smr", "a.EDR"):
        assert reader_for(name) is neo_reader


def test_smrx_is_refused_with_the_fix(tmp_path: object) -> None:
    path = tmp_path / "a.smrx"  # type: ignore[operator]
    path.write_bytes(b"\0" * 64)
    with pytest.raises(ReaderError, match=r"sonpy.*Export"):
        read_file({"filepath": str(path)})


def test_text_dat_is_not_taken_for_heka(tmp_path: object) -> None:
    path = tmp_path / "trace.dat"  # type: ignore[operator]
    path.write_text("0 -70\n0.1 -70\n0.2 -69\n")
    traces = read_file(
        {
            "filepath": str(path),
            "t_unit": "ms",
            "v_unit": "mV",
            "i_unit": "pA",
            "ton": 0.1,
            "toff": 0.2,
            "amp": 1.0,
        }
    )
    assert traces[0]["voltage"].size == 3
