"""Write simulated cells as NWB 2 files (the "Scala" layout BluePyEfe reads), with h5py.

One file per cell. Each sweep is a ``CurrentClampSeries`` group
``/acquisition/CurrentClampSeries_NNN`` (voltage stored in mV as float32 with
``conversion`` 1e-3 and unit "volts") whose stimulus is
``/stimulus/presentation/CurrentClampStimulusSeries_NNN`` (pA as float32, ``conversion``
1e-12, unit "amperes"); ``stimulus_description`` holds the protocol name. The NWB root
attributes and datasets, one device and electrode and a small
``intracellular_recordings`` table (electrode, stimulus and response references plus a
``repetition`` column, one row per sweep in sweep order) are written too, so both
BluePyEfe-style readers and NWB-table-aware readers find the sweeps.

This module is the only writer of recording files; h5py is imported lazily so importing
:mod:`efex_gui.core.synthetic.demo` stays light.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import numpy as np

NWB_VERSION = "2.7.0"
SESSION_START = "2024-01-01T12:00:00+00:00"
_ELECTRODE = "/general/intracellular_ephys/electrode_0"
_DEVICE = "/general/devices/simulated_amplifier"


def _object_id(name: str, key: str) -> str:
    """Deterministic NWB object_id (a UUID derived from the cell and object names)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"efex-synthetic/{name}/{key}"))


def _typed(
    obj: Any, neurodata_type: str, cell: str, key: str, namespace: str = "core"
) -> None:
    obj.attrs["namespace"] = namespace
    obj.attrs["neurodata_type"] = neurodata_type
    obj.attrs["object_id"] = _object_id(cell, key)


def _write_root(h5: Any, cell: dict[str, Any]) -> None:
    import h5py

    name = cell["name"]
    _typed(h5, "NWBFile", name, "root")
    h5.attrs["nwb_version"] = NWB_VERSION
    text = h5py.string_dtype()
    h5.create_dataset("identifier", data=_object_id(name, "identifier"), dtype=text)
    h5.create_dataset(
        "session_description",
        data=f"efex_gui simulated neuron {name} (synthetic data)",
        dtype=text,
    )
    for key in ("session_start_time", "timestamps_reference_time"):
        h5.create_dataset(key, data=SESSION_START, dtype=text)
    h5.create_dataset("file_create_date", data=[SESSION_START], dtype=text)
    for group in (
        "acquisition",
        "analysis",
        "processing",
        "stimulus/presentation",
        "stimulus/templates",
        "general/devices",
        "general/intracellular_ephys",
    ):
        h5.require_group(group)
    device = h5.create_group(_DEVICE)
    _typed(device, "Device", name, "device")
    device.attrs["description"] = "simulated amplifier (efex_gui.core.synthetic.demo)"
    electrode = h5.create_group(_ELECTRODE)
    _typed(electrode, "IntracellularElectrode", name, "electrode")
    electrode.create_dataset(
        "description", data="simulated whole-cell electrode", dtype=text
    )
    electrode["device"] = h5py.SoftLink(_DEVICE)


def _write_series(
    group: Any,
    cell: str,
    key: str,
    neurodata_type: str,
    sweep: dict[str, Any],
    index: int,
    values: np.ndarray,
    conversion: float,
    unit: str,
) -> None:
    import h5py

    _typed(group, neurodata_type, cell, key)
    group.attrs["stimulus_description"] = sweep["protocol_name"]
    group.attrs["sweep_number"] = np.uint32(index)
    group.attrs["description"] = (
        f"{sweep['protocol_name']} step {sweep['stimulus']['percent']:g} %"
    )
    group.attrs["comments"] = "no comments"
    data = group.create_dataset("data", data=values.astype(np.float32))
    data.attrs["conversion"] = conversion
    data.attrs["offset"] = 0.0
    data.attrs["resolution"] = -1.0
    data.attrs["unit"] = unit
    start = group.create_dataset("starting_time", data=0.0)
    start.attrs["rate"] = 1000.0 / sweep["dt"]
    start.attrs["unit"] = "seconds"
    group["electrode"] = h5py.SoftLink(_ELECTRODE)


def _write_sweeps(h5: Any, cell: dict[str, Any]) -> list[tuple[str, str]]:
    """Write every sweep; returns the (response, stimulus) paths in sweep order."""
    pairs = []
    for index, sweep in enumerate(cell["sweeps"]):
        name = sweep["id"]
        stim_name = name.replace("Series", "StimulusSeries")
        response = h5.create_group(f"acquisition/{name}")
        _write_series(
            response,
            cell["name"],
            name,
            "CurrentClampSeries",
            sweep,
            index,
            np.asarray(sweep["voltage"]),
            1e-3,
            "volts",
        )
        for key in ("bias_current", "bridge_balance", "capacitance_compensation"):
            response.create_dataset(key, data=np.float32(0.0))
        stimulus = h5.create_group(f"stimulus/presentation/{stim_name}")
        _write_series(
            stimulus,
            cell["name"],
            stim_name,
            "CurrentClampStimulusSeries",
            sweep,
            index,
            np.asarray(sweep["current"]) * 1e3,
            1e-12,
            "amperes",
        )
        pairs.append((response.name, stimulus.name))
    return pairs


def _dynamic_table(
    group: Any,
    cell: str,
    key: str,
    neurodata_type: str,
    columns: list[str],
    n_rows: int,
    description: str,
) -> None:
    _typed(group, neurodata_type, cell, key)
    group.attrs["colnames"] = columns
    group.attrs["description"] = description
    ids = group.create_dataset("id", data=np.arange(n_rows, dtype=np.int64))
    _typed(ids, "ElementIdentifiers", cell, f"{key}/id", "hdmf-common")


def _write_recordings_table(
    h5: Any, cell: dict[str, Any], pairs: list[tuple[str, str]]
) -> None:
    import h5py

    name, n = cell["name"], len(pairs)
    table = h5.create_group("general/intracellular_ephys/intracellular_recordings")
    _dynamic_table(
        table,
        name,
        "ir",
        "IntracellularRecordingsTable",
        ["repetition"],
        n,
        "one row per sweep: electrode, stimulus, response",
    )
    table.attrs["categories"] = ["electrodes", "stimuli", "responses"]
    repetition = table.create_dataset(
        "repetition",
        data=np.array([s.get("repetition", 1) for s in cell["sweeps"]], np.int64),
    )
    _typed(repetition, "VectorData", name, "ir/repetition", "hdmf-common")
    repetition.attrs["description"] = "repetition number of the sweep"
    electrodes = table.create_group("electrodes")
    _dynamic_table(
        electrodes,
        name,
        "ir/electrodes",
        "IntracellularElectrodesTable",
        ["electrode"],
        n,
        "electrode of each recording",
    )
    column = electrodes.create_dataset("electrode", (n,), dtype=h5py.ref_dtype)
    column[:] = [h5[_ELECTRODE].ref] * n
    _typed(column, "VectorData", name, "ir/electrodes/electrode", "hdmf-common")
    compound = np.dtype(
        [("idx_start", np.int32), ("count", np.int32), ("timeseries", h5py.ref_dtype)]
    )
    for sub, column_name, which in (
        ("stimuli", "stimulus", 1),
        ("responses", "response", 0),
    ):
        part = table.create_group(sub)
        neurodata_type = f"Intracellular{sub.capitalize()}Table"
        _dynamic_table(
            part,
            name,
            f"ir/{sub}",
            neurodata_type,
            [column_name],
            n,
            f"{column_name} of each recording",
        )
        rows = np.array(
            [(0, len(h5[pair[which]]["data"]), h5[pair[which]].ref) for pair in pairs],
            dtype=compound,
        )
        dataset = part.create_dataset(column_name, data=rows)
        _typed(
            dataset, "TimeSeriesReferenceVectorData", name, f"ir/{sub}/{column_name}"
        )


def write_nwb(cell: dict[str, Any], path: str | Path) -> Path:
    """Write one simulated cell (as returned by ``simulate_cell``) to an NWB 2 file.

    Parameters
    ----------
    cell : dict
        ``name`` and ``sweeps`` (trace dicts in mV, nA, ms with ``id``,
        ``protocol_name``, ``stimulus`` and ``repetition``).
    path : str or pathlib.Path
        Output file; its folder must exist. An existing file is replaced.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    import h5py

    path = Path(path)
    with h5py.File(path, "w") as h5:
        _write_root(h5, cell)
        pairs = _write_sweeps(h5, cell)
        _write_recordings_table(h5, cell, pairs)
    return path
