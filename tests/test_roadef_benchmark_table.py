"""The ROADEF benchmark's merge of several seeds into one row per instance."""

from __future__ import annotations

import pytest

from benchmarks.roadef2012 import median_records, peer_table


def _record(seed: int, drplan: int, peer: int) -> dict:
    return {
        "instance": "a2_2", "set": "a2", "seed": seed, "drplan": drplan, "peer": peer,
        "warm_start": 10 * drplan, "annealed": drplan, "time": 60.0 + seed, "feasible": True,
        "peer_feasible": True, "best_known": 90, "initial": 1000,
    }  # fmt: skip


def test_each_side_takes_its_median_over_the_seeds() -> None:
    rows = median_records([_record(0, 110, 100), _record(1, 90, 120), _record(2, 100, 80)])
    assert len(rows) == 1
    (row,) = rows
    assert (row["drplan"], row["peer"], row["seeds"]) == (100, 100, [0, 1, 2])
    low, high = row["ratio_range"]
    assert low == pytest.approx(0.75) and high == pytest.approx(1.25)
    text = peer_table(rows)
    assert "| a2_2 | 100 | 100 | 1.0000 | 0.7500–1.2500 | 0 1 2 |" in text
    assert "at or below the peer on 1 of 1" in text


def test_an_infeasible_seed_makes_the_instance_infeasible() -> None:
    bad = dict(_record(1, 90, 120), feasible=False)
    (row,) = median_records([_record(0, 110, 100), bad])
    assert row["feasible"] is False
