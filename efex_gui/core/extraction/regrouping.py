"""Grouping and the output dicts, recomputed only where a run changed something.

The GUI reruns the extraction after each exclusion. :class:`GroupingCache` gives the
result of :func:`~efex_gui.core.extraction.grouping.group_by_target` followed by
:func:`~efex_gui.core.extraction.grouping.build_outputs` (no file
written), bit for bit, but recomputes only the protocol windows whose members
changed:

* the matches of a cell (per window, its recordings inside it) are computed once per
  cell *object*: the incremental extractor hands back the very same cell when
  nothing it depends on changed, and a new one otherwise;
* a window whose members are the same recording objects, in the same order, as in
  the last run, at the same global rheobase, keeps its :class:`Protocol` and its
  two output entries; any other window is rebuilt from fresh targets, cell by
  cell in the order ``group_efeatures`` appends them (so means and standard
  deviations are the same floats): a cell that was in the window last time gives
  the part of the last window's targets its recordings added there
  (``Protocol.part``: the window keeps only the sizes of each cell's part, not a
  copy of its values); any other cell's recordings are appended once to a blank
  copy of the window, which extends the window's targets (``Protocol.extend``).

An exclusion therefore costs the windows of the touched cell's protocols, not the
dataset (a changed rheobase changes the global rheobase, hence every window's
stimulus: then every window is rebuilt). Cells and their recordings must not be
modified after the run that built them (the incremental extractor never does).
Warnings of the grouping stage are logged when a window is rebuilt, not on reuse.
"""

from __future__ import annotations

import math
import operator
from typing import TYPE_CHECKING, Any

from efex_gui.core.export.outputs import build_current_dict, holding_current
from efex_gui.core.extraction.grouping import (
    build_protocols,
    cell_matches,
    global_rheobase,
    protocol_outputs,
    warn_unrecorded_protocols,
)
from efex_gui.core.extraction.protocol import Protocol
from efex_gui.core.targets.target import EFeatureTarget

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

__all__ = ["GroupedOutputs", "GroupingCache", "same_number"]

#: ``(protocols, features, protocols dict, currents)``
GroupedOutputs = tuple[list[Protocol], dict[str, Any], dict[str, Any], dict[str, Any]]
_Outputs = tuple[dict[str, Any], dict[str, Any]] | None


class _Window:
    """One protocol window as the last run left it.

    ``added``: for each member with recordings in the window, in order, what its
    extend added to the protocol (``Protocol.sizes`` after less before; equal
    tuples shared): where each member's part of the protocol is (:meth:`parts`).
    Not each member's values again: the protocol holds them (a copy per cell and
    window took 0.38 kB a sweep).
    """

    def __init__(
        self,
        members: tuple[list[Any], ...],
        rheobase: Any,
        protocol: Protocol,
        added: tuple[tuple[int, ...], ...],
    ) -> None:
        self.members = members
        self.rheobase = rheobase
        self.protocol = protocol
        self.added = added
        self.outputs: _Outputs = None

    def parts(self) -> dict[int, tuple[list[Any], tuple[int, ...], tuple[int, ...]]]:
        """``{id(match list): (match list, start, end)}``, sizes in the protocol."""
        found = {}
        start: tuple[int, ...] | None = None
        for recordings, added in zip(
            filter(None, self.members), self.added, strict=True
        ):
            if start is None:
                start = (0,) * len(added)
            end = tuple(map(operator.add, start, added))
            found[id(recordings)] = (recordings, start, end)
            start = end
        return found

    def same(self, members: tuple[list[Any], ...], rheobase: Any) -> bool:
        """Tell whether the rheobase and the recordings (in order) are the same."""
        return (
            same_number(rheobase, self.rheobase)
            and len(members) == len(self.members)
            and all(
                a is b or (len(a) == len(b) and all(map(operator.is_, a, b)))
                for a, b in zip(members, self.members, strict=True)
            )
        )


class GroupingCache:
    """Grouped protocols and output dicts, reused window by window across runs.

    Attributes
    ----------
    rebuilt : int
        Windows rebuilt by the last :meth:`outputs` call (the others were reused).
    matched_cells : int
        Cells whose matches the last call computed (the others were reused).
    """

    def __init__(self) -> None:
        self._key: str | None = None
        self._template: list[Protocol] = []
        self._matches: dict[int, tuple[Any, list[list[Any]], set[str]]] = {}
        self._windows: list[_Window | None] = []
        #: the windows' ``added`` sizes, one tuple per distinct value
        self._added: dict[tuple[int, ...], tuple[int, ...]] = {}
        #: ``id(cell) → (cell, holding current)`` of the last run, and of this one
        self._holding: dict[int, tuple[Any, Any]] = {}
        self._holding_now: dict[int, tuple[Any, Any]] = {}
        self.rebuilt = 0
        self.matched_cells = 0

    def clear(self) -> None:
        """Forget every window and match."""
        self._key = None
        self._template, self._matches, self._windows = [], {}, []
        self._added = {}

    def outputs(
        self,
        cells: Sequence[Any],
        targets: Sequence[Mapping[str, Any]],
        key: str,
        settings: Mapping[str, Any],
        efel_settings: Mapping[str, Any],
    ) -> GroupedOutputs:
        """``group_efeatures`` + ``create_feature_protocol_files``, reusing windows.

        Parameters
        ----------
        cells : sequence of Cell
            The run's cells (features extracted, rheobase set).
        targets : sequence of dict
            The prepared targets.
        key : str
            Identifies the targets and settings: a new key starts from scratch.
        settings : mapping
            ``absolute_amplitude``, ``protocol_mode``, ``threshold_nvalue_save``,
            ``default_std_value`` (the session's extraction settings).
        efel_settings : mapping
            The global efel settings.

        Returns
        -------
        GroupedOutputs
            ``(protocols, features, protocols dict, currents)``.
        """
        absolute = bool(settings["absolute_amplitude"])
        if key != self._key:
            self.clear()
            self._key = key
            self._template = build_protocols(
                targets, None, settings["protocol_mode"], efel_settings, False
            )
            self._windows = [None] * len(self._template)
        rheobase = None if absolute else global_rheobase(cells)
        eligible = [c for c in cells if c.rheobase is not None or absolute]
        self._match(cells, absolute)
        warn_unrecorded_protocols(
            set().union(*(self._matches[id(c)][2] for c in cells)), self._template
        )
        protocols, features, stimuli = [], {}, {}
        self.rebuilt = 0
        self._holding, self._holding_now = self._holding_now, {}
        for index, template in enumerate(self._template):
            members = tuple(self._matches[id(c)][1][index] for c in eligible)
            window = self._windows[index]
            if window is None or not window.same(members, rheobase):
                window = self._rebuilt(template, members, rheobase, window)
                window.outputs = protocol_outputs(
                    window.protocol,
                    settings["threshold_nvalue_save"],
                    False,
                    settings["default_std_value"],
                )
                self._windows[index] = window
                self.rebuilt += 1
            protocols.append(window.protocol)
            if window.outputs is not None:
                name = window.protocol.stimulus_name
                features[name], stimuli[name] = window.outputs
        currents = build_current_dict(
            cells, settings["default_std_value"], self._holding_current
        )
        return protocols, features, stimuli, currents

    def _holding_current(self, cell: Any) -> Any:
        """Return :func:`holding_current` of ``cell``, once per cell object."""
        known = self._holding.get(id(cell))
        if known is None or known[0] is not cell:
            known = (cell, holding_current(cell))
        self._holding_now[id(cell)] = known
        return known[1]

    def _rebuilt(
        self,
        template: Protocol,
        members: tuple[list[Any], ...],
        rheobase: Any,
        last: _Window | None,
    ) -> _Window:
        """Return the window built anew from its members' recordings, cell by cell.

        A member whose match list was in the ``last`` window (the same cell) gives
        the part of the last protocol its recordings added; any other member's
        recordings are appended to a blank copy of the window, which extends the
        new protocol: a rebuilt window appends the touched cell's recordings only.
        """
        parts = {} if last is None else last.parts()
        protocol = _fresh(template, rheobase)
        added: list[tuple[int, ...]] = []
        for recordings in filter(None, members):
            known = parts.get(id(recordings))
            if last is not None and known is not None and known[0] is recordings:
                _, start, end = known
                protocol.extend(last.protocol.part(start, end))
                size = tuple(map(operator.sub, end, start))
            else:
                scratch = _fresh(template, None)
                for recording in recordings:
                    scratch.append(recording)
                before = protocol.sizes()
                protocol.extend(scratch.gathered())
                size = tuple(map(operator.sub, protocol.sizes(), before))
            added.append(self._added.setdefault(size, size))
        return _Window(members, rheobase, protocol, tuple(added))

    def _match(self, cells: Sequence[Any], absolute: bool) -> None:
        """Compute the matches of the cells not seen before; forget the others."""
        known, self.matched_cells = self._matches, 0
        self._matches = {}
        for cell in cells:
            entry = known.get(id(cell))
            if entry is None or entry[0] is not cell:
                names = {rec.protocol_name for rec in cell.recordings}
                entry = (cell, cell_matches(cell, self._template, absolute), names)
                self.matched_cells += 1
            self._matches[id(cell)] = entry


def _fresh(template: Protocol, rheobase: Any) -> Protocol:
    """Return an empty protocol like ``template``, with new targets."""
    return Protocol(
        name=template.name,
        amplitude=template.amplitude,
        tolerance=template.tolerance,
        feature_targets=[
            EFeatureTarget(
                efeature_name=t.efeature_name,
                efel_feature_name=t.efel_feature_name,
                protocol_name=t.protocol_name,
                amplitude=t.amplitude,
                tolerance=t.tolerance,
                efel_settings=dict(t.efel_settings),
            )
            for t in template.feature_targets
        ],
        global_rheobase=rheobase,
        mode=template.mode,
    )


def same_number(a: Any, b: Any) -> bool:
    """Whether two optional numbers are the same (NaN is NaN, the type counts)."""
    if a is None or b is None:
        return a is b
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    return bool(a == b) and type(a) is type(b)
