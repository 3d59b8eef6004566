"""Parts of a batch run in threads: results in the order of the parts, errors raised, and the
review's answers independent of the number of threads."""

from __future__ import annotations

import importlib
import threading

import numpy as np
import pandas as pd
import pytest

import compliance
from compliance.contract.event import Coded
from compliance.contract.synthetic import synthetic_notices
from compliance.workers import in_parallel

review_module = importlib.import_module("compliance.running.review")


def test_results_come_in_the_order_of_the_parts():
    def slow_first(k):
        if k == 0:
            threading.Event().wait(0.05)  # the later parts finish first
        return k * k

    assert list(in_parallel(slow_first, range(6), workers=2)) == [0, 1, 4, 9, 16, 25]


def test_an_error_in_a_part_is_raised():
    def fail_on_three(k):
        if k == 3:
            raise ValueError("part 3")
        return k

    with pytest.raises(ValueError, match="part 3"):
        list(in_parallel(fail_on_three, range(6), workers=2))


def test_after_an_error_the_parts_not_started_are_dropped():
    started = []

    def part(k):
        started.append(k)
        if k == 0:
            raise ValueError("part 0")
        threading.Event().wait(0.05)
        return k

    with pytest.raises(ValueError, match="part 0"):
        list(in_parallel(part, range(20), workers=2))
    assert len(started) < 20  # each worker finishes the part it has, and no other starts


def test_one_worker_stays_in_the_calling_thread():
    caller = threading.get_ident()
    assert set(in_parallel(lambda _: threading.get_ident(), range(4), workers=1)) == {caller}
    assert set(in_parallel(lambda _: threading.get_ident(), range(4), workers=2)) != {caller}


def test_seller_groups_are_even_in_rows_and_keep_each_seller_whole():
    # Rows per seller: A 5, B 2, C 3, D 1. Largest first, each to the group with fewer rows (the
    # first on a tie): A -> group 0 (5, 0); C -> group 1 (5, 3); B -> group 1 (5, 5); D -> group 0
    # on the tie (6, 5). So group 0 holds A's and D's rows, group 1 B's and C's.
    investor = Coded(np.array([0, 2, 0, 1, 0, 2, 3, 0, 1, 2, 0]), ["A", "B", "C", "D"])
    group_0, group_1 = review_module.seller_groups(investor, 2)
    assert group_0.tolist() == [0, 2, 4, 6, 7, 10]
    assert group_1.tolist() == [1, 3, 5, 8, 9]
    # More groups than sellers: one group per seller, no empty group.
    assert [g.tolist() for g in review_module.seller_groups(investor, 8)] == [[0, 2, 4, 7, 10], [1, 5, 9], [3, 8], [6]]
    assert [g.tolist() for g in review_module.seller_groups(investor, 1)] == [list(range(11))]


def test_review_in_threads_equals_review_in_one_thread(monkeypatch):
    # Groups of sellers judged in two threads, and the output made in runs of 250 rows two at a
    # time, give the same table as one thread. Quantities eight times the usual, so that earlier
    # allowed sales deny later ones (by position and Rule 144 aggregates, which are per seller).
    monkeypatch.setattr(review_module, "PARALLEL_MIN_ROWS", 0)
    judged = []
    judge = review_module._judge
    monkeypatch.setattr(
        review_module, "_judge", lambda events, *rest: judged.append(len(events)) or judge(events, *rest)
    )
    agreement = compliance.load_agreement()
    notices = synthetic_notices(2000, seed=21, bad_fraction=0.01)
    notices["quantity"] = (pd.to_numeric(notices["quantity"], errors="coerce").fillna(-5) * 8).astype(int).astype(str)
    notices.index = notices.index * 3 + 7  # the index is kept as given

    one = review_module.review_frame(notices, agreement, workers=1)
    assert len(judged) == 1
    two = review_module.review_frame(notices, agreement, output_chunk=250, workers=2)
    assert len(judged) == 3 and sum(judged[1:]) == judged[0]  # two groups, every valid row in one

    assert (one["outcome"] == "deny").sum() >= 200 and (one["outcome"] == "error").sum() >= 5
    assert one["failed_rules"].str.contains("event.position|rule144.volume").sum() >= 50
    pd.testing.assert_frame_equal(one, two)


def test_the_default_is_one_worker_per_core_up_to_the_cap(monkeypatch):
    workers = importlib.import_module("compliance.workers")
    monkeypatch.setattr(workers.os, "sched_getaffinity", lambda pid: set(range(64)))
    assert workers.worker_count() == workers.MAX_WORKERS == 4
    monkeypatch.setattr(workers.os, "sched_getaffinity", lambda pid: {0})
    assert workers.worker_count() == 1
