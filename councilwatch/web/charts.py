"""Charts drawn on the server as SVG: readable without JavaScript, scaled to any screen width
by their viewBox, with a title and description for screen readers."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

from db.council_record import Quarter

# Outcome -> (label, colour); colours distinguishable in common colour blindness (Okabe-Ito).
OUTCOME_STYLES: dict[str, tuple[str, str]] = {
    "upheld": ("Upheld", "#d55e00"),
    "not upheld": ("Not upheld", "#0072b2"),
    "closed after initial enquiries": ("Closed after initial enquiries", "#999999"),
}
OTHER_STYLE = ("Other", "#cc79a7")

WIDTH, HEIGHT = 400, 250
LEFT, RIGHT, TOP, BOTTOM = 30, 6, 10, 42


def outcome_style(outcome: str) -> tuple[str, str]:
    return OUTCOME_STYLES.get(outcome, OTHER_STYLE)


def _ticks(top: int) -> list[int]:
    step = max(1, -(-top // 4))
    return list(range(0, top + 1, step))


def quarter_chart(quarters: Sequence[Quarter], *, title: str) -> Markup:
    """Stacked bars: decisions per quarter, one colour per outcome (legend drawn by the page)."""
    order = list(OUTCOME_STYLES)
    others = sorted({o for q in quarters for o in q.outcomes} - set(order))
    order += others
    highest = max((q.total for q in quarters), default=0)
    ticks = _ticks(max(highest, 1))
    top = ticks[-1] if ticks[-1] >= highest else highest
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(quarters), 1)
    bar = slot * 0.7
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="chart-title chart-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="chart-title">{escape(title)}</title>',
        '<desc id="chart-desc">'
        + escape(
            "; ".join(
                f"{q.label}: {q.total}"
                + (
                    " (" + ", ".join(f"{n} {o}" for o, n in sorted(q.outcomes.items())) + ")"
                    if q.total
                    else ""
                )
                for q in quarters
            )
        )
        + "</desc>",
    ]
    for tick in ticks:
        y = TOP + plot_h - plot_h * tick / top
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
            'stroke="#e4e7eb" stroke-width="1"/>'
            f'<text x="{LEFT - 6}" y="{y + 5:.1f}" text-anchor="end" font-size="13" '
            f'fill="#52606d">{tick}</text>'
        )
    for i, q in enumerate(quarters):
        x = LEFT + slot * i + (slot - bar) / 2
        y = TOP + plot_h
        for outcome in order:
            n = q.outcomes.get(outcome, 0)
            if not n:
                continue
            h = plot_h * n / top
            y -= h
            label, colour = outcome_style(outcome)
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="{colour}"><title>{escape(q.label)}: {n} {escape(label.lower())}'
                "</title></rect>"
            )
        cx = LEFT + slot * i + slot / 2
        parts.append(
            f'<text x="{cx:.1f}" y="{HEIGHT - BOTTOM + 18}" text-anchor="middle" '
            f'font-size="13" fill="#1f2933">Q{q.quarter}</text>'
        )
        if q.quarter == 1 or i == 0:
            parts.append(
                f'<text x="{cx:.1f}" y="{HEIGHT - BOTTOM + 36}" text-anchor="middle" '
                f'font-size="13" fill="#52606d">{q.year}</text>'
            )
    parts.append(
        f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{TOP + plot_h}" y2="{TOP + plot_h}" '
        'stroke="#3e4c59" stroke-width="1.5"/>'
    )
    parts.append("</svg>")
    return Markup("".join(parts))
