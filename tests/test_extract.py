"""efex_gui.extract as a drop-in for bluepyefe.extract: BluePyEfe's scenarios (§10.3).

The expected numbers are the spec's (BluePyEfe 2.3.63 with efel 5.7.34), never values
computed by efex_gui itself.
"""

from __future__ import annotations

import inspect
import json
import multiprocessing
import pickle
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

from efex_gui import extract
from efex_gui.core.errors import SettingsError, TargetError
from tests.conftest import shared_path

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.shared

FEATURES = ["Spikecount", "mean_frequency", "ISI_CV", "AP1_amp", "AP_width"]
B6B8_CELLS = (
    ("MouseNeuron1", "B6", range(181, 186)),
    ("MouseNeuron2", "B8", range(145, 150)),
)
X_IDTHRESH = [*range(349, 358), *range(362, 371)]


def b6b8_metadata() -> dict[str, Any]:
    root = shared_path("bluepyefe-exp-data")
    return {
        cell: {
            "IDRest": [
                {
                    "i_file": str(root / folder / f"{folder}_Ch0_IDRest_{n}.ibw"),
                    "v_file": str(root / folder / f"{folder}_Ch3_IDRest_{n}.ibw"),
                    "i_unit": "pA",
                    "v_unit": "mV",
                    "t_unit": "s",
                    "dt": 0.00025,
                    "ljp": 14.0,
                }
                for n in sweeps
            ]
        }
        for cell, folder, sweeps in B6B8_CELLS
    }


def legacy_targets(amplitudes=(150, 200, 250), tolerance=20) -> dict[str, Any]:
    return {
        "IDRest": {
            "amplitudes": list(amplitudes),
            "tolerances": [tolerance],
            "efeatures": list(FEATURES),
            "location": "soma",
        }
    }


def x_metadata(protocol: str, sweeps) -> dict[str, Any]:
    root = shared_path("sscx", "input-traces", "C060109A1-SR-C1")

    def entries(name, numbers, **extra):
        return [
            {
                "i_file": str(root / f"X_{name}_ch0_{n}.ibw"),
                "v_file": str(root / f"X_{name}_ch1_{n}.ibw"),
                "i_unit": "A",
                "v_unit": "V",
                "t_unit": "ms",
                "dt": 0.25,
                **extra,
            }
            for n in numbers
        ]

    timing = {"ton": 10, "tmid": 260, "tmid2": 360, "toff": 1360}
    return {
        "X": {
            protocol: entries(protocol, sweeps, **timing),
            "IDthresh": entries("IDthresh", X_IDTHRESH),
        }
    }


def stagewise(files_metadata, targets, protocols_rheobase, **group_kwargs):
    """BluePyEfe's test flow: read, extract, rheobase, group, build outputs."""
    cells = extract.read_recordings(files_metadata)
    cells = extract.extract_efeatures_at_targets(cells, targets)
    extract.compute_rheobase(cells, protocols_rheobase)
    protocols = extract.group_efeatures(cells, targets, **group_kwargs)
    outputs = extract.create_feature_protocol_files(cells, protocols, write_files=False)
    return cells, protocols, outputs


def _feature(features: dict, stimulus: str, name: str) -> dict[str, Any]:
    return next(f for f in features[stimulus]["soma"] if f["feature"] == name)


@pytest.fixture(scope="module")
def plotted_run(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, dict[str, Any], dict[str, Any]]:
    """One B6/B8 extraction with plots and files (read by two tests, never changed)."""
    folder = tmp_path_factory.mktemp("plotted_run")
    features, protocols, _ = extract.extract_efeatures(
        folder,
        b6b8_metadata(),
        targets=legacy_targets(),
        protocols_rheobase=["IDRest"],
        write_files=True,
        plot=True,
    )
    return folder, features, protocols


def test_extract(plotted_run: tuple[Path, dict[str, Any], dict[str, Any]]) -> None:
    targets = extract.convert_legacy_targets(legacy_targets())
    cells, _, _ = stagewise(b6b8_metadata(), targets, ["IDRest"])
    assert [len(cell.recordings) for cell in cells] == [5, 5]
    assert cells[0].rheobase == pytest.approx(0.119, abs=0.01)
    assert cells[1].rheobase == pytest.approx(0.0923, abs=0.01)

    folder, features, protocols = plotted_run
    spikecount = _feature(features, "IDRest_250", "Spikecount")
    assert spikecount["val"] == [78.5, 3.5]
    written_features = json.loads((folder / "features.json").read_text())
    written_protocols = json.loads((folder / "protocols.json").read_text())
    assert list(written_features) == list(written_protocols) == list(features)
    assert list(protocols) == ["IDRest_150", "IDRest_200", "IDRest_250"]


def test_plot_files(plotted_run: tuple[Path, dict[str, Any], dict[str, Any]]) -> None:
    tmp_path = plotted_run[0]  # plot=True (write_files is True by default)
    found = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.pdf")}
    # BluePyEfe's observed list (spec §6.6) ...
    expected = {f"IDRest_{f}_{k}.pdf" for f in FEATURES for k in ("amp", "amp_rel")}
    expected |= {"legend.pdf"}
    expected |= {
        f"{c}/{c}_IDRest_recordings.pdf" for c in ("MouseNeuron1", "MouseNeuron2")
    }
    # ... plus the per-cell feature plots BluePyEfe skips with built-in map (§9.1-14)
    per_cell = {
        f"{c}/{c}_IDRest_{f}_{k}.pdf"
        for c in ("MouseNeuron1", "MouseNeuron2")
        for f in FEATURES
        for k in ("amp", "amp_rel")
    }
    assert found == expected | per_cell
    assert all((tmp_path / name).stat().st_size > 1000 for name in found)


def test_extract_absolute() -> None:
    targets = [
        {"efeature": f, "protocol": "IDRest", "amplitude": a, "tolerance": 0.05}
        for a in (0.15, 0.25)
        for f in FEATURES
    ]
    cells = extract.read_recordings(b6b8_metadata())
    cells = extract.extract_efeatures_at_targets(cells, targets)
    protocols = extract.group_efeatures(cells, targets, absolute_amplitude=True)
    features, stimuli, currents = extract.create_feature_protocol_files(
        cells, protocols, write_files=False
    )
    assert [cell.rheobase for cell in cells] == [None, None]
    mean, std = _feature(features, "IDRest_0.25", "Spikecount")["val"]
    assert mean == pytest.approx(76.5, abs=1e-4)
    assert std == pytest.approx(5.590169, abs=1e-4)
    # spec §6.2: absolute run, thresh_perc null
    assert stimuli["IDRest_0.15"]["step"]["amp"] == pytest.approx(0.154679953, rel=1e-8)
    assert stimuli["IDRest_0.25"]["step"]["amp"] == pytest.approx(0.259362346, rel=1e-8)
    assert stimuli["IDRest_0.25"]["step"]["thresh_perc"] is None
    assert all(np.isnan(currents["threshold_current"]))


def test_extract_auto() -> None:
    cells = extract.read_recordings(b6b8_metadata())
    for cell in cells:
        cell.rheobase = 0.07
        cell.compute_relative_amp()
    recordings = [rec for cell in cells for rec in cell.recordings]
    targets = []
    for auto_target in extract.default_auto_targets():
        auto_target.select_ecode_and_amplitude(recordings)
        targets += auto_target.generate_targets()
    assert len(targets) == 48


def test_extract_auto_own_rheobase() -> None:
    # spec §5.6: with their own rheobases, IDRest_200 / IDRest_150 (19 features,
    # n = 2) and IDRest_300 (10 features); no IV target.
    features, _, _ = extract.extract_efeatures(
        "unused", b6b8_metadata(), protocols_rheobase=["IDRest"]
    )
    assert list(features) == ["IDRest_200", "IDRest_150", "IDRest_300"]
    assert [len(features[k]["soma"]) for k in features] == [19, 19, 10]
    assert _feature(features, "IDRest_150", "mean_frequency")["n"] == 2


def test_extract_auto_fail_rheobase() -> None:
    features, protocols, currents = extract.extract_efeatures(
        "unused",
        b6b8_metadata(),
        protocols_rheobase=["IDRest"],
        rheobase_strategy="flush",
        rheobase_settings={"upper_bound_spikecount": 4},
    )
    assert features == {}
    assert protocols == {}
    assert currents["all_threshold_current"] == {}


def test_legacy_config() -> None:
    root = shared_path("bluepyefe-exp-data")
    config = {
        "path": str(root),
        "cells": {
            cell: {
                "v_corr": False,
                "ljp": 14,
                "experiments": {
                    "IDRest": {
                        "location": "soma.v",
                        "files": [
                            {
                                "i_file": f"{folder}/{folder}_Ch0_IDRest_{n}.ibw",
                                "v_file": f"{folder}/{folder}_Ch3_IDRest_{n}.ibw",
                                "i_unit": "pA",
                                "v_unit": "mV",
                                "t_unit": "s",
                                "dt": 0.00025,
                            }
                            for n in sweeps
                        ],
                    }
                },
            }
            for cell, folder, sweeps in B6B8_CELLS
        },
        "features": {"IDRest": ["Spikecount", "AP1_amp"]},
        "options": {
            "onoff": {"IDRest": [700, 2700]},
            "target": [150, 200, 250],
            "tolerance": [20, 20, 20],
            "expthreshold": ["IDRest"],
            "strict_stiminterval": {"base": True},
            "spike_threshold": 1,
        },
    }
    inputs = extract.translate_legacy_config(config)
    cells = extract.read_recordings(inputs["files_metadata"])
    extract.compute_rheobase(
        cells,
        inputs["protocols_rheobase"],
        inputs["rheobase_strategy"],
        inputs["rheobase_settings"],
    )
    assert cells[0].rheobase == pytest.approx(0.119, abs=0.01)
    assert cells[1].rheobase == pytest.approx(0.0923, abs=0.01)


def test_sahp_x_cell() -> None:
    targets = [
        {"efeature": "Spikecount", "protocol": "sAHP", "amplitude": a, "tolerance": 10}
        for a in (285, 200, 450, 625, 370, 540)
    ]
    cells, _, (features, stimuli, _) = stagewise(
        x_metadata("sAHP", range(320, 326)), targets, ["IDthresh"]
    )
    assert len(cells[0].recordings) == 24
    assert cells[0].rheobase == pytest.approx(0.1103, abs=1e-4)
    sahp = sorted(
        cells[0].get_recordings_by_protocol_name("sAHP"), key=lambda r: r.amp2
    )
    assert sahp[1].amp == pytest.approx(0.0953, abs=1e-4)
    assert sahp[1].amp2 == pytest.approx(0.3153, abs=1e-4)
    assert sahp[1].amp_rel == pytest.approx(86.4, abs=0.05)
    assert sahp[1].amp2_rel == pytest.approx(285.8, abs=0.05)
    assert _feature(features, "sAHP_625", "Spikecount")["val"][0] == 6
    assert _feature(features, "sAHP_285", "Spikecount")["val"] == [3.0, 0.001]
    step = stimuli["sAHP_285"]["step"]
    assert list(step) == [
        "delay",
        "tmid",
        "tmid2",
        "toff",
        "amp",
        "long_amp",
        "thresh_perc",
        "duration",
        "totduration",
    ]
    assert [
        step[k] for k in ("delay", "tmid", "tmid2", "toff", "duration", "totduration")
    ] == [10.0, 260.0, 360.0, 1360.0, 100.0, 1370.0]
    assert step["amp"] == pytest.approx(0.3153, abs=1e-4)
    assert step["long_amp"] == pytest.approx(0.0953, abs=1e-4)
    assert step["thresh_perc"] == pytest.approx(285.84, abs=0.005)


def test_apthreshold_x_cell() -> None:
    targets = [
        {
            "efeature": "Spikecount",
            "protocol": "APThreshold",
            "amplitude": 150,
            "tolerance": 10,
        }
    ]
    cells, _, (features, _, _) = stagewise(
        x_metadata("APThreshold", range(254, 257)), targets, ["IDthresh"]
    )
    assert len(cells[0].recordings) == 21
    assert cells[0].rheobase == pytest.approx(0.1103, abs=1e-4)
    ramps = sorted(
        cells[0].get_recordings_by_protocol_name("APThreshold"), key=lambda r: r.amp
    )
    assert ramps[1].amp == pytest.approx(0.1740, abs=1e-4)
    assert ramps[1].amp_rel == pytest.approx(157.7, abs=0.1)
    assert _feature(features, "APThreshold_150", "Spikecount")["val"][0] == 14


def test_section_6_example_numbers() -> None:
    features, protocols, currents = extract.extract_efeatures(
        "unused",
        b6b8_metadata(),
        targets=legacy_targets(),
        protocols_rheobase=["IDRest"],
    )
    close = {"abs": 1e-9}  # the spec prints 9 decimals
    assert _feature(features, "IDRest_150", "Spikecount")["val"] == [47.0, 3.0]
    assert _feature(features, "IDRest_150", "mean_frequency")["val"] == pytest.approx(
        [23.8479, 1.4589], abs=1e-4
    )
    assert _feature(features, "IDRest_250", "AP_width")["val"] == pytest.approx(
        [1.39466, 0.06234], abs=1e-5
    )
    holding = protocols["IDRest_150"]["holding"]
    assert holding == {
        "delay": 0.0,
        "amp": pytest.approx(-0.032810899, **close),
        "duration": 3000.0,
        "totduration": 3000.0,
    }
    step = protocols["IDRest_150"]["step"]
    assert step == {
        "delay": 700.25,
        "amp": pytest.approx(0.157969263, **close),
        "thresh_perc": pytest.approx(148.684207595, **close),
        "duration": 1999.75,
        "totduration": 3000.0,
    }
    assert protocols["IDRest_200"]["step"]["amp"] == pytest.approx(0.210718891, **close)
    assert protocols["IDRest_250"]["step"]["duration"] == 2000.0
    assert currents["holding_current"] == [-0.032810899429023266, 0.020311509259045124]
    assert currents["threshold_current"] == pytest.approx(
        [0.1062448164448142, 0.012499391101300716], rel=1e-12
    )
    assert currents["all_threshold_current"] == {
        "MouseNeuron1": 0.11874420754611492,
        "MouseNeuron2": 0.09374542534351349,
    }


@pytest.mark.parametrize(
    ("mode", "holding", "amp", "thresh_perc"),
    [
        ("min", -0.05312, 0.15657, 147.37),
        ("max", -0.01250, 0.15937, 150.0),
        ("mean", -0.03281, 0.15797, 148.68),
        ("median", -0.03281, 0.15797, 148.68),
    ],
)
def test_protocol_modes(
    mode: str, holding: float, amp: float, thresh_perc: float
) -> None:
    features, protocols, _ = extract.extract_efeatures(
        "unused",
        b6b8_metadata(),
        targets=legacy_targets(),
        protocols_rheobase=["IDRest"],
        protocol_mode=mode,
    )
    out = protocols["IDRest_150"]
    assert out["holding"]["amp"] == pytest.approx(holding, abs=1e-5)
    assert out["step"]["amp"] == pytest.approx(amp, abs=1e-5)
    assert out["step"]["thresh_perc"] == pytest.approx(thresh_perc, abs=0.005)
    assert _feature(features, "IDRest_150", "Spikecount")["val"] == [47.0, 3.0]


def test_lnmc_mode_is_refused_before_reading() -> None:
    with pytest.raises(SettingsError, match="never implemented"):
        extract.extract_efeatures(
            "unused",
            {"cell": {"IDRest": [{"filepath": "none"}]}},
            targets=[],
            protocol_mode="lnmc",
        )


def test_argument_errors() -> None:
    with pytest.raises(ValueError, match="files_metadata"):
        extract.extract_efeatures("unused", {})
    with pytest.raises(SettingsError, match="low_memory_mode"):
        extract.extract_efeatures(
            "unused", b6b8_metadata(), targets=[], low_memory_mode=True, plot=True
        )
    with pytest.raises(SettingsError, match="both targets and auto_targets"):
        extract.extract_efeatures(
            "unused",
            b6b8_metadata(),
            targets=[],
            auto_targets=extract.default_auto_targets(),
        )
    with pytest.raises(TargetError, match="absolute_amplitude"):  # §9.1-15, fixed
        extract.extract_efeatures("unused", b6b8_metadata(), absolute_amplitude=True)


def _run(tmp_path: Path, name: str, **kwargs: Any) -> tuple[tuple, dict[str, str]]:
    out = tmp_path / name
    result = extract.extract_efeatures(
        out,
        b6b8_metadata(),
        targets=legacy_targets(),
        protocols_rheobase=["IDRest"],
        write_files=True,
        **kwargs,
    )
    files = {
        p.name: p.read_text()
        for p in out.glob("*.json")
        if p.name != "efex_provenance.json"
    }
    return result, files


def test_process_pool_gives_identical_output(tmp_path: Path) -> None:
    reference = _run(tmp_path, "serial")
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        pooled = _run(tmp_path, "pool", map_function=pool.map)
    assert pooled[1] == reference[1]
    assert len(reference[1]) == 3
    assert repr(pooled[0]) == repr(reference[0])


def test_low_memory_mode_gives_identical_output(tmp_path: Path) -> None:
    reference = _run(tmp_path, "normal")
    low = _run(tmp_path, "low", low_memory_mode=True, pickle_cells=True)
    assert low[1] == reference[1]
    cells = pickle.loads((tmp_path / "low" / "cells.pkl").read_bytes())
    assert all(
        rec.voltage is None and rec.t is None
        for cell in cells
        for rec in cell.recordings
    )
    # features kept (on the recordings a target window holds, docs/compatibility.md)
    assert any(rec.efeatures for rec in cells[0].recordings)


def test_pickles_written(tmp_path: Path) -> None:
    extract.extract_efeatures(
        tmp_path,
        b6b8_metadata(),
        targets=legacy_targets(),
        protocols_rheobase=["IDRest"],
        pickle_cells=True,
    )
    assert extract.cells_pickle_output_path(tmp_path).name == "cells.pkl"
    cells = pickle.loads(extract.cells_pickle_output_path(tmp_path).read_bytes())
    protocols = pickle.loads(
        extract.protocols_pickle_output_path(tmp_path).read_bytes()
    )
    assert [cell.name for cell in cells] == ["MouseNeuron1", "MouseNeuron2"]
    assert cells[0].recordings[0].voltage is not None
    assert [p.stimulus_name for p in protocols] == [
        "IDRest_150",
        "IDRest_200",
        "IDRest_250",
    ]
    assert not (tmp_path / "features.json").exists()  # write_files=False


def test_unreadable_file_is_skipped(tmp_path: Path) -> None:
    metadata = b6b8_metadata()
    broken = tmp_path / "broken.ibw"
    broken.write_bytes(b"not an igor file")
    metadata["MouseNeuron1"]["IDRest"].append(
        {**metadata["MouseNeuron1"]["IDRest"][0], "v_file": str(broken)}
    )
    cells = extract.read_recordings(metadata)
    assert [len(cell.recordings) for cell in cells] == [5, 5]
    assert [path for path, _ in cells[0].skipped_files] == [str(broken)]
    from efex_gui.core.errors import ReaderError
    from efex_gui.core.extraction.pipeline import read_recordings
    from efex_gui.core.extraction.request import RunExtras

    with pytest.raises(ReaderError, match=r"broken\.ibw"):
        read_recordings(metadata, options=RunExtras(strict=True))


def test_same_signatures_as_bluepyefe() -> None:
    bpe = pytest.importorskip("bluepyefe.extract")
    public = [
        name
        for name, obj in inspect.getmembers(bpe, inspect.isfunction)
        if obj.__module__ == bpe.__name__ and not name.startswith("_")
    ]
    assert len(public) == 11
    for name in public:
        ours = inspect.signature(getattr(extract, name)).parameters
        theirs = inspect.signature(getattr(bpe, name)).parameters
        assert [(p.name, p.kind, p.default) for p in ours.values()] == [
            (p.name, p.kind, p.default) for p in theirs.values()
        ], name


def test_every_name_of_bluepyefe_extract() -> None:
    """Every name of ``bluepyefe.extract`` but its imported modules, with BluePyEfe's
    parameters first (ours may add keyword-only ones)."""
    bpe = pytest.importorskip("bluepyefe.extract")
    names = [
        n
        for n in dir(bpe)
        if not n.startswith("__") and not inspect.ismodule(getattr(bpe, n))
    ]
    assert {"Cell", "compute_rheobase_flush", "plot_all_recordings_efeatures"} <= set(
        names
    )
    missing = [n for n in names if not hasattr(extract, n)]
    assert missing == []
    for name in names:
        theirs, ours = getattr(bpe, name), getattr(extract, name)
        if not inspect.isfunction(theirs):
            continue
        expected = [p.name for p in inspect.signature(theirs).parameters.values()]
        found = [p.name for p in inspect.signature(ours).parameters.values()]
        assert found[: len(expected)] == expected, name
        assert all(
            p.kind is p.KEYWORD_ONLY or p.default is not p.empty
            for p in list(inspect.signature(ours).parameters.values())[len(expected) :]
        ), name


def test_plot_all_recordings_efeatures_from_the_facade(tmp_path: Path) -> None:
    metadata = {"MouseNeuron1": b6b8_metadata()["MouseNeuron1"]}
    targets = [
        t for t in extract.convert_legacy_targets(legacy_targets((150,)))
        if t["efeature"] == "Spikecount"
    ]  # fmt: skip
    cells, protocols, _ = stagewise(metadata, targets, ["IDRest"])
    written = extract.plot_all_recordings_efeatures(cells, protocols, tmp_path)
    assert {p.name for p in written} >= {
        "MouseNeuron1_IDRest_recordings.pdf",
        "IDRest_Spikecount_amp_rel.pdf",
    }
    assert all(path.is_file() for path in written)
    with pytest.raises(SettingsError, match="output_dir"):
        extract.plot_all_recordings_efeatures(cells, protocols)


def test_plot_recordings(tmp_path: Path) -> None:
    extract.plot_recordings(b6b8_metadata(), output_directory=tmp_path)
    assert {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.pdf")} == {
        f"{c}/{c}_IDRest_recordings.pdf" for c in ("MouseNeuron1", "MouseNeuron2")
    }
