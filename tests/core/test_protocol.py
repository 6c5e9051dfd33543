"""Protocol: grouping of recordings, n_match, averaged stimulus and modes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from efex_gui.core.errors import SettingsError
from efex_gui.core.extraction.protocol import Protocol, check_protocol_mode
from efex_gui.core.recordings.ecodes.base import WINDOW_PARAMETERS
from efex_gui.core.targets.target import EFeatureTarget


class FakeStep:
    """A Step-like recording with BluePyEfe's attribute names."""

    export_attr = WINDOW_PARAMETERS

    def __init__(
        self, config_data=None, reader_data=None, protocol_name="IDRest", **values
    ):
        self.protocol_name = protocol_name
        self.ton = self.toff = self.tend = self.amp = self.hypamp = self.dt = None
        self.amp_rel = self.hypamp_rel = None
        self.efeatures = {}
        self.files = []
        self.auto_threshold = None
        for key, value in values.items():
            setattr(self, key, value)

    def get_params(self):
        return {key: getattr(self, key) for key in self.export_attr}

    def get_stimulus_parameters(self):
        return {
            "delay": self.ton,
            "amp": self.amp,
            "thresh_perc": self.amp_rel,
            "duration": self.toff - self.ton,
            "totduration": self.tend,
        }


def _recording(amp, amp_rel, hypamp, toff=2700.0, spikes=10.0, threshold=-40.0):
    return FakeStep(
        ton=700.25,
        toff=toff,
        tend=3000.0,
        amp=amp,
        hypamp=hypamp,
        dt=0.25,
        amp_rel=amp_rel,
        hypamp_rel=None,
        efeatures={"Spikecount": spikes},
        files=[f"f{amp}"],
        auto_threshold=threshold,
    )


@pytest.fixture
def fake_ecodes(monkeypatch):
    monkeypatch.setattr(Protocol, "_ecode_class", lambda self: FakeStep)


def _protocol(mode="mean", global_rheobase=0.1, settings=None):
    target = EFeatureTarget(None, "Spikecount", "IDRest", 150, 20, settings)
    return Protocol("IDRest", 150, 20, [target], global_rheobase, mode=mode), target


def test_stimulus_name_uses_the_amplitude_as_given():
    assert Protocol("IDRest", 150, 20).stimulus_name == "IDRest_150"
    assert Protocol("IDRest", 150.0, 20).stimulus_name == "IDRest_150.0"
    assert Protocol("Step", -50, 20).stimulus_name == "Step_-50"
    assert Protocol("IDRest", 0.25, 0.05).stimulus_name == "IDRest_0.25"


def test_n_match_counts_values_not_recordings():
    # BluePyEfe's test_protocol: two appended recordings -> n_match 2
    protocol, target = _protocol()
    protocol.append(_recording(0.15, 150.0, -0.01))
    protocol.append(_recording(0.16, 152.0, -0.01, spikes=float("nan")))
    assert len(protocol.recordings) == 2
    assert protocol.n_match == 1
    protocol.append(_recording(0.14, 148.0, -0.01))
    assert protocol.n_match == 2
    assert target.files == ["f0.15", "f0.14"]


def test_append_collects_auto_thresholds_only_without_threshold_setting():
    protocol, target = _protocol()
    protocol.append(_recording(0.15, 150.0, -0.01, threshold=-40.0))
    protocol.append(_recording(0.15, 150.0, -0.01, threshold=None))
    assert target._auto_thresholds == [-40.0]
    protocol, target = _protocol(settings={"Threshold": None})
    protocol.append(_recording(0.15, 150.0, -0.01, threshold=-40.0))
    assert target._auto_thresholds == []


def test_ecode_is_none_without_recordings():
    assert Protocol("IDRest", 150, 20).ecode is None


@pytest.mark.parametrize(
    ("mode", "operator"),
    [
        ("mean", np.nanmean),
        ("median", np.nanmedian),
        ("min", np.nanmin),
        ("max", np.nanmax),
    ],
)
def test_reduced_stimulus_rescales_amp_by_global_rheobase(fake_ecodes, mode, operator):
    protocol, _ = _protocol(mode=mode, global_rheobase=0.1)
    recs = [
        _recording(0.175, 147.37, -0.0125, toff=2700.0),
        _recording(0.1406, 150.0, -0.0531, toff=2700.25),
    ]
    for rec in recs:
        protocol.append(rec)
    ecode = protocol.ecode
    assert ecode.amp == pytest.approx(operator([147.37, 150.0]) * 0.1 / 100, rel=1e-12)
    assert ecode.hypamp == operator([-0.0125, -0.0531])
    assert ecode.toff == operator([2700.0, 2700.25])
    assert ecode.amp_rel == operator([147.37, 150.0])
    out = protocol.as_dict()
    assert list(out) == ["holding", "step"]
    assert out["holding"] == {
        "delay": 0.0,
        "amp": ecode.hypamp,
        "duration": 3000.0,
        "totduration": 3000.0,
    }
    assert out["step"]["duration"] == ecode.toff - 700.25


def test_without_global_rheobase_amp_is_reduced_directly(fake_ecodes):
    protocol, _ = _protocol(global_rheobase=None)
    protocol.append(_recording(0.15, None, -0.01))
    protocol.append(_recording(0.25, None, -0.03))
    ecode = protocol.ecode
    assert ecode.amp == pytest.approx(0.2)
    assert ecode.amp_rel is None  # all-NaN -> None
    assert protocol.as_dict()["step"]["thresh_perc"] is None


def test_array_parameters_come_from_the_first_recording(fake_ecodes):
    protocol, _ = _protocol()
    first, second = _recording(0.15, 150.0, -0.01), _recording(0.16, 160.0, -0.01)
    first.tspike, second.tspike = [10.0, 20.0], [11.0, 21.0]
    first.export_attr = second.export_attr = (*FakeStep.export_attr, "tspike")
    protocol.append(first)
    protocol.append(second)
    assert protocol.ecode.tspike == [10.0, 20.0]


def test_lnmc_and_unknown_modes_raise_a_clear_settings_error(fake_ecodes):
    with pytest.raises(SettingsError, match="never implemented"):
        check_protocol_mode("lnmc")
    protocol, _ = _protocol(mode="average")
    protocol.append(_recording(0.15, 150.0, -0.01))
    with pytest.raises(ValueError, match="'average' is unknown"):
        protocol.as_dict()


def test_nan_values_become_none(fake_ecodes):
    protocol, _ = _protocol()
    rec = _recording(0.15, 150.0, -0.01)
    rec.dt = None
    protocol.append(rec)
    assert protocol.ecode.dt is None
    assert not math.isnan(protocol.ecode.amp)


def test_extending_with_what_a_protocol_gathered_equals_appending():
    # the grouping cache extends a rebuilt window with ``gathered()`` of a new
    # cell's blank copy of it (no targets, names or settings of its own): the
    # result must be the same as appending the recordings there
    recordings = [
        _recording(0.15, 150.0, -0.01, spikes=3.0, threshold=-40.0),
        _recording(0.16, 152.0, -0.01, spikes=float("nan"), threshold=-35.0),
        _recording(0.14, 148.0, -0.01, spikes=5.0, threshold=-38.0),
    ]
    appended, appended_target = _protocol()
    appended.append(recordings[0])
    scratch, _ = _protocol()
    for recording in recordings[1:]:
        scratch.append(recording)
    gathered = scratch.gathered()
    assert not hasattr(gathered.feature_targets[0], "efel_settings")
    extended, extended_target = _protocol()
    extended.append(recordings[0])
    extended.extend(gathered)
    for recording in recordings[1:]:
        appended.append(recording)
    assert extended.recordings == appended.recordings
    assert extended_target.values == appended_target.values == [3.0, 5.0]
    assert extended_target.files == appended_target.files
    assert extended_target._auto_thresholds == appended_target._auto_thresholds


def test_gathered_targets_share_the_files_of_the_same_recordings():
    # every feature of a sweep comes from the same files: what a window gathered
    # holds one files tuple (and one thresholds tuple) for them, not one per feature
    first = EFeatureTarget(None, "Spikecount", "IDRest", 150, 20)
    second = EFeatureTarget("rate", "mean_frequency", "IDRest", 150, 20)
    third = EFeatureTarget(None, "AP_width", "IDRest", 150, 20)
    protocol = Protocol("IDRest", 150, 20, [first, second, third], 0.1)
    for amp, spikes in ((0.15, 3.0), (0.16, 4.0)):
        recording = _recording(amp, amp * 1000, -0.01, spikes=spikes)
        recording.efeatures.update({"rate": 2 * spikes, "AP_width": float("nan")})
        protocol.append(recording)
    counts, rates, widths = protocol.gathered().feature_targets
    assert counts.files == rates.files == ("f0.15", "f0.16")
    assert counts.files is rates.files
    assert counts.auto_thresholds is rates.auto_thresholds is widths.auto_thresholds
    assert widths.files == ()  # NaN values add no file
    assert rates.values == (6.0, 8.0)


def test_what_a_window_gathered_is_flat():
    # one per new cell of a rebuilt window (7 000 sweeps at 44 cells):
    # one values tuple for every target, not a record and a tuple per target
    targets = [
        EFeatureTarget(None, name, "IDRest", 150, 20)
        for name in ("Spikecount", "mean_frequency", "AP_width", "AP_height")
    ]
    protocol = Protocol("IDRest", 150, 20, targets, 0.1)
    for amp in (0.15, 0.16, 0.155):
        recording = _recording(amp, amp * 1000, -0.01, spikes=3.0)
        recording.efeatures.update({"mean_frequency": 8.0, "AP_width": 1.1})
        protocol.append(recording)
    gathered = protocol.gathered()
    tuples: set[int] = set()
    stack: list[object] = [gathered]
    while stack:
        item = stack.pop()
        if isinstance(item, tuple) and item and id(item) not in tuples:
            tuples.add(id(item))
            stack.extend(item)
    # the record, recordings, values, counts, the targets' files and thresholds,
    # and the one files tuple and one thresholds tuple they share (() is shared)
    assert len(tuples) <= 8
    assert [t.values for t in gathered.feature_targets] == [
        (3.0, 3.0, 3.0), (8.0, 8.0, 8.0), (1.1, 1.1, 1.1), (),
    ]  # fmt: skip


def test_extending_with_a_part_of_a_protocol_equals_appending():
    # the grouping cache keeps no copy of a cell's values in a window: a rebuilt
    # window takes an unchanged cell's part of the last window (between two sizes)
    recordings = [
        _recording(0.15, 150.0, -0.01, spikes=3.0, threshold=-40.0),
        _recording(0.16, 152.0, -0.01, spikes=float("nan"), threshold=-35.0),
        _recording(0.14, 148.0, -0.01, spikes=5.0, threshold=-38.0),
        _recording(0.145, 149.0, -0.01, spikes=4.0, threshold=-37.0),
    ]
    last, _ = _protocol()
    last.append(recordings[0])
    start = last.sizes()
    scratch, _ = _protocol()
    for recording in recordings[1:3]:
        scratch.append(recording)
    last.extend(scratch.gathered())
    end = last.sizes()
    last.append(recordings[3])
    appended, appended_target = _protocol()
    for recording in recordings[1:3]:
        appended.append(recording)
    extended, extended_target = _protocol()
    extended.extend(last.part(start, end))
    assert extended.recordings == appended.recordings == recordings[1:3]
    assert extended_target.values == appended_target.values == [5.0]
    assert extended_target.files == appended_target.files
    assert extended_target._auto_thresholds == appended_target._auto_thresholds
    assert extended.sizes() == tuple(b - a for a, b in zip(start, end, strict=True))
