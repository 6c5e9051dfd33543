"""efex_gui.core.features: how efel is driven (spec §3.2.6)."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from efex_gui.core import features
from efex_gui.core.features import (
    UnknownFeatureError,
    build_efel_settings,
    call_efel,
    describe_feature,
    efel_feature_names,
    efel_settings_names,
    mean_feature_value,
)

DT = 0.025
SPIKE_TIMES = (150.0, 300.0, 450.0, 600.0, 850.0)


def _trace(spike_times=SPIKE_TIMES, height=90.0):
    """-70 mV baseline with narrow Gaussian spikes peaking at -70 + height mV."""
    t = np.arange(0.0, 1000.0, DT)
    v = np.full_like(t, -70.0)
    for tk in spike_times:
        v += height * np.exp(-(((t - tk) / 0.3) ** 2))
    return t, v, np.zeros_like(t)


def _count(settings=None, start=100.0, end=700.0, **kwargs):
    t, v, i = _trace(**kwargs.pop("trace", {}))
    out = call_efel(
        t, v, i, ["peak_time"], settings, stim_start=start, stim_end=end, **kwargs
    )
    return None if out["peak_time"] is None else len(out["peak_time"])


def test_spikes_are_counted_in_the_window_with_strict_interval():
    assert _count({"strict_stiminterval": True, "Threshold": -20.0}) == 4
    assert _count({"strict_stiminterval": True, "Threshold": -20.0}, end=950.0) == 5


def test_settings_window_overrides_the_ecode_window():
    settings = {"strict_stiminterval": True, "stim_start": 100.0, "stim_end": 350.0}
    assert _count(settings) == 2


def test_threshold_comes_from_auto_threshold_only_when_absent():
    # spikes peak at +20 mV: an auto threshold of 30 mV finds none
    assert _count({"strict_stiminterval": True}, auto_threshold=30.0) is None
    assert (
        _count({"strict_stiminterval": True, "Threshold": 0.0}, auto_threshold=30.0)
        == 4
    )


def test_settings_do_not_leak_between_calls():
    assert _count({"Threshold": 40.0, "strict_stiminterval": True}) is None
    # next call without Threshold: efel's default (-20 mV) again
    assert _count({"strict_stiminterval": True}) == 4


def test_invalid_setting_value_raises_value_error():
    with pytest.raises(ValueError, match="Invalid value for setting 'Threshold'"):
        _count({"Threshold": ["40."]})


def test_unknown_feature_raises_runtime_error():
    t, v, i = _trace()
    with pytest.raises(RuntimeError):
        call_efel(t, v, i, ["not_a_feature"], {}, stim_start=100.0, stim_end=900.0)
    assert issubclass(UnknownFeatureError, RuntimeError)


def test_settings_order_and_stim_keys_are_left_out():
    settings = build_efel_settings(
        {"stim_start": 1.0, "stim_end": 2.0, "interp_step": 0.025}, 0.3, -40.0
    )
    assert list(settings) == ["stimulus_current", "Threshold", "interp_step"]
    assert settings["Threshold"] == -40.0
    assert "Threshold" not in build_efel_settings({}, 0.3, None)
    assert build_efel_settings({"Threshold": 5.0}, 0.3, -40.0)["Threshold"] == 5.0


def test_multi_stim_settings_are_passed(monkeypatch):
    seen = {}
    real = features.efel.set_setting
    monkeypatch.setattr(
        features.efel, "set_setting", lambda k, v: (seen.__setitem__(k, v), real(k, v))
    )
    t, v, i = _trace()
    name = features.MULTI_STIM_FEATURE
    call_efel(
        t,
        v,
        i,
        [name],
        {},
        stim_start=0.0,
        stim_end=1000.0,
        multi_stim_start=[100.0, 400.0],
        multi_stim_end=[110.0, 410.0],
    )
    assert seen["multi_stim_start"] == [100.0, 400.0]
    assert seen["multi_stim_end"] == [110.0, 410.0]
    seen.clear()
    call_efel(
        t,
        v,
        i,
        [name],
        {"stim_start": 50.0, "stim_end": 60.0},
        stim_start=0.0,
        stim_end=1000.0,
    )
    assert seen["multi_stim_start"] == [50.0]
    assert seen["multi_stim_end"] == [60.0]
    seen.clear()
    call_efel(
        t,
        v,
        i,
        ["Spikecount"],
        {},
        stim_start=0.0,
        stim_end=1000.0,
        multi_stim_start=[1.0],
        multi_stim_end=[2.0],
    )
    assert "multi_stim_start" not in seen


def test_mean_feature_value_reduction():
    assert np.isnan(mean_feature_value(None))
    assert np.isnan(mean_feature_value(np.array([])))
    assert np.isnan(mean_feature_value(np.array([1.0, np.inf])))
    assert np.isnan(mean_feature_value(np.array([np.nan, np.nan])))
    assert mean_feature_value(np.array([1.0, np.nan, 3.0])) == 2.0
    assert mean_feature_value(np.array([4])) == 4.0


def test_calls_from_threads_do_not_mix_settings():
    expected = {40.0: None, -20.0: 4}
    results: list[tuple[float, int | None]] = []

    def worker(threshold: float) -> None:
        for _ in range(15):
            results.append(
                (
                    threshold,
                    _count({"Threshold": threshold, "strict_stiminterval": True}),
                )
            )

    threads = [threading.Thread(target=worker, args=(th,)) for th in (40.0, -20.0)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 30
    assert all(count == expected[th] for th, count in results)


def test_catalogue_and_descriptions():
    names = efel_feature_names()
    assert "Spikecount" in names
    assert "AP1_amp" in names
    assert names == sorted(names)
    assert "mV" in describe_feature("AP1_amp")
    assert "ISI" in describe_feature("ISI_CV")
    assert describe_feature("nope") == ""
    assert "Threshold" in efel_settings_names()


def test_fast_reset_gives_what_a_full_efel_reset_gives(monkeypatch):
    t, v, i = _trace()
    v = v.copy()
    v[(t > 200) & (t < 700)] -= 5.0  # a hyperpolarising "response" for resistances
    names = [
        "peak_time",
        "AP_width",
        "voltage_base",
        "ohmic_input_resistance",
        "decay_time_constant_after_stim",
        "mean_frequency",
    ]
    calls = [
        ({"Threshold": -30.0, "interp_step": 0.025, "strict_stiminterval": True}, 0.2),
        ({}, np.float32(-0.1)),  # a float32 stimulus_current is not passed on by efel
        ({"voltage_base_start_perc": 0.5}, -0.1),
    ]

    def run():
        return [
            call_efel(
                t, v, i, names, s, stim_start=200.0, stim_end=700.0, stimulus_current=sc
            )
            for s, sc in calls
        ]

    fast = run()
    monkeypatch.setattr(features, "FAST_RESET", False)
    full = run()
    for a, b in zip(fast, full, strict=True):
        for name in names:
            if a[name] is None or b[name] is None:
                assert a[name] is b[name] is None, name
            else:
                np.testing.assert_array_equal(a[name], b[name])
