from __future__ import annotations

import os
import time

from cleanpipe.engines.workers import SupervisedPool
from cleanpipe.model import Reject


def slow_task_factory(scale: float):
    def task(item):
        if item == "hang":
            time.sleep(60)
        if item == "crash":
            os._exit(3)  # as a segfault in a C extension would
        time.sleep(scale)
        return item.upper()
    return task


def test_results_in_input_order_with_passthrough():
    pool = SupervisedPool(2, None, slow_task_factory, (0.01,), passthrough=lambda x: x.startswith("!"))
    assert list(pool.imap(["a", "!skip", "b", "c", "d"])) == ["A", "!skip", "B", "C", "D"]


def test_a_hanging_item_is_stopped_and_rejected_the_rest_goes_on():
    pool = SupervisedPool(2, 1.0, slow_task_factory, (0.0,))
    t = time.monotonic()
    out = list(pool.imap(["a", "hang", "b", "crash", "c"]))
    assert time.monotonic() - t < 30
    assert out[0] == "A" and out[2] == "B" and out[4] == "C"
    assert isinstance(out[1], Reject) and out[1].reason == "timeout"
    assert isinstance(out[3], Reject) and out[3].reason == "worker-crash"
    assert pool.timeouts == 1 and pool.crashes == 1


def echo_task_factory():
    def task(item):
        return item * 2  # a result larger than the page, as a record with provenance is
    return task


def test_large_pages_and_results_never_deadlock_and_keep_the_budget():
    """Regression: with two 300 KB pages queued per worker, the parent blocked sending the second
    while the worker blocked sending the first result; the run never ended."""
    import threading

    pages = [("x" * 300_000) + str(i) for i in range(8)]
    out: list = []
    pool = SupervisedPool(2, 5.0, echo_task_factory)
    runner = threading.Thread(target=lambda: out.extend(pool.imap(pages)), daemon=True)
    runner.start()
    runner.join(timeout=120)
    assert not runner.is_alive(), "the pool deadlocked on large pages"
    assert out == [p * 2 for p in pages]


def test_large_pages_with_a_hang_between_them():
    pages = ["y" * 400_000, "hang", "z" * 400_000, "w" * 400_000]
    pool = SupervisedPool(1, 1.0, slow_task_factory, (0.0,))
    out = list(pool.imap(pages))
    assert out[0] == pages[0].upper() and out[2] == pages[2].upper() and out[3] == pages[3].upper()
    assert isinstance(out[1], Reject) and out[1].reason == "timeout"
