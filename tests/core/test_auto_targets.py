"""AutoTarget selection and BluePyEfe's default auto targets."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from efex_gui.core.targets.auto import AutoTarget, default_auto_targets


def _recs(protocol, amps_rel):
    return [SimpleNamespace(protocol_name=protocol, amp_rel=a) for a in amps_rel]


def test_default_auto_targets_shape():
    targets = default_auto_targets()
    assert [len(t.efeatures) for t in targets] == [19, 10, 11]
    assert [t.amplitudes for t in targets] == [
        [200, 150, 250, 300],
        [300, 350, 250, 400, 200],
        [-50, -100],
    ]
    assert [t.preferred_number_protocols for t in targets] == [2, 1, 1]
    assert [t.tolerance for t in targets] == [25.0, 25.0, 10.0]
    assert all(t.min_recordings_per_amplitude == 1 for t in targets)
    assert targets[0].protocols[:3] == ["Step", "FirePattern", "IDrest"]
    assert targets[1].protocols[:2] == ["APWaveform", "APwaveform"]
    assert default_auto_targets()[0] is not targets[0]


def test_selection_is_protocol_first_and_limited():
    target = AutoTarget(
        ["IDRest", "Step"],
        [200, 150],
        ["Spikecount"],
        min_recordings_per_amplitude=1,
        preferred_number_protocols=2,
        tolerance=25.0,
    )
    recs = _recs("IDRest", [148.0, 199.0]) + _recs("Step", [200.0])
    recs += _recs("idrest", [150])
    target.select_ecode_and_amplitude(recs)
    assert list(zip(target.active_ecode, target.active_amplitudes, strict=True)) == [
        ("IDRest", 200),
        ("IDRest", 150),
    ]
    assert target.is_valid()
    assert target.generate_targets() == [
        {
            "efeature": "Spikecount",
            "protocol": "IDRest",
            "amplitude": 200,
            "tolerance": 25.0,
        },
        {
            "efeature": "Spikecount",
            "protocol": "IDRest",
            "amplitude": 150,
            "tolerance": 25.0,
        },
    ]


def test_tolerance_is_strict_and_min_recordings_counts():
    target = AutoTarget(
        ["IDRest"], [200], ["x"], min_recordings_per_amplitude=2, tolerance=10
    )
    target.select_ecode_and_amplitude(_recs("IDRest", [190.0, 205.0, None]))
    assert not target.is_valid()
    target.select_ecode_and_amplitude(_recs("IDRest", [191.0, 205.0]))
    assert target.is_valid()


def test_selections_accumulate_until_reset():
    # §9.1-18: reproduced; reset() (or the pipeline's fresh copies) starts afresh.
    target = AutoTarget(
        ["IDRest"],
        [200],
        ["x"],
        min_recordings_per_amplitude=1,
        preferred_number_protocols=3,
    )
    target.select_ecode_and_amplitude(_recs("IDRest", [200.0]))
    target.select_ecode_and_amplitude(_recs("IDRest", [200.0]))
    assert target.active_amplitudes == [200, 200]
    target.reset()
    assert not target.is_valid()
    assert target.generate_targets() == []


def test_same_as_bluepyefe_defaults():
    bpe = pytest.importorskip("bluepyefe.auto_targets")
    for ours, theirs in zip(
        default_auto_targets(), bpe.default_auto_targets(), strict=True
    ):
        assert vars(ours) == vars(theirs)
