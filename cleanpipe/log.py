"""Run events through the standard `logging` module, as plain lines or one JSON object per line.

The library only emits records on the `cleanpipe` logger (a host application
decides where they go); the command line installs one handler on stderr with
`setup_logging`. Each record carries an `event` name and its fields, so the JSON
form is machine-readable: start, reject, input (with --verbose), progress, lock
wait, summary, error; Python warnings of any library land in the same stream.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from datetime import datetime, timezone
from typing import Any

LOGGER = logging.getLogger("cleanpipe")
PROGRESS_EVERY = 10.0  # seconds between progress events of a long run


def event(name: str, message: str, level: int = logging.INFO, **fields: Any) -> None:
    """Log `message` as event `name`, with `fields` for the JSON form."""
    LOGGER.log(level, message, extra={"event": name, "fields": fields})


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "event": getattr(record, "event", None) or ("warning" if record.name == "py.warnings" else "log"),
            "message": record.getMessage().strip(),
        }
        out.update(getattr(record, "fields", {}))
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.fromtimestamp(record.created, timezone.utc).strftime("%H:%M:%S")
        if getattr(record, "event", None) in ("summary", "error"):  # the closing line stays as scripts expect
            return record.getMessage()
        level = f"{record.levelname.lower()}: " if record.levelno >= logging.WARNING else ""
        return f"{stamp} cleanpipe: {level}{record.getMessage().strip()}"


def setup_logging(log_format: str = "text", verbose: bool = False, quiet: bool = False) -> logging.Handler:
    """One stderr handler for cleanpipe's events and captured warnings (replacing an earlier one)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    level = logging.DEBUG if verbose else logging.ERROR if quiet else logging.INFO
    logging.captureWarnings(True)
    for name in ("cleanpipe", "py.warnings"):
        logger = logging.getLogger(name)
        for old in [h for h in logger.handlers if getattr(h, "_cleanpipe", False)]:
            logger.removeHandler(old)
        handler._cleanpipe = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
        logger.setLevel(level)
        logger.propagate = False
    return handler


class ProgressEvents:
    """A progress callback that logs an event every PROGRESS_EVERY seconds (for logs, not terminals)."""

    def __init__(self, every: float = PROGRESS_EVERY):
        self.every = every
        self._started = self._last = time.monotonic()

    def __call__(self, phase: str, n: int) -> None:
        now = time.monotonic()
        if now - self._last >= self.every:
            self._last = now
            rate = n / max(now - self._started, 1e-9)
            event("progress", f"{phase}: {n} done ({rate:.1f}/s)", phase=phase, done=n,
                  seconds=round(now - self._started, 1))
