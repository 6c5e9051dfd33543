"""LastInputMemo: reused while the input is equal, computed again when it changed."""

from __future__ import annotations

from typing import Any

from efex_gui.core.memo import LastInputMemo


def test_an_equal_input_reuses_and_an_input_changed_in_place_computes_again() -> None:
    memo: LastInputMemo[int] = LastInputMemo()
    computed: list[Any] = []

    def total(rows: list[dict[str, int]]) -> int:
        computed.append(1)
        return sum(row["a"] for row in rows)

    rows = [{"a": 1}, {"a": 2}]
    assert memo.get(rows, lambda: total(rows)) == 3
    assert memo.get([{"a": 1}, {"a": 2}], lambda: total(rows)) == 3
    assert len(computed) == 1, "an equal input (another object) is not computed again"
    rows[0]["a"] = 10  # changed in place: the memo kept a copy
    assert memo.get(rows, lambda: total(rows)) == 12
    assert len(computed) == 2
    assert memo.get((1, 2), lambda: -1) == -1, "another type is another input"
