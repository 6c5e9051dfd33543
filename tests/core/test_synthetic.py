"""The simulated neuron and its demo dataset: physiology, determinism, NWB layout."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest

from efex_gui.core.synthetic.demo import (
    DEMO_PROTOCOLS,
    DEMO_TARGETS,
    StepProtocol,
    simulate_cell,
    simulate_cells,
    write_demo_dataset,
    write_demo_files,
)
from efex_gui.core.synthetic.model import CellParameters

efel = pytest.importorskip("efel")

EFEL_FEATURES = [
    "Spikecount",
    "peak_voltage",
    "AP_duration_half_width",
    "voltage_base",
    "steady_state_voltage_stimend",
    "sag_amplitude",
    "min_AHP_values",
]


OUTPUT_FILES = ("features.json", "protocols.json", "holding_threshold_currents.json")


@pytest.fixture(scope="module")
def demo(demo_cli_run: tuple[Path, str, int]) -> tuple[Path, dict[str, Any]]:
    """The 3-cell demo ``efex demo`` wrote (``write_demo_dataset(folder, 3, seed=0)``).

    With the ``files_metadata`` it wrote (:func:`write_demo_dataset` returns it:
    ``test_write_demo_files_returns_what_it_wrote``).
    """
    folder = demo_cli_run[0]
    return folder, json.loads((folder / "files_metadata.json").read_text())


@pytest.fixture
def cell(demo_cell: dict[str, Any]) -> dict[str, Any]:
    """``simulate_cell(seed=0)``, simulated once per session (tests/conftest.py)."""
    return demo_cell


def _efel(sweep: dict[str, Any]) -> dict[str, float | None]:
    stimulus = sweep["stimulus"]
    trace = {
        "T": np.arange(len(sweep["voltage"])) * sweep["dt"],
        "V": np.asarray(sweep["voltage"], dtype=float),
        "stim_start": [stimulus["ton_ms"]],
        "stim_end": [stimulus["toff_ms"]],
    }
    efel.reset()
    efel.set_setting("Threshold", -20.0)
    values = efel.get_feature_values([trace], EFEL_FEATURES, raise_warnings=False)[0]
    efel.reset()
    return {
        name: None if v is None or len(v) == 0 else float(np.mean(v))
        for name, v in values.items()
    }


def _sweeps(cell: dict[str, Any], protocol: str) -> list[dict[str, Any]]:
    return [s for s in cell["sweeps"] if s["protocol_name"] == protocol]


def test_every_demo_protocol_is_simulated_in_order(cell: dict[str, Any]) -> None:
    names = [s["protocol_name"] for s in cell["sweeps"]]
    expected = [p.name for p in DEMO_PROTOCOLS for _ in p.percents]
    assert names == expected
    assert [s["id"] for s in cell["sweeps"]] == [
        f"CurrentClampSeries_{i:03d}" for i in range(len(expected))
    ]
    idrest = _sweeps(cell, "IDRest")[0]
    assert len(idrest["voltage"]) == len(idrest["current"]) == 30000
    assert idrest["dt"] == 0.1
    assert idrest["t_unit"] == "ms"


def test_spikes_at_suprathreshold_steps_only(cell: dict[str, Any]) -> None:
    for sweep in _sweeps(cell, "IDRest") + _sweeps(cell, "IV"):
        count = _efel(sweep)["Spikecount"]
        percent = sweep["stimulus"]["percent"]
        if percent >= 150:
            assert count >= 2, (sweep["id"], percent)
        if percent <= 50:
            assert count == 0, (sweep["id"], percent)
    counts = [_efel(s)["Spikecount"] for s in _sweeps(cell, "IDRest")]
    assert counts == sorted(counts)
    assert counts[-1] > counts[2]


def test_rheobase_is_the_first_spiking_idthresh_step(cell: dict[str, Any]) -> None:
    ladder = _sweeps(cell, "IDthresh")
    counts = [_efel(s)["Spikecount"] for s in ladder]
    amps = [s["stimulus"]["amp_na"] for s in ladder]
    assert counts[0] == 0
    assert counts[-1] > 0
    first = next(a for a, n in zip(amps, counts, strict=True) if n > 0)
    assert first == pytest.approx(cell["rheobase_na"])
    assert 0.07 < cell["rheobase_na"] < 0.25


def test_spike_shape_rest_and_ahp_look_like_a_neuron(cell: dict[str, Any]) -> None:
    values = _efel(_sweeps(cell, "IDRest")[4])  # 200 %
    assert 20.0 < values["peak_voltage"] < 45.0
    assert 0.5 < values["AP_duration_half_width"] < 1.5
    assert -74.0 < values["voltage_base"] < -66.0
    assert values["min_AHP_values"] < values["steady_state_voltage_stimend"]


def test_input_resistance_and_sag_on_hyperpolarising_step(cell: dict[str, Any]) -> None:
    iv = {s["stimulus"]["percent"]: s for s in _sweeps(cell, "IV")}
    small = _efel(iv[-40])
    deflection = small["steady_state_voltage_stimend"] - small["voltage_base"]
    resistance_mohm = deflection / iv[-40]["stimulus"]["amp_na"]
    assert 100.0 < resistance_mohm < 200.0
    assert _efel(iv[-100])["sag_amplitude"] > 1.5


def test_holding_current_and_noise_are_in_the_current(cell: dict[str, Any]) -> None:
    sweep = _sweeps(cell, "IDRest")[3]
    stimulus = sweep["stimulus"]
    current = np.asarray(sweep["current"])
    on, off = (int(stimulus[k] / sweep["dt"]) for k in ("ton_ms", "toff_ms"))
    baseline, step = current[:on], current[on:off]
    assert stimulus["holding_na"] < 0.0
    assert np.median(baseline) == pytest.approx(stimulus["holding_na"], abs=1e-3)
    assert np.median(step) - np.median(baseline) == pytest.approx(
        stimulus["amp_na"], abs=1e-3
    )
    assert 0.0 < np.std(baseline) < 0.005


def test_same_seed_same_traces_other_seed_other_traces(cell: dict[str, Any]) -> None:
    short = (StepProtocol("IDRest", (150.0,), 100.0, 300.0, 400.0),)
    params = CellParameters(name="A")
    first = simulate_cell(params, seed=5, protocols=short)["sweeps"][0]
    again = simulate_cell(params, seed=5, protocols=short)["sweeps"][0]
    other = simulate_cell(params, seed=6, protocols=short)["sweeps"][0]
    np.testing.assert_array_equal(first["voltage"], again["voltage"])
    np.testing.assert_array_equal(first["current"], again["current"])
    assert not np.array_equal(first["voltage"], other["voltage"])


def test_a_cell_does_not_depend_on_its_batch_mates() -> None:
    short = (StepProtocol("IDRest", (120.0, 200.0), 100.0, 300.0, 400.0),)
    a, b = CellParameters(name="A"), CellParameters(name="B", g_leak_us=0.005)
    alone = simulate_cells([a], [1], short)[0]
    together = simulate_cells([a, b], [1, 2], short)[0]
    for s1, s2 in zip(alone["sweeps"], together["sweeps"], strict=True):
        np.testing.assert_array_equal(s1["voltage"], s2["voltage"])


def _read_sweep(path: Path, name: str) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    with h5py.File(path, "r") as h5:
        response = h5["acquisition"][name]
        stimulus = h5["stimulus/presentation"][name.replace("Series", "StimulusSeries")]
        v = response["data"][:] * response["data"].attrs["conversion"]
        i = stimulus["data"][:] * stimulus["data"].attrs["conversion"]
        info = {
            "protocol": response.attrs["stimulus_description"],
            "type": response.attrs["neurodata_type"],
            "stim_type": stimulus.attrs["neurodata_type"],
            "v_unit": response["data"].attrs["unit"],
            "i_unit": stimulus["data"].attrs["unit"],
            "rate": response["starting_time"].attrs["rate"],
            "t_unit": response["starting_time"].attrs["unit"],
        }
    return v, i, info


def test_demo_writes_one_nwb_per_cell_and_the_json_files(
    demo: tuple[Path, dict[str, Any]],
) -> None:
    folder, files_metadata = demo
    assert list(files_metadata) == ["SimCell1", "SimCell2", "SimCell3"]
    for cell_name, protocols in files_metadata.items():
        assert list(protocols) == [p.name for p in DEMO_PROTOCOLS]
        for protocol, entries in protocols.items():
            (entry,) = entries
            assert Path(entry["filepath"]) == folder / f"{cell_name}.nwb"
            assert entry["protocol_name"] == protocol
            units = (entry["i_unit"], entry["v_unit"], entry["t_unit"])
            assert units == ("A", "V", "s")
    assert json.loads((folder / "targets.json").read_text()) == list(DEMO_TARGETS)
    config = json.loads((folder / "config.json").read_text())
    assert config["files_metadata"]["SimCell2"]["IV"][0]["filepath"] == "SimCell2.nwb"
    assert config["targets"] == list(DEMO_TARGETS)


def test_write_demo_files_returns_what_it_wrote(tmp_path: Path) -> None:
    short = (StepProtocol("IDRest", (150.0,), 100.0, 300.0, 400.0),)
    cell = simulate_cell(CellParameters(name="A"), seed=5, protocols=short)
    files_metadata = write_demo_files(tmp_path, [cell])
    on_disk = json.loads((tmp_path / "files_metadata.json").read_text())
    assert on_disk == files_metadata
    assert files_metadata["A"]["IDRest"][0]["filepath"] == str(tmp_path / "A.nwb")


def test_nwb_files_have_the_layout_bluepyefe_reads(
    demo: tuple[Path, dict[str, Any]], cell: dict[str, Any]
) -> None:
    path = demo[0] / "SimCell1.nwb"
    with h5py.File(path, "r") as h5:
        assert h5.attrs["nwb_version"].startswith("2.")
        for key in ("identifier", "session_description", "session_start_time"):
            assert key in h5
        ephys = h5["general/intracellular_ephys"]
        assert "electrode_0" in ephys
        table = ephys["intracellular_recordings"]
        assert len(table["repetition"]) == len(h5["acquisition"]) == len(cell["sweeps"])
        reference = table["responses/response"][7]["timeseries"]
        assert h5[reference].name == "/acquisition/CurrentClampSeries_007"
    # simulate_cell(seed=0) is the demo's SimCell1
    for index in (0, 12, 20, 30):
        sweep = cell["sweeps"][index]
        v, i, info = _read_sweep(path, sweep["id"])
        assert info["protocol"] == sweep["protocol_name"]
        assert (info["type"], info["stim_type"]) == (
            "CurrentClampSeries",
            "CurrentClampStimulusSeries",
        )
        assert (info["v_unit"], info["i_unit"], info["t_unit"]) == (
            "volts",
            "amperes",
            "seconds",
        )
        assert info["rate"] == pytest.approx(1000.0 / sweep["dt"])
        np.testing.assert_allclose(v * 1e3, sweep["voltage"], atol=1e-4)
        np.testing.assert_allclose(i * 1e9, sweep["current"], atol=1e-6)


def test_demo_cells_differ_and_the_demo_is_reproducible(
    demo: tuple[Path, dict[str, Any]], demo_dir: Path
) -> None:
    folder, _ = demo
    # the session's demo: the same seed, simulated in another run with 2 cells
    again = (demo_dir / "SimCell1.nwb").read_bytes()
    assert (folder / "SimCell1.nwb").read_bytes() == again
    v1, *_ = _read_sweep(folder / "SimCell1.nwb", "CurrentClampSeries_020")
    v2, *_ = _read_sweep(folder / "SimCell2.nwb", "CurrentClampSeries_020")
    assert not np.allclose(v1, v2)


def test_bad_arguments_raise_settings_errors(tmp_path: Path) -> None:
    from efex_gui.core.errors import SettingsError

    with pytest.raises(SettingsError, match="n_cells"):
        write_demo_dataset(tmp_path, n_cells=0)
    with pytest.raises(SettingsError, match="one seed per cell"):
        simulate_cells([CellParameters()], [1, 2])


def test_our_nwb_reader_reads_the_demo_sweeps(
    demo: tuple[Path, dict[str, Any]],
) -> None:
    readers = pytest.importorskip("efex_gui.core.readers")
    if not hasattr(readers, "read_file"):
        pytest.skip("efex_gui.core.readers.read_file is not there yet")
    folder, files_metadata = demo
    entry = dict(files_metadata["SimCell2"]["IV"][0])
    traces = readers.read_file(entry)
    assert [t["id"] for t in traces] == [
        f"CurrentClampSeries_{i:03d}" for i in range(8, 16)
    ]
    v, i, _ = _read_sweep(folder / "SimCell2.nwb", "CurrentClampSeries_009")
    np.testing.assert_allclose(traces[1]["voltage"], v, rtol=1e-6)
    np.testing.assert_allclose(traces[1]["current"], i, rtol=1e-6)
    assert traces[1]["dt"] == pytest.approx(1e-4)


def test_extract_efeatures_on_the_demo_is_plausible_and_matches_bluepyefe(
    demo: tuple[Path, dict[str, Any]], cell: dict[str, Any], tmp_path: Path
) -> None:
    folder, files_metadata = demo
    config = json.loads((folder / "config.json").read_text())
    kwargs = {
        "targets": config["targets"],
        "protocols_rheobase": config["protocols_rheobase"],
        "efel_settings": config["efel_settings"],
    }
    ours_folder = folder / "efeatures"  # efex demo extracted its config.json there
    features, protocols, currents = (
        json.loads((ours_folder / name).read_text()) for name in OUTPUT_FILES
    )
    assert set(features) == {"IDRest_150", "IDRest_200", "IDRest_250", "IV_-40"}
    assert all(entry["n"] == 3 for f in features.values() for entry in f["soma"])
    rheobases = currents["all_threshold_current"]
    assert len({round(r, 3) for r in rheobases.values()}) == 3
    assert rheobases["SimCell1"] == pytest.approx(cell["rheobase_na"], abs=2e-3)
    by_name = {
        name: {f["feature"]: f for f in entry["soma"]}
        for name, entry in features.items()
    }
    counts = [by_name[f"IDRest_{a}"]["Spikecount"]["val"][0] for a in (150, 200, 250)]
    assert 0 < counts[0] < counts[1] < counts[2]
    assert 0.5 < by_name["IDRest_200"]["AP_width"]["val"][0] < 2.0
    assert 100 < by_name["IV_-40"]["ohmic_input_resistance_vb_ssse"]["val"][0] < 200
    assert protocols["IDRest_200"]["step"]["thresh_perc"] == pytest.approx(200, abs=2)
    extract = pytest.importorskip("bluepyefe.extract")
    extract.extract_efeatures(
        str(tmp_path / "bluepyefe"),
        json.loads(json.dumps(files_metadata)),
        write_files=True,
        **kwargs,
    )
    for name in OUTPUT_FILES:
        ours = json.loads((ours_folder / name).read_text())
        theirs = json.loads((tmp_path / "bluepyefe" / name).read_text())
        assert ours.keys() == theirs.keys()
        np.testing.assert_allclose(
            _numbers(ours), _numbers(theirs), rtol=1e-9, atol=0, err_msg=name
        )


def _numbers(document: Any) -> list[float]:
    """Every number of a JSON document, in order (NaN kept)."""
    if isinstance(document, dict):
        return [x for value in document.values() for x in _numbers(value)]
    if isinstance(document, list):
        return [x for value in document for x in _numbers(value)]
    if isinstance(document, bool) or not isinstance(document, (int, float)):
        return []
    return [float(document)]
