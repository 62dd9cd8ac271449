"""`cleanpipe report`: one self-contained HTML page about a run (see README, "The run report")."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from .collect import collect
from .page import render, render_parts

REPORT_FILE = "report.html"

__all__ = ["REPORT_FILE", "build_report", "write_report"]


def build_report(out_dir: str | Path, max_docs: int = 500, include: Iterable[str] = ()) -> str:
    """The report page for the run in `out_dir`, as HTML text."""
    return render(collect(out_dir, max_docs=max_docs, include=frozenset(include)))


def write_report(out_dir: str | Path, to: str | Path | None = None, max_docs: int = 500,
                 include: Iterable[str] = ()) -> Path:
    """Write the report of the run in `out_dir` to `to` (default OUT/report.html); returns the path.

    The file is written under a temporary name and renamed, so a reader never sees half a page.
    """
    target = Path(to) if to is not None else Path(out_dir) / REPORT_FILE
    collected = collect(out_dir, max_docs=max_docs, include=frozenset(include))
    tmp = target.with_name(f".{target.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        for part in render_parts(collected):  # streamed: the page is never one string in memory
            fh.write(part)
    tmp.replace(target)
    return target
