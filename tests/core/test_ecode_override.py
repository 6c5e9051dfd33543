"""A protocol → eCode mapping reaches the extraction (import dialog, sessions)."""

from __future__ import annotations

import pytest

from efex_gui.core.errors import ECodeError
from efex_gui.core.recordings.cell import Cell
from efex_gui.core.recordings.ecodes.step import Step
from efex_gui.core.session.document import Session
from efex_gui.extract import extract_efeatures
from tests.conftest import shared_path


def _b6_entries(protocol: str) -> list[dict]:
    folder = shared_path("bluepyefe-exp-data", "B6")
    return [
        {
            "i_file": str(folder / f"B6_Ch0_IDRest_{n}.ibw"),
            "v_file": str(folder / f"B6_Ch3_IDRest_{n}.ibw"),
            "i_unit": "pA",
            "v_unit": "mV",
            "t_unit": "s",
            "dt": 0.00025,
            "ljp": 14.0,
        }
        for n in range(181, 186)
    ]


def test_unmapped_protocol_name_has_no_ecode() -> None:
    cell = Cell("B6")
    with pytest.raises(ECodeError, match="longpulses"):
        cell.read_recordings(_b6_entries("LongPulses"), "LongPulses")


def test_ecode_key_maps_a_protocol_to_an_ecode() -> None:
    entries = [dict(e, ecode="IDRest") for e in _b6_entries("LongPulses")]
    cell = Cell("B6")
    cell.read_recordings(entries, "LongPulses")
    assert [type(r) for r in cell.recordings] == [Step] * 5
    assert cell.recordings[0].protocol_name == "LongPulses"


def test_session_override_reaches_extract_efeatures(tmp_path) -> None:
    session = Session(
        files_metadata={"B6": {"LongPulses": _b6_entries("LongPulses")}},
        ecode_overrides={"LongPulses": "Step"},
        targets=[
            {
                "efeature": "Spikecount",
                "protocol": "LongPulses",
                "amplitude": 150,
                "tolerance": 20,
            },
        ],
    )
    kwargs = session.to_extract_kwargs()
    kwargs["protocols_rheobase"] = ["LongPulses"]
    features, protocols, _ = extract_efeatures(tmp_path, **kwargs)
    assert list(features) == ["LongPulses_150"]
    # The averaged stimulus is a Step one (delay/amp/thresh_perc/duration/totduration).
    assert set(protocols["LongPulses_150"]["step"]) == {
        "delay",
        "amp",
        "thresh_perc",
        "duration",
        "totduration",
    }
