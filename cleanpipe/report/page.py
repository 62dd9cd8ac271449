"""The report page: server-side HTML for the overview (tables and SVG charts, readable without
script) plus the embedded before/after data that report.js renders on demand."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime, timezone
from html import escape
from importlib import resources
from typing import Any

from cleanpipe import __version__

from .charts import PALETTE, grouped_columns, hbars
from .collect import LENGTH_BINS, SHARE_BINS, SHOWN_CLUSTERS, Collected

MAX_MERGE_ROWS = 500
_SLOT = re.compile(r"\{\{(\w+)\}\}")


def _e(value: Any) -> str:
    return escape("" if value is None else str(value))


def _asset(name: str) -> str:
    return resources.files("cleanpipe.report").joinpath(name).read_text(encoding="utf-8")


def script_json(obj: Any) -> str:
    """JSON safe inside <script>: no '<', '>' or '&' can end the element or open a comment."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _table(headers: list[str], rows: list[list[str]], cls: str = "") -> str:
    head = "".join(f"<th>{h}</th>" for h in headers) if any(headers) else ""
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    thead = f"<thead><tr>{head}</tr></thead>" if head else ""
    return f'<table class="{cls}">{thead}<tbody>{body}</tbody></table>'


def _n(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else _e(value)


def _bin_labels(bins: list[float], pct: bool = False) -> list[str]:
    if pct:
        return [f"{int(bins[i] * 100)}–{int(bins[i + 1] * 100)}%" for i in range(len(bins) - 1)]
    def short(n: float) -> str:
        return f"{n / 1000:g}k" if n >= 1000 else f"{n:g}"

    return [f"{short(bins[i])}–{short(bins[i + 1])}" if i + 1 < len(bins) else f"{short(bins[i])}+"
            for i in range(len(bins))]


def _doc_link(doc_id: str | None, embedded: set[str]) -> str:
    if doc_id and doc_id in embedded:
        return f'<a href="#doc={_e(doc_id)}" class="doclink">{_e(doc_id)}</a>'
    return _e(doc_id)


def render(c: Collected) -> str:
    """The whole page as one string (`render_parts` joined)."""
    return "".join(render_parts(c))


def render_parts(c: Collected) -> Iterator[str]:
    """The page in pieces, in order: a writer streams them to disk without ever holding the page,
    whose embedded documents are tens of MB on a large run (one string of them, copied by each
    escape and placeholder, was what set the peak memory of a 1 GB crawl's run)."""
    m = c.manifest
    summary = m.get("summary") if isinstance(m.get("summary"), dict) else {}
    embedded = {v["id"] for v in c.views}
    sections = [
        _summary(c, m, summary),
        _removals(c),
        _sites(c),
        _lengths(c),
        _comments(c, embedded),
        _names(c, embedded),
        _extras(c),
        _rejects(c, embedded),
        _before_after(c),
    ]
    generated = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    values = {
        "title": _e(f"cleanpipe report: {m.get('run_id') or 'run'}"),
        "css": _asset("report.css"),
        "js": _asset("report.js"),
        "run_id": _e(m.get("run_id") or "unknown run"),
        "generated": _e(f"generated {generated} by cleanpipe {__version__}"),
        "sections": "\n".join(sections),
    }
    template = _asset("template.html")
    at = 0
    for slot in _SLOT.finditer(template):  # each placeholder once, never inside what was put in
        yield template[at:slot.start()]
        if slot.group(1) == "data":
            yield from _data_parts(c.views)
        else:
            yield values[slot.group(1)]
        at = slot.end()
    yield template[at:]


def _data_parts(views: list[dict[str, Any]]) -> Iterator[str]:
    """`script_json({"views": views, "palette": PALETTE})`, a view at a time."""
    yield '{"views":['
    for i, view in enumerate(views):
        yield ("," if i else "") + script_json(view)
    yield '],"palette":' + script_json(PALETTE) + "}"


def _summary(c: Collected, m: dict[str, Any], s: dict[str, Any]) -> str:
    rejects = sorted(((f"{k}: {r}", n) for (k, r), n in c.rejects.items()), key=lambda x: -x[1])
    inputs = m.get("inputs") if isinstance(m.get("inputs"), list) else []
    rows = [
        ["Inputs named", _e(", ".join(map(str, inputs[:20])) + (" …" if len(inputs) > 20 else ""))],
        ["Input files", _n(s.get("inputs"))],
        ["Processed / unchanged", f"{_n(s.get('processed_inputs'))} / {_n(s.get('unchanged_inputs'))}"],
        ["Documents written", f'<span id="sum-documents">{_n(c.documents)}</span>'],
        ["Rejects", f'<span id="sum-rejects">{_n(sum(c.rejects.values()))}</span>'],
        ["Comments kept / dropped", f"{_n(c.comments_kept)} / {_n(c.comments_dropped)}"],
        ["Name merges applied", _n(len(c.merges)) + (f" (found: {_n(s['name_merges'])})"
                                                   if isinstance(s.get("name_merges"), int) else "")],
        ["Run time", _e(f"{s['seconds']:.1f} s") if isinstance(s.get("seconds"), (int, float)) else "?"],
        ["Engine", _e(m.get("engine") or "local")],
        ["cleanpipe", _e(m.get("cleanpipe_version"))],
        ["Config sha256", f"<code>{_e(m.get('config_sha256'))}</code>"],
    ]
    if not m:
        rows.insert(0, ["Manifest", '<span class="warn">manifest.json is missing or unreadable</span>'])
    config = json.dumps(m.get("config") or {}, indent=2, sort_keys=True)
    return (f'<section id="summary"><h2>Run summary</h2><div class="cols"><div>{_table(["", ""], rows, "kv")}'
            f'<details><summary>Config</summary><pre>{_e(config)}</pre></details></div>'
            f'<div>{hbars(rejects, "Rejects by kind and reason", color=PALETTE[3])}</div></div></section>')


def _removals(c: Collected) -> str:
    items = sorted(c.removed.items(), key=lambda kv: (-kv[1].words, -kv[1].lines, kv[0]))
    rows = [[_e(stage), f'<span class="reason" data-reason="{_e(reason)}">{_e(reason)}</span>', _n(r.docs),
             _n(r.spans), _n(r.lines) if r.lines else "–", _n(r.words) if r.words else "–",
             f'<span class="preview">{_e(r.example[:90])}</span>'] for (stage, reason), r in items]
    words = [(f"{stage}: {reason}", r.words) for (stage, reason), r in items if r.words]
    lines = sorted(((f"{stage}: {reason}", r.lines) for (stage, reason), r in items if r.lines), key=lambda x: -x[1])
    share = grouped_columns(_bin_labels(SHARE_BINS, pct=True), [("documents", c.removed_share)],
                            "Share of each page's words removed (documents per bin)")
    note = (f"Words are counted in the raw input read again ({c.raw_read:,} of {c.documents:,} documents"
            + (f"; not readable: {', '.join(f'{n:,} {k}' for k, n in c.raw_missing.items())}" if c.raw_missing else "")
            + "). For HTML pages the extractor works on the markup, not on lines: its removal is the page's "
              "visible words less the words kept.")
    return (f'<section id="removed"><h2>What each stage removed</h2><p class="note">{_e(note)}</p>'
            f'<div class="cols"><div>{hbars(words, "Words removed, by stage and reason", " w")}</div>'
            f'<div>{hbars(lines, "Raw lines removed (text dumps), by stage and reason", color=PALETTE[1])}</div>'
            f'<div>{share}</div></div>'
            + _table(["Stage", "Reason", "Documents", "Spans", "Lines", "Words", "Example"], rows, "removals")
            + "</section>")


def _sites(c: Collected) -> str:
    if not c.sites:
        return ('<section id="sites"><h2>Repeated lines by site</h2><p class="empty">The repeats pass removed '
                "nothing (no site had enough pages, or it was off).</p></section>")
    items = sorted(c.sites.items(), key=lambda kv: (-kv[1]["spans"], kv[0]))
    rows = [[_e(site), _n(v["site_pages"]), _n(v["pages"]), _n(v["spans"]),
             _n(v["lines"]) if v["lines"] else "–", _n(v["kept_near_copies"]),
             f'<span class="preview">{_e(v["example"][:80])}</span>'] for site, v in items[:50]]
    chart = hbars([(site, v["spans"]) for site, v in items[:20] if v["spans"]],
                  "Paragraphs removed as site repeats, by site", color=PALETTE[2])
    more = f'<p class="note">{len(items) - 50:,} more sites not listed.</p>' if len(items) > 50 else ""
    return (f'<section id="sites"><h2>Repeated lines by site</h2>{chart}'
            + _table(["Site", "Pages of the site", "Pages changed", "Paragraphs removed", "Lines",
                      "Near-copies left alone", "Example"], rows) + more + "</section>")


def _lengths(c: Collected) -> str:
    labels = _bin_labels([float(b) for b in LENGTH_BINS])
    chart = grouped_columns(labels, [("before (raw)", c.words_before), ("after (kept text + comments)", c.words_after)],
                            "Document length in words, before and after")
    return (f'<section id="lengths"><h2>Document length before and after</h2>{chart}'
            f'<p class="note">{c.total_before:,} words in the {c.raw_read:,} raw inputs read again; '
            f"{c.total_after:,} words kept in {c.documents:,} documents.</p></section>")


def _comments(c: Collected, embedded: set[str]) -> str:
    rows = [[_e(target), _n(n), f'<span class="preview">{_e(c.cluster_text.get(target, ""))}</span>',
             _doc_link(target.rsplit("-c", 1)[0], embedded)] for target, n in c.clusters.most_common(SHOWN_CLUSTERS)]
    table = (_table(["Kept comment", "Copies dropped", "Text", "Document"], rows, "clusters") if rows
             else '<p class="empty">No comment was dropped as a duplicate.</p>')
    chart = hbars([("kept", c.comments_kept), ("dropped as duplicates", c.comments_dropped)], "Comments",
                  color=PALETTE[4])
    return f'<section id="comments"><h2>Comments</h2>{chart}<h3>Largest duplicate clusters</h3>{table}</section>'


def _names(c: Collected, embedded: set[str]) -> str:
    if not c.merges:
        return '<section id="names"><h2>Name merges</h2><p class="empty">No name was changed.</p></section>'
    rows = []
    merges = sorted(c.merges.items(), key=lambda kv: (-kv[1]["count"], kv[0]))
    for (old, new, rule), v in merges[:MAX_MERGE_ROWS]:
        ctx = v["context"]
        context = (f'…{_e(ctx[0])}<mark class="name">{_e(ctx[1])}</mark>{_e(ctx[2])}… ({_doc_link(ctx[3], embedded)})'
                   if ctx else "")
        rows.append([f'<del>{_e(old)}</del> → <b>{_e(new)}</b>', _e(rule), _n(v["count"]), _n(v["docs"]),
                     f'<span class="context">{context}</span>'])
    more = (f'<p class="note">{len(merges) - MAX_MERGE_ROWS:,} rarer merges not listed.</p>'
            if len(merges) > MAX_MERGE_ROWS else "")
    return ('<section id="names"><h2>Name merges</h2>'
            + _table(["Variant → canonical", "Rule", "Replacements", "Documents", "Example (after)"], rows, "merges")
            + more + "</section>")


def _extras(c: Collected) -> str:
    """Fields and stages this report has no special view for (quality, language, PII, ...)."""
    parts = []
    for key in sorted(c.extra_fields):
        counts = c.extra_fields[key]
        if not counts:  # a numeric field (charted below) first seen empty (null): no chart of its own
            continue
        parts.append(hbars([(v, n) for v, n in counts.most_common(20)], f"{key} (documents per value)",
                           color=PALETTE[5]))
    for key in sorted(c.extra_numbers):
        values = sorted(c.extra_numbers[key])
        lo, hi = values[0], values[-1]
        step = (hi - lo) / 10 or 1
        bins = [0] * 10
        for v in values:
            bins[min(9, int((v - lo) / step))] += 1
        labels = [f"{lo + i * step:.3g}–{lo + (i + 1) * step:.3g}" for i in range(10)]
        seen = c.extra_seen.get(key, len(values))
        title = f"{key} (documents per bin" + (f", a uniform sample of {len(values):,} of {seen:,})"
                                               if seen > len(values) else ")")
        parts.append(grouped_columns(labels, [("documents", bins)], title))
    for stage in sorted(c.extra_stages):
        counts = c.extra_stages[stage]
        parts.append(hbars([(k, n) for k, n in counts.most_common(20)], f"stage {stage}", color=PALETTE[6]))
    if not parts:
        return ('<section id="extras"><h2>Quality, language, PII</h2><p class="empty">No record in this run has '
                "fields or stages beyond the core ones (quality, language and PII show here when they ran).</p>"
                "</section>")
    return '<section id="extras"><h2>Quality, language, PII</h2><div class="cols">' + "".join(
        f"<div>{p}</div>" for p in parts) + "</div></section>"


def _short_path(path: Any) -> str:
    """The last two parts of a path (the whole is in the cell's title): long crawl paths squeeze the table."""
    parts = str(path or "").rsplit("/", 2)
    return "…/" + "/".join(parts[-2:]) if len(parts) > 2 else str(path or "")


def _rejects(c: Collected, embedded: set[str]) -> str:
    reasons = sorted({r["reason"] for r in c.reject_rows})
    options = "".join(f'<option value="{_e(r)}">{_e(r)} ({sum(n for (_, rr), n in c.rejects.items() if rr == r):,})'
                      f"</option>" for r in reasons)
    rows = "".join(
        f'<tr data-reason="{_e(r["reason"])}"><td>{_e(r["kind"])}</td><td>{_e(r["reason"])}</td>'
        f'<td title="{_e(r["path"])}">{_e(_short_path(r["path"]))}'
        f'{"" if r["record"] is None else " #" + _e(r["record"])}</td><td>{_doc_link(r["doc"], embedded)}</td>'
        f'<td>{_e(r["detail"])}</td><td class="preview">{_e(r["text"])}</td></tr>' for r in c.reject_rows)
    total = sum(c.rejects.values())
    shown = len(c.reject_rows)
    note = (f"Showing {shown:,} of {total:,} rejects (at most 300 per reason)." if shown < total
            else f"{total:,} rejects.")
    if not total:
        return '<section id="rejects"><h2>Rejects</h2><p class="empty">Nothing was rejected.</p></section>'
    return (f'<section id="rejects"><h2>Rejects</h2><p class="note">{note}</p>'
            f'<label>Reason <select id="reject-filter"><option value="">all</option>{options}</select></label> '
            f'<label>Contains <input id="reject-text" type="search" placeholder="path, id, detail"></label>'
            f'<table id="reject-table"><thead><tr><th>Kind</th><th>Reason</th><th>Input</th><th>Document</th>'
            f"<th>Detail</th><th>Text</th></tr></thead><tbody>{rows}</tbody></table></section>")


def _before_after(c: Collected) -> str:
    n = len(c.views)
    picked = n - c.sampled
    if n == c.documents:
        how = f"All {n:,} documents are in this report."
    else:
        how = (f"{n:,} of {c.documents:,} documents are in this report: {picked:,} of the {c.interesting:,} with a "
               f"dropped comment, a merged name or a site repeat (all of them when at most {c.max_docs:,}), and a "
               f"random sample of {c.sampled:,} others. `cleanpipe report OUT --doc ID` adds a document.")
    return (f'<section id="before-after"><h2>Before and after</h2><p class="note">{_e(how)}</p>'
            '<input id="doc-search" type="search" placeholder="Search by URL, id, path or title" size="60">'
            '<ul id="doc-results"></ul><div id="doc-view"><p class="empty">Pick a document above.</p></div>'
            "</section>")
