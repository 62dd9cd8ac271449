from __future__ import annotations

import os
import time

from cleanpipe.model import Reject
from cleanpipe.workers import SupervisedPool


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
