"""Igor .ibw reader: documented values of the B6/B95/SSCx waves (spec §7.2)."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from efex_gui.core.errors import MetadataError
from efex_gui.core.readers import igor_reader, inspect_file, read_file
from efex_gui.core.readers.igor import read_wave, wave_note_fields
from tests.conftest import shared_path


def _b6(sweep: int = 181) -> dict:
    folder = shared_path("bluepyefe-exp-data", "B6")
    return {
        "i_file": str(folder / f"B6_Ch0_IDRest_{sweep}.ibw"),
        "v_file": str(folder / f"B6_Ch3_IDRest_{sweep}.ibw"),
        "t_unit": "s",
    }


def test_b6_sweep_has_documented_shape_units_and_dt() -> None:
    (trace,) = read_file(_b6())
    assert trace["voltage"].shape == trace["current"].shape == (12000,)
    assert trace["dt"] == pytest.approx(0.00025, rel=1e-12)
    assert (trace["v_unit"], trace["i_unit"]) == ("mV", "pA")
    # a resting neuron around -70 mV, a step of a few hundred pA
    assert -90 < np.median(trace["voltage"]) < -50
    assert 50 < np.max(trace["current"]) < 1000


def test_sscx_waves_are_si_units_with_protocol_dt() -> None:
    folder = shared_path("sscx", "input-traces", "C060109A1-SR-C1")
    expected = {"IDthresh_ch{}_349": 0.00025, "APWaveform_ch{}_296": 1e-5}
    for name, dt in expected.items():
        (trace,) = igor_reader(
            {
                "i_file": str(folder / f"X_{name.format(0)}.ibw"),
                "v_file": str(folder / f"X_{name.format(1)}.ibw"),
                "t_unit": "s",
            }
        )
        assert (trace["v_unit"], trace["i_unit"]) == ("V", "A")
        assert trace["dt"] == pytest.approx(dt, rel=1e-9)
        assert -0.1 < np.median(trace["voltage"]) < -0.04  # volts


def test_swapped_files_are_swapped_back_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    config = _b6()
    swapped = dict(config, v_file=config["i_file"], i_file=config["v_file"])
    with caplog.at_level(logging.WARNING):
        (trace,) = igor_reader(swapped)
    (reference,) = igor_reader(config)
    assert "reversed" in caplog.text
    assert trace["v_unit"] == "mV"
    assert trace["i_unit"] == "pA"
    np.testing.assert_array_equal(trace["voltage"], reference["voltage"])


def test_missing_metadata_names_the_key() -> None:
    config = _b6()
    del config["t_unit"]
    with pytest.raises(MetadataError, match="t_unit") as info:
        igor_reader(config)
    assert isinstance(info.value, KeyError)


def test_wave_note_and_inspection_give_the_protocol() -> None:
    path = str(shared_path("bluepyefe-exp-data", "B6", "B6_Ch3_IDRest_181.ibw"))
    assert wave_note_fields(read_wave(path)["note"])["PATTERN"] == "IDRest"
    info = inspect_file(path)
    assert info["format"] == "igor"
    assert info["protocols"] == ["IDRest"]
    assert info["sampling_rate"] == pytest.approx(4000.0)
    assert info["channels"][0]["kind"] == "voltage"
