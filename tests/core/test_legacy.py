"""Legacy targets and BluePyEfe 0.x configuration translation."""

from __future__ import annotations

import copy
import json

import pytest

from efex_gui.core.errors import MetadataError, TargetError
from efex_gui.core.importing.legacy_formats import (
    convert_legacy_targets,
    translate_legacy_config,
)
from tests.conftest import shared_path


def test_convert_legacy_targets_order_and_shared_settings():
    settings = {"Threshold": -10.0}
    targets = convert_legacy_targets(
        {
            "IDRest": {
                "amplitudes": [150, 200.0],
                "tolerances": [20],
                "efeatures": {"Spikecount": settings, "AP1_amp": {}},
                "location": "soma",
            },
            "IV": {
                "amplitudes": [-100, 50],
                "tolerances": [10, 5, 3],
                "efeatures": ["a"],
            },
        }
    )
    assert [
        (t["protocol"], t["amplitude"], t["tolerance"], t["efeature"]) for t in targets
    ] == [
        ("IDRest", 150, 20, "Spikecount"),
        ("IDRest", 150, 20, "AP1_amp"),
        ("IDRest", 200.0, 20, "Spikecount"),
        ("IDRest", 200.0, 20, "AP1_amp"),
        ("IV", -100, 10, "a"),
        ("IV", 50, 5, "a"),
    ]
    assert targets[0]["efel_settings"] is settings is targets[2]["efel_settings"]
    assert targets[-1]["efel_settings"] == {}
    assert list(targets[0]) == [
        "efeature",
        "protocol",
        "amplitude",
        "tolerance",
        "efel_settings",
    ]


def test_convert_legacy_targets_errors_name_the_protocol():
    with pytest.raises(TargetError, match=r"IDRest.*2 amplitudes but 0 tolerances"):
        convert_legacy_targets(
            {"IDRest": {"amplitudes": [1, 2], "tolerances": [], "efeatures": []}}
        )
    with pytest.raises(TargetError, match=r"'IV'.*'tolerances'"):
        convert_legacy_targets({"IV": {"amplitudes": [1], "efeatures": []}})


def _config():
    return {
        "cells": {
            "c0": {"experiments": {"IDRest": {"files": []}}},
            "c1": {
                "ljp": 14,
                "v_corr": False,
                "experiments": {
                    "IDRest": {
                        "location": "soma",
                        "files": [
                            {"i_file": "a.ibw", "v_file": "b.ibw"},
                            {"filepath": "x.nwb"},
                        ],
                    },
                    "IV": {"files": [{"i_file": "c", "v_file": "d"}]},
                },
            },
        },
        "features": {
            "IDRest": ["Spikecount", "spikerate_x", "AP1_amp"],
            "Other": ["A"],
        },
        "options": {
            "onoff": {"IDRest": [700, 2700]},
            "target": [150, "noinput", "all", 200],
            "tolerance": [20, False, 5, 7],
            "strict_stiminterval": {"base": True, "IDRest": False},
            "expthreshold": ["IDRest"],
            "spike_threshold": 2,
        },
    }


def test_translate_legacy_config_rules():
    config = _config()
    out = translate_legacy_config(config)
    assert list(out) == [
        "files_metadata",
        "targets",
        "protocols_rheobase",
        "rheobase_strategy",
        "rheobase_settings",
    ]
    files = out["files_metadata"]
    assert list(files) == ["c1"]  # cells / protocols without files are left out
    assert files["c1"]["IDRest"][0] == {
        "i_file": "a.ibw",
        "v_file": "b.ibw",
        "ton": 700,
        "toff": 2700,
    }
    assert (
        files["c1"]["IDRest"][0]
        is config["cells"]["c1"]["experiments"]["IDRest"]["files"][0]
    )
    assert "ton" not in files["c1"]["IV"][0]
    pairs = [
        (
            t["efeature"],
            t["protocol"],
            t["amplitude"],
            t["tolerance"],
            t["efel_settings"].get("strict_stiminterval"),
        )
        for t in out["targets"]
    ]
    assert pairs[:3] == [
        ("Spikecount", "IDRest", 150, 20, False),
        ("Spikecount", "IDRest", 0, 10, False),
        ("Spikecount", "IDRest", 200, 7, False),
    ]
    assert pairs[-1] == ("A", "Other", 200, 7, True)
    assert len(pairs) == 9
    assert out["protocols_rheobase"] == ["IDRest"]
    assert out["rheobase_strategy"] == "absolute"
    assert out["rheobase_settings"] == {"spike_threshold": 2}


def test_translate_paths_and_cell_corrections():
    config = _config()
    config["path"] = "/data/"
    out = translate_legacy_config(config, include_cell_corrections=True)
    first = out["files_metadata"]["c1"]["IDRest"]
    assert first[0]["i_file"] == "/data/a.ibw"
    assert first[1]["filepath"] == "/data/x.nwb"
    assert first[0]["ljp"] == 14
    assert "v_corr" not in first[0]


def test_translate_missing_option_is_named():
    config = _config()
    del config["options"]["onoff"]
    with pytest.raises(MetadataError, match="'onoff'"):
        translate_legacy_config(config)


def test_translate_sscx_config_like_bluepyefe():
    path = shared_path("sscx", "legacy_feature_extraction_config.json")
    translate = pytest.importorskip("bluepyefe.translate_legacy_config")
    config = json.loads(path.read_text())
    ours = translate_legacy_config(copy.deepcopy(config))
    assert ours == translate.translate_legacy_config(copy.deepcopy(config))
    assert len(ours["targets"]) == 1638  # duplicated features are kept


def test_translate_sscx_config_matches_oracle_targets_after_dedup():
    config = json.loads(
        shared_path("sscx", "legacy_feature_extraction_config.json").read_text()
    )
    oracle = json.loads(shared_path("oracle", "sscx-dev4", "inputs.json").read_text())
    targets = translate_legacy_config(config)["targets"]
    seen, unique = set(), []
    for target in targets:
        key = (target["protocol"], target["efeature"], target["amplitude"])
        if key not in seen:
            seen.add(key)
            unique.append(target)
    assert unique == oracle["targets"]
