"""eCodes: the name table, stimulus interpretation, and per-sweep agreement with
BluePyEfe 2.3.63 (run as an oracle when installed)."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest

from efex_gui.core.errors import ECodeError
from efex_gui.core.recordings import ecodes
from efex_gui.core.recordings.ecodes import (
    SAHP,
    CapCheck,
    DeHyperPol,
    HyperDePol,
    NegCheops,
    PinkNoise,
    PosCheops,
    Ramp,
    SineSpec,
    SpikeRec,
    Step,
    ecode_for_protocol,
)
from efex_gui.core.recordings.recording import TimingMetadataError
from tests.conftest import shared_path
from tests.core.ecode_data import (
    SAHP_TIMING,
    b6b8_files,
    b95_config,
    bluepyefe_ecodes,
    nwb_config,
    read_traces,
    same_value,
    x_files,
)

DT = 0.1


def _trace(current: np.ndarray, voltage: np.ndarray | None = None) -> dict:
    voltage = np.full(len(current), -70.0) if voltage is None else voltage
    return {
        "voltage": voltage,
        "current": current,
        "dt": DT,
        "t_unit": "ms",
        "i_unit": "nA",
        "v_unit": "mV",
    }


def _step_current(n=12000, on=2500, off=9500, amp=0.3, hold=-0.05, noise=0.0):
    rng = np.random.default_rng(1)
    current = np.full(n, hold) + noise * rng.normal(size=n)
    current[on:off] += amp
    return current


# ----------------------------------------------------------------- name table
@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("IDRest", Step),
        ("IDthresh", Step),
        ("APThreshold", Ramp),
        ("StepRamp", Step),
        ("RampStep", Step),
        ("sAHP_step", Step),
        ("IDhyperpol", SAHP),
        ("IRdepol", SAHP),
        ("hyperdepolstep", Step),
        ("HyperDePol", HyperDePol),
        ("DeHyperPol", DeHyperPol),
        ("Derivative", Step),
        ("Delta_IV", Step),
        ("PosCheops", PosCheops),
        ("NegCheops", NegCheops),
        ("SpikeRec", SpikeRec),
        ("SineSpec", SineSpec),
        ("PinkNoise", PinkNoise),
        ("CapCheck", CapCheck),
        ("sAHP", SAHP),
    ],
)
def test_first_substring_match(name, cls):
    assert ecode_for_protocol(name) is cls


@pytest.mark.parametrize("name", ["TestPulse", "Chirp", "noise"])
def test_unknown_protocol(name):
    with pytest.raises(ECodeError, match="There is no eCode linked to the stimulus"):
        ecode_for_protocol(name)
    with pytest.raises(KeyError):
        ecode_for_protocol(name)


def test_table_matches_bluepyefe_2_3_63():
    theirs = bluepyefe_ecodes()
    assert list(ecodes.eCodes) == list(theirs)
    assert [c.__name__.lower() for c in ecodes.eCodes.values()] == [
        c.__name__.lower() for c in theirs.values()
    ]


@pytest.mark.parametrize("cls", list(dict.fromkeys(ecodes.eCodes.values())))
def test_blank_ecode(cls):
    blank = cls(config_data={}, reader_data={}, protocol_name="x")
    params = blank.get_params()
    assert list(params) == blank.export_attr
    assert all(v is None for k, v in params.items() if not k.startswith("chirp_"))
    for key in params:
        setattr(blank, key, 1.0)
    assert blank.get_params()[blank.export_attr[0]] == 1.0


# ----------------------------------------------------------------- Step
def test_step_detection():
    rec = Step({}, _trace(_step_current()), "IDRest")
    assert rec.hypamp == pytest.approx(-0.05)
    assert rec.amp == pytest.approx(0.3)
    assert rec.ton == pytest.approx(250.0)
    assert rec.toff == pytest.approx(949.9)  # the last supra-threshold sample
    assert rec.tend == pytest.approx(1200.0)
    params = rec.get_stimulus_parameters()
    assert params["duration"] == pytest.approx(rec.toff - rec.ton)
    assert rec.warnings == []


def test_step_flat_current_and_reader_indices():
    rec = Step({}, _trace(np.zeros(12000)), "IDRest")
    assert rec.ton == pytest.approx(2.0)
    assert rec.amp == 0.0
    assert rec.toff == pytest.approx(1200.0 - 2.1)
    assert any("no current step found" in w for w in rec.warnings)
    trace = dict(_trace(_step_current()), ton=2000, toff=9000)  # indices, not ms
    rec = Step({}, trace, "IDRest")
    assert (rec.ton, rec.toff) == pytest.approx((200.0, 900.0))


def test_step_config_hypamp_without_timing_does_not_crash():
    # BluePyEfe raises TypeError here (list - float); docs/compatibility-core.md
    rec = Step({"hypamp": -0.05}, _trace(_step_current()), "IDRest")
    assert rec.ton == pytest.approx(250.0)


def test_step_failed_detection_falls_back():
    trace = _trace(_step_current())
    rec = Step({"ton": 900.0, "toff": 300.0}, trace, "IDRest")
    assert rec.ton == 0
    assert rec.toff == rec.tend
    assert any("automatic step detection failed" in w for w in rec.warnings)


# ----------------------------------------------------------------- other eCodes
def test_ramp_needs_ton_and_finds_the_peak():
    current = np.full(6000, -0.05)
    current[1000:4000] = np.linspace(-0.05, 0.95, 3000)
    with pytest.raises(TimingMetadataError, match="ton") as err:
        Ramp({}, _trace(current), "APThreshold")
    assert isinstance(err.value, AttributeError)
    assert isinstance(err.value, KeyError)
    rec = Ramp({"ton": 100.0}, _trace(current), "APThreshold")
    assert rec.ton == 100.0
    assert 380.0 < rec.toff < 400.0
    assert rec.hypamp == pytest.approx(-0.05)


def test_sahp_from_config_and_detected():
    current = np.full(15000, -0.02)
    current[1000:13000] += 0.1
    current[4000:5000] += 0.2
    config = {"ton": 100, "tmid": 400, "tmid2": 500, "toff": 1300}
    rec = SAHP(dict(config), _trace(current), "sAHP")
    assert (rec.amp, rec.amp2, rec.hypamp) == pytest.approx((0.1, 0.3, -0.02))
    rec.compute_relative_amp(0.1)
    assert rec.amp2_rel == pytest.approx(300.0)
    assert rec.in_target(300, 1)
    assert not rec.in_target(100, 1)
    detected = SAHP({}, _trace(current), "sAHP")
    assert (detected.amp, detected.amp2) == pytest.approx((0.1, 0.3))
    assert detected.tmid == pytest.approx(400.0, abs=5)
    assert detected.tmid2 == pytest.approx(500.0, abs=5)


def test_sahp_empty_detection_window_falls_back():
    current = np.zeros(3000)
    current[1000:1050] = 1.0  # too short for the 50-sample inner margins
    rec = SAHP({}, _trace(current), "sAHP")
    assert (rec.ton, rec.tmid) == (0, 0)
    assert rec.toff == rec.tmid2 == rec.tend
    assert rec.warnings


def test_hyperdepol_defaults_and_dehyperpol_thresh_perc():
    current = np.full(12000, -0.05)
    current[2500:7000] = -0.3
    current[7000:9700] = 0.4
    config = {"ton": 300.0}
    rec = HyperDePol(config, _trace(current), "HyperDePol")
    assert config == {"ton": 250.0, "tmid": 700.0, "toff": 970.0}
    assert (rec.amp, rec.amp2) == pytest.approx((-0.25, 0.45))
    with pytest.raises(TimingMetadataError):
        DeHyperPol({}, _trace(current), "DeHyperPol")
    rec = DeHyperPol(dict(config), _trace(current), "DeHyperPol")
    rec.compute_relative_amp(0.2)
    assert rec.get_stimulus_parameters()["thresh_perc"] == rec.amp2_rel
    assert rec.in_target(rec.amp_rel, 1)


def test_cheops_defaults():
    config: dict = {}
    n = int(20000 / DT)
    rec = PosCheops(config, _trace(np.zeros(n)), "PosCheops")
    assert config["toff"] == 18916.0
    assert rec.t4 == 16250.0
    config = {}
    NegCheops(config, _trace(np.zeros(n)), "NegCheops")
    assert config["ton"] == 1750.0


def test_spikerec_pulses():
    current = np.full(4000, 0.01)
    for start, width in ((1000, 40), (1213, 23), (1517, 31)):
        current[start : start + width] = 1.0
    rec = SpikeRec({}, _trace(current), "SpikeRec")
    assert rec.tspike == pytest.approx([99.9, 121.2, 151.6])
    assert rec.spike_duration == pytest.approx((4.0 + 2.3 + 3.1) / 3)
    assert rec.delta == pytest.approx(((1213 - 1039 - 1) + (1517 - 1235 - 1)) * DT / 2)
    assert rec.amp == 1.0
    assert rec.ton == 0.0
    assert np.isnan(rec.auto_threshold)
    assert rec.in_target(rec.delta, 0.1, absolute_amplitude=True)
    assert rec.get_stimulus_parameters()["n_spikes"] == 3


def test_sinespec_default_timing_is_in_samples():
    rec = SineSpec({}, _trace(np.zeros(60000)), "SineSpec")
    assert (rec.ton, rec.toff) == pytest.approx((15.0, 510.0))  # 150 / 5100 samples
    params = rec.get_stimulus_parameters()
    assert params["chirp_frequency_denominator"] == 5.15
    rec = SineSpec(
        {"ton": 300.0, "toff": 4000.0, "chirp_time_offset": 0.2},
        _trace(np.zeros(60000)),
        "SineSpec",
    )
    assert rec.ton == 300.0
    assert rec.chirp_time_offset == 0.2


def test_pinknoise_waveform_is_normalised():
    rng = np.random.default_rng(0)
    current = -0.05 + rng.normal(0, 0.002, 20000)
    current[3000:15000] += 0.3 * rng.normal(0, 1, 12000)
    rec = PinkNoise({"ton": 300, "toff": 1500}, _trace(current), "PinkNoise")
    assert len(rec.waveform) == 12000
    assert np.max(np.abs(rec.waveform)) == 1.0
    assert {"dt", "waveform"} <= set(rec.get_stimulus_parameters())
    detected = CapCheck({}, _trace(current), "CapCheck")
    assert (detected.ton, detected.toff) == pytest.approx((300.0, 1500.0))


# ----------------------------------------------------------------- BluePyEfe oracle
def _compare(cls_key: str, config: dict, trace: dict, protocol: str, settings=None):
    theirs_cls = bluepyefe_ecodes()[cls_key]
    theirs = theirs_cls(copy.deepcopy(config), trace, protocol, settings)
    ours = ecode_for_protocol(protocol)(
        copy.deepcopy(config), trace, protocol, settings
    )
    names = [*theirs.get_params(), "auto_threshold", "spikecount", "peak_time"]
    diffs = [n for n in names if not same_value(getattr(theirs, n), getattr(ours, n))]
    t_theirs, c_theirs = theirs.generate()
    t_ours, c_ours = ours.generate()
    assert np.array_equal(t_theirs, t_ours)
    np.testing.assert_allclose(c_ours, c_theirs, rtol=0, atol=1e-12)
    return diffs, theirs, ours


def _synthetic_cases():
    rng = np.random.default_rng(3)
    noise = -0.05 + rng.normal(0, 0.002, 20000)
    noise[3000:15000] += 0.3 * rng.normal(0, 1, 12000)
    sahp = np.full(15000, -0.02) + rng.normal(0, 0.003, 15000)
    sahp[1000:13000] += 0.1
    sahp[4000:5000] += 0.2
    hdp = np.full(12000, -0.05)
    hdp[2500:7000] = -0.3
    hdp[7000:9700] = 0.4
    cheops = np.zeros(int(20000 / DT))
    pulses = np.full(4000, 0.01)
    for start, width in ((1000, 40), (1213, 23), (1517, 31)):
        pulses[start : start + width] = 1.0
    return [
        ("step", {}, _step_current(noise=0.004), "IDRest"),
        (
            "step",
            {"hypamp": -0.05, "ton": 250.0, "toff": 950.0},
            _step_current(),
            "IDRest",
        ),
        (
            "ramp",
            {"ton": 100.0},
            np.r_[
                np.full(1000, -0.05),
                np.linspace(-0.05, 0.95, 3000),
                np.full(2000, -0.05),
            ],
            "Ramp",
        ),
        ("sahp", {}, sahp, "sAHP"),
        (
            "sahp",
            {"ton": 100, "tmid": 400, "tmid2": 500, "toff": 1300, "amp": 0.2},
            sahp,
            "sAHP",
        ),
        ("hyperdepol", {"ton": 250, "tmid": 700, "toff": 970}, hdp, "HyperDePol"),
        ("hyperdepol", {"ton": 250}, hdp, "HyperDePol"),
        (
            "dehyperpol",
            {"ton": 250, "tmid": 700, "toff": 970, "hypamp": 0.1},
            hdp,
            "DeHyperPol",
        ),
        ("poscheops", {}, cheops, "PosCheops"),
        ("negcheops", {}, cheops, "NegCheops"),
        ("spikerec", {}, pulses, "SpikeRec"),
        ("sinespec", {"ton": 300, "toff": 1500}, noise, "SineSpec"),
        ("pinknoise", {}, noise, "PinkNoise"),
        ("pinknoise", {"ton": 300, "toff": 1500}, noise, "PinkNoise"),
        ("capcheck", {}, noise, "CapCheck"),
    ]


@pytest.mark.parametrize("case", range(15))
def test_synthetic_sweeps_agree_with_bluepyefe(case):
    key, config, current, protocol = _synthetic_cases()[case]
    diffs, _, _ = _compare(key, config, _trace(current), protocol)
    assert diffs == []


def _real_cases():
    cases = [("B6", c) for c in b6b8_files("B6")] + [("B95", b95_config())]
    cases += [("X sAHP", c) for c in x_files("sAHP", **SAHP_TIMING)]
    cases += [("X sAHP auto", c) for c in x_files("sAHP")]
    cases += [("X IDhyperpol", c) for c in x_files("IDhyperpol")]
    cases += [("X APThreshold", c) for c in x_files("APThreshold", ton=10, toff=1360)]
    cases += [("X APThreshold", c) for c in x_files("APThreshold", ton=10)]
    cases += [("X IDthresh", c) for c in x_files("IDthresh")[:4]]
    return cases


@pytest.mark.slow
@pytest.mark.parametrize(
    "settings",
    [None, {"Threshold": -20.0, "interp_step": 0.025, "strict_stiminterval": True}],
)
def test_real_sweeps_agree_with_bluepyefe(settings):
    bluepyefe_ecodes()
    protocol_of = {"B6": "IDRest", "B95": "IDRest", "X IDthresh": "IDthresh"}
    features = [
        "Spikecount",
        "AP1_amp",
        "voltage_base",
        "decay_time_constant_after_stim",
    ]
    for label, config in _real_cases():
        protocol = protocol_of.get(label) or label.split()[1]
        for trace in read_traces(config):
            key = ecodes.ecode_key_for_protocol(protocol)
            diffs, theirs, ours = _compare(key, config, trace, protocol, settings)
            assert diffs == [], (label, config.get("v_file"))
            theirs.compute_efeatures(features, efel_settings=settings)
            ours.compute_efeatures(features, efel_settings=settings)
            for name in features:
                assert same_value(theirs.efeatures[name], ours.efeatures[name]), name


@pytest.mark.slow
def test_nwb_and_sscx_sweeps_agree_with_bluepyefe():
    bluepyefe_ecodes()
    configs = [("Step", nwb_config())]
    inputs = shared_path("oracle", "sscx-dev4", "inputs.json")
    metadata = json.loads(inputs.read_text())["files_metadata"]
    for protocols in metadata.values():
        for protocol, files in protocols.items():
            for entry in files[:: max(1, len(files) // 3)]:
                entry = dict(entry)
                for key in ("i_file", "v_file"):
                    entry[key] = str(shared_path(entry[key]))
                configs.append((protocol, entry))
    settings = {"Threshold": -30.0, "interp_step": 0.025, "strict_stiminterval": True}
    for protocol, config in configs:
        for trace in read_traces(config):
            key = ecodes.ecode_key_for_protocol(protocol)
            diffs, _, _ = _compare(key, config, trace, protocol, settings)
            assert diffs == [], (protocol, config.get("v_file"), config.get("filepath"))


def test_default_protocol_names_are_bluepyefes() -> None:
    """An eCode built without a protocol name gets BluePyEfe's default for it."""
    import inspect

    bpe = pytest.importorskip("bluepyefe.ecode")
    from efex_gui.core.recordings.ecodes import eCodes

    theirs_by_name = {cls.__name__: cls for cls in bpe.eCodes.values()}
    for cls in set(eCodes.values()):
        theirs = theirs_by_name[cls.__name__]
        default = inspect.signature(theirs.__init__).parameters["protocol_name"].default
        assert cls.default_protocol_name == default, cls.__name__
        assert cls({}, {}).protocol_name == default
