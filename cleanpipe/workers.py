"""Supervised worker processes: per-item work with a time budget that really stops it.

multiprocessing.Pool cannot stop one task: a page on which lxml or a regex
hangs would hold the run forever, and a signal-based timeout cannot interrupt
C code. Here every worker is a process of its own; when an item runs past its
budget, or the worker dies (a crash in a C extension), the worker is killed
and replaced and the item comes back as a Reject. Results are yielded in input
order, with a bounded reorder buffer.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from multiprocessing import get_context
from multiprocessing.connection import Connection, wait
from typing import Any

from .model import Reject

Task = Callable[[Any], Any]


STARTUP_TIMEOUT = 300.0  # seconds a new worker may take to import and build its task


def _worker_main(conn: Connection, make_task: Callable[..., Task], args: tuple) -> None:
    task = make_task(*args)
    conn.send("ready")  # the time budget starts now, not while the interpreter was importing
    while True:
        try:
            msg = conn.recv()
        except (EOFError, KeyboardInterrupt):
            return
        if msg is None:
            return
        seq, item = msg
        conn.send((seq, task(item)))


class _Worker:
    def __init__(self, ctx: Any, make_task: Callable[..., Task], args: tuple):
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker_main, args=(child, make_task, args), daemon=True)
        self.proc.start()
        child.close()

    def wait_ready(self) -> None:
        if not self.conn.poll(STARTUP_TIMEOUT) or self.conn.recv() != "ready":
            self.stop(kill=True)
            raise RuntimeError("a worker process did not start")

    def stop(self, kill: bool = False) -> None:
        if kill:
            self.proc.kill()
        else:
            try:
                self.conn.send(None)
            except (BrokenPipeError, OSError):
                self.proc.kill()
        self.proc.join(timeout=5)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join()
        self.conn.close()


def _describe(item: Any) -> dict[str, Any]:
    source = getattr(item, "source", None)
    return {"path": getattr(source, "path", None), "record": getattr(source, "record", None),
            "doc_id": getattr(item, "id", None)}


class SupervisedPool:
    """Ordered map of `make_task(*args)` over items in `workers` killable processes.

    Items for which `passthrough(item)` is true (e.g. rejects from reading) are
    not sent to a worker but keep their place in the output order.
    """

    def __init__(self, workers: int, timeout: float | None, make_task: Callable[..., Task], args: tuple = (),
                 passthrough: Callable[[Any], bool] = lambda item: False, max_buffer: int = 256):
        self.ctx = get_context("spawn")  # no fork: workers never inherit the parent's threads or locks
        self.n = max(1, workers)
        self.timeout = timeout if timeout and timeout > 0 else None
        self.make_task, self.args = make_task, args
        self.passthrough = passthrough
        self.max_buffer = max(max_buffer, 4 * self.n)
        self.timeouts = 0
        self.crashes = 0

    def _spawn(self) -> _Worker:
        worker = _Worker(self.ctx, self.make_task, self.args)
        worker.wait_ready()
        return worker

    def imap(self, items: Iterable[Any]) -> Iterator[Any]:
        source = iter(items)
        idle = [_Worker(self.ctx, self.make_task, self.args) for _ in range(self.n)]
        for worker in idle:  # they start in parallel; wait for all
            worker.wait_ready()
        busy: dict[_Worker, tuple[int, Any, float]] = {}
        done: dict[int, Any] = {}
        next_seq = emitted = 0
        exhausted = False
        try:
            while True:
                while idle and not exhausted and len(done) < self.max_buffer:
                    try:
                        item = next(source)
                    except StopIteration:
                        exhausted = True
                        break
                    if self.passthrough(item):
                        done[next_seq] = item
                    else:
                        worker = idle.pop()
                        worker.conn.send((next_seq, item))
                        deadline = time.monotonic() + self.timeout if self.timeout else float("inf")
                        busy[worker] = (next_seq, item, deadline)
                    next_seq += 1
                while emitted in done:
                    yield done.pop(emitted)
                    emitted += 1
                if exhausted and not busy:
                    return
                if not busy:
                    continue
                soonest = min(deadline for _, _, deadline in busy.values())
                wait_for = None if soonest == float("inf") else max(0.0, soonest - time.monotonic())
                ready = wait([w.conn for w in busy], timeout=wait_for)
                by_conn = {w.conn: w for w in busy}
                for conn in ready:
                    worker = by_conn[conn]
                    seq, item, _ = busy.pop(worker)
                    try:
                        got_seq, result = conn.recv()
                        done[got_seq] = result
                        idle.append(worker)
                    except (EOFError, OSError):  # the worker died under this item
                        self.crashes += 1
                        done[seq] = Reject(kind="document", reason="worker-crash",
                                           detail="the worker process died while processing this page",
                                           **_describe(item))
                        worker.stop(kill=True)
                        idle.append(self._spawn())
                now = time.monotonic()
                for worker, (seq, item, deadline) in list(busy.items()):
                    if now >= deadline:
                        self.timeouts += 1
                        busy.pop(worker)
                        worker.stop(kill=True)
                        done[seq] = Reject(kind="document", reason="timeout",
                                           detail=f"processing took longer than --doc-timeout ({self.timeout:g}s); "
                                                  "the worker was stopped", **_describe(item))
                        idle.append(self._spawn())
        finally:
            for worker in list(busy) + idle:
                worker.stop(kill=worker in busy)
