"""Supervised worker processes: per-item work with a time budget that really stops it.

multiprocessing.Pool cannot stop one task: a page on which lxml or a regex
hangs would hold the run forever, and a signal-based timeout cannot interrupt
C code. Here every worker is a process of its own; when an item runs past its
budget, or the worker dies (a crash in a C extension), the worker is killed
and replaced and the item comes back as a Reject. Results are yielded in input
order, with a bounded reorder buffer.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from multiprocessing import get_context
from multiprocessing.connection import Connection, wait
from typing import Any

from cleanpipe.engines.memory import pin_mmap_threshold
from cleanpipe.model import Reject

Task = Callable[[Any], Any]


STARTUP_TIMEOUT = 300.0  # seconds a new worker may take to import and build its task


def _worker_main(conn: Connection, make_task: Callable[..., Task], args: tuple) -> None:
    # Ctrl-C reaches the whole process group: the parent stops the run and its workers, which
    # would otherwise each print a traceback of wherever the signal found them
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    pin_mmap_threshold()
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


_START_LOCK = threading.Lock()


@contextmanager
def _main_script_hidden(make_task: Callable[..., Task]) -> Iterator[None]:
    """A spawned child imports the parent's main script before it runs anything, so a user's
    script without an `if __name__ == "__main__":` guard would run again in every worker (and
    multiprocessing refuses to start). Our workers need nothing from that script, only
    cleanpipe's own modules, so the script's path is hidden from multiprocessing while a worker
    starts; a task defined in the script itself still needs it."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if main is None or path is None or getattr(make_task, "__module__", None) == "__main__" \
            or getattr(main, "__spec__", None) is not None:  # `python -m pkg`: imported by name, guarded
        yield
        return
    with _START_LOCK:
        del main.__file__
        try:
            yield
        finally:
            main.__file__ = path


class _Worker:
    def __init__(self, ctx: Any, make_task: Callable[..., Task], args: tuple):
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker_main, args=(child, make_task, args), daemon=True)
        with _main_script_hidden(make_task):
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
        """Results in input order.

        A worker holds at most one item: the parent sends the next one only after it has read
        the previous result. With two items in flight, a worker blocked sending a large result
        and the parent blocked sending it a large page would wait on each other forever (pipes
        hold 64 KB). Reading ahead happens here instead, into a bounded buffer, so a worker
        gets its next page as soon as it is free. The time budget of an item runs from the
        moment it was sent.
        """
        source = iter(items)
        workers = [_Worker(self.ctx, self.make_task, self.args) for _ in range(self.n)]
        for worker in workers:  # they start in parallel; wait for all
            worker.wait_ready()
        busy: dict[_Worker, tuple[int, Any, float]] = {}  # worker -> (seq, item, sent at)
        pending: deque[tuple[int, Any]] = deque()  # read ahead, not yet sent
        done: dict[int, Any] = {}
        next_seq = emitted = 0
        exhausted = False

        def replace(worker: _Worker) -> _Worker:
            worker.stop(kill=True)
            fresh = self._spawn()
            workers[workers.index(worker)] = fresh
            return fresh

        def fail(worker: _Worker, reason: str, detail: str) -> None:
            """Kill a worker; its item becomes a reject."""
            seq, item, _ = busy.pop(worker)
            done[seq] = Reject(kind="document", reason=reason, detail=detail, **_describe(item))
            replace(worker)

        def send(worker: _Worker, seq: int, item: Any) -> None:
            try:
                worker.conn.send((seq, item))
            except (BrokenPipeError, OSError):  # died while idle: the item was never started
                worker = replace(worker)
                worker.conn.send((seq, item))
            busy[worker] = (seq, item, time.monotonic())

        try:
            while True:
                while not exhausted and len(done) + len(pending) + len(busy) < self.max_buffer:
                    try:
                        item = next(source)
                    except StopIteration:
                        exhausted = True
                        break
                    if self.passthrough(item):
                        done[next_seq] = item
                    else:
                        pending.append((next_seq, item))
                    next_seq += 1
                    if len(pending) >= self.n:
                        break  # enough to feed every worker; emit what is ready first
                for worker in list(workers):
                    if worker not in busy and pending:
                        send(worker, *pending.popleft())
                while emitted in done:
                    yield done.pop(emitted)
                    emitted += 1
                if not busy:
                    if exhausted and not pending:
                        return
                    continue
                deadline = (min(sent for _, _, sent in busy.values()) + self.timeout) if self.timeout else None
                ready = wait([w.conn for w in busy],
                             timeout=None if deadline is None else max(0.0, deadline - time.monotonic()))
                by_conn = {w.conn: w for w in busy}
                for conn in ready:
                    worker = by_conn[conn]
                    try:
                        seq, result = conn.recv()
                    except (EOFError, OSError):  # the worker died under its item
                        self.crashes += 1
                        fail(worker, "worker-crash", "the worker process died while processing this page")
                        continue
                    del busy[worker]
                    done[seq] = result
                if self.timeout:
                    now = time.monotonic()
                    for worker in [w for w, (_, _, sent) in busy.items() if now - sent >= self.timeout]:
                        self.timeouts += 1
                        fail(worker, "timeout", f"processing took longer than --doc-timeout "
                                                f"({self.timeout:g}s); the worker was stopped")
        finally:
            for worker in workers:
                worker.stop(kill=worker in busy)
