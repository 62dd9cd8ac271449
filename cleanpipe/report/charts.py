"""Charts as inline SVG strings: no script, no fonts or files fetched, readable when printed."""

from __future__ import annotations

from html import escape

PALETTE = ["#3b6ea8", "#d9822b", "#4a9a5b", "#b8455a", "#7b5ea7", "#8c6d46", "#c45fa0", "#6b7b8c"]


def _num(n: float) -> str:
    return f"{n:,.0f}" if n >= 100 or float(n).is_integer() else f"{n:,.2f}"


def hbars(rows: list[tuple[str, float]], title: str, unit: str = "", width: int = 640, color: str = PALETTE[0]) -> str:
    """Horizontal bars, one labelled row per (label, value), largest first as given."""
    if not rows:
        return f'<p class="empty">{escape(title)}: nothing to show.</p>'
    bar_h, gap, label_w, value_w = 18, 6, 230, 90
    height = len(rows) * (bar_h + gap) + 28
    top = max((v for _, v in rows), default=0) or 1
    room = width - label_w - value_w
    parts = [f'<svg class="chart" role="img" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
             f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>',
             f'<text x="0" y="14" class="ctitle">{escape(title)}</text>']
    for i, (label, value) in enumerate(rows):
        y = 24 + i * (bar_h + gap)
        w = max(1.0, room * value / top) if value else 0
        short = label if len(label) <= 34 else label[:33] + "…"
        parts.append(f'<g class="bar" data-label="{escape(label)}" data-value="{value:g}">'
                     f'<title>{escape(label)}: {_num(value)}{escape(unit)}</title>'
                     f'<text x="{label_w - 6}" y="{y + 13}" text-anchor="end">{escape(short)}</text>'
                     f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{color}"/>'
                     f'<text x="{label_w + w + 4:.1f}" y="{y + 13}">{_num(value)}{escape(unit)}</text></g>')
    parts.append("</svg>")
    return "".join(parts)


def grouped_columns(labels: list[str], series: list[tuple[str, list[int]]], title: str, width: int = 640) -> str:
    """Columns per bin, one colour per series (e.g. document length before and after)."""
    if not labels or not any(any(v) for _, v in series):
        return f'<p class="empty">{escape(title)}: nothing to show.</p>'
    height, left, bottom, top_pad = 230, 48, 40, 40
    plot_h = height - bottom - top_pad
    top = max(max(v) for _, v in series) or 1
    slot = (width - left) / len(labels)
    bar_w = max(2.0, (slot - 6) / len(series))
    parts = [f'<svg class="chart" role="img" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
             f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>',
             f'<text x="0" y="14" class="ctitle">{escape(title)}</text>']
    for k, (name, _) in enumerate(series):
        x = left + k * 130
        parts.append(f'<rect x="{x}" y="22" width="10" height="10" fill="{PALETTE[k % len(PALETTE)]}"/>'
                     f'<text x="{x + 14}" y="31">{escape(name)}</text>')
    parts.append(f'<text x="{left - 4}" y="{top_pad + 8}" text-anchor="end">{_num(top)}</text>'
                 f'<text x="{left - 4}" y="{height - bottom}" text-anchor="end">0</text>'
                 f'<line x1="{left}" y1="{height - bottom}" x2="{width}" y2="{height - bottom}" stroke="#999"/>')
    for i, label in enumerate(labels):
        x0 = left + i * slot + 3
        for k, (name, values) in enumerate(series):
            v = values[i]
            h = plot_h * v / top
            parts.append(f'<rect class="col" data-series="{escape(name)}" data-bin="{escape(label)}" data-value="{v}" '
                         f'x="{x0 + k * bar_w:.1f}" y="{height - bottom - h:.1f}" width="{bar_w - 1:.1f}" '
                         f'height="{h:.1f}" fill="{PALETTE[k % len(PALETTE)]}"><title>{escape(name)}, '
                         f'{escape(label)}: {v:,}</title></rect>')
        parts.append(f'<text x="{x0 + slot / 2 - 3:.1f}" y="{height - bottom + 14}" text-anchor="middle" '
                     f'class="small">{escape(label)}</text>')
    parts.append("</svg>")
    return "".join(parts)
