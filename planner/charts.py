"""Charts for the HTML report: inline SVG drawn by matplotlib from the plan object only.

Why matplotlib: it renders offline to SVG with no JavaScript, and with `svg.fonttype = 'path'`, a fixed
`svg.hashsalt` and no date metadata the output is byte-for-byte repeatable (snapshot tests), while text
becomes glyph outlines, so the page needs no font. User strings (segment and model names) only ever
become glyph outlines or are dropped with the SVG comments, so they cannot inject markup; math text
parsing is off so `$` in a name is just a character.
"""

from __future__ import annotations

import io
import re
from decimal import Decimal
from typing import Any

PALETTE = ["#1f6f8b", "#e07a1f", "#3a9d5d", "#b8435c", "#7b5ea7", "#8c6d46", "#d17fb5", "#6b6b6b", "#bdb24b"]
SENSITIVITY_COLORS = {"public": "#3a9d5d", "internal": "#1f6f8b", "confidential": "#e07a1f",
                      "regulated": "#b8435c", "unknown": "#9a9a9a"}
OPTION_LABELS = {"api_current": "API today", "api_optimized": "API optimised", "open_model_api": "Open model, API",
                 "self_host": "Self-host"}
RC: dict[str, Any] = {
    "svg.fonttype": "path",
    "svg.hashsalt": "planner",
    "svg.image_inline": True,
    "text.parse_math": False,
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#e4e4e4",
    "axes.axisbelow": True,
    "path.simplify": True,
}


def _num(value: Any) -> float:
    return float(Decimal(value)) if value is not None else 0.0


def _label(text: str, limit: int = 28) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _usd_axis(ax: Any, axis: str = "y") -> None:
    from matplotlib.ticker import FuncFormatter

    def fmt(v: float, _pos: Any) -> str:
        sign = "-" if v < 0 else ""
        v = abs(v)
        if v >= 1e6:
            return f"{sign}${v / 1e6:.1f}M"
        if v >= 1e3:
            return f"{sign}${v / 1e3:.0f}k"
        return f"{sign}${v:.0f}" if v >= 10 or v == 0 else f"{sign}${v:.2f}"

    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(FuncFormatter(fmt))


def _token_formatter() -> Any:
    from matplotlib.ticker import FuncFormatter

    def fmt(v: float, _pos: Any) -> str:
        if v >= 1024 * 1024:
            return f"{v / (1024 * 1024):g}M"
        if v >= 1024:
            return f"{v / 1024:g}K"
        return f"{v:g}"

    return FuncFormatter(fmt)


def _null_formatter() -> Any:
    from matplotlib.ticker import NullFormatter

    return NullFormatter()


def _svg(fig: Any, name: str, title: str) -> str:
    """The figure as inline SVG: no XML prolog, comments or metadata; ids prefixed per chart; scalable."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    text = buf.getvalue()
    text = re.sub(r"<\?xml[^>]*\?>\s*", "", text)
    text = re.sub(r"<!DOCTYPE[^>]*>\s*", "", text)
    text = re.sub(r"<!--.*?-->\s*", "", text, flags=re.S)
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.S)
    text = re.sub(r'id="([^"]+)"', lambda m: f'id="{name}-{m.group(1)}"', text)
    text = re.sub(r'(xlink:href|href)="#([^"]+)"', lambda m: f'{m.group(1)}="#{name}-{m.group(2)}"', text)
    text = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{name}-{m.group(1)})", text)
    text = re.sub(r'<svg ([^>]*?)width="[^"]*" height="[^"]*"', r'<svg \1', text, count=1)
    safe_title = title.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    text = text.replace("<svg ", f'<svg class="chart" role="img" aria-label="{safe_title}" data-chart="{name}" ', 1)
    return text.strip() + "\n"


def _figure(width: float = 7.2, height: float = 3.2) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=72, layout="constrained")


def _empty(ax: Any, message: str) -> None:
    ax.figure.set_figheight(min(ax.figure.get_figheight(), 1.2))
    ax.set_axis_off()
    ax.text(0.5, 0.5, message, ha="center", va="center", color="#666666", transform=ax.transAxes)


def segment_labels(plan: dict[str, Any]) -> dict[str, str]:
    labels = {}
    for s in plan["segments"]:
        parts = [s["workload"] or s["segment_id"], s["sensitivity"] or "unknown", s["token_shape"]["context_band"] or "",
                 s["mode"] or ""]
        labels[s["segment_id"]] = _label(" · ".join(p for p in parts if p), 40)
    return labels


def spend_over_time(plan: dict[str, Any]) -> Any:
    fig = _figure(7.2, 3.0)
    ax = fig.add_subplot()
    rows = plan["charts"]["daily_spend"]
    if not rows or all(r["cost_usd"] is None for r in rows):
        _empty(ax, "no priced usage")
        return fig
    labels = segment_labels(plan)
    days = sorted({r["day"] for r in rows})
    totals: dict[str, float] = {}
    for r in rows:
        totals[r["segment_id"]] = totals.get(r["segment_id"], 0.0) + _num(r["cost_usd"])
    top = [k for k, _ in sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))[:7]]
    series = {k: [0.0] * len(days) for k in [*top, "other"]}
    index = {d: i for i, d in enumerate(days)}
    for r in rows:
        key = r["segment_id"] if r["segment_id"] in top else "other"
        series[key][index[r["day"]]] += _num(r["cost_usd"])
    if not any(series["other"]):
        series.pop("other")
    x = list(range(len(days)))
    ax.stackplot(x, *series.values(), labels=[labels.get(k, _label(k)) for k in series],
                 colors=PALETTE[: len(series)], alpha=0.9)
    step = max(1, len(days) // 8)
    ax.set_xticks(x[::step], [d[5:] for d in days[::step]])
    ax.set_ylabel("API spend per day")
    _usd_axis(ax)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, frameon=False)
    return fig


def options(plan: dict[str, Any]) -> Any:
    segs = [s for s in plan["segments"] if s["options"]["api_current"]["monthly_cost_usd"] is not None][:10]
    fig = _figure(7.2, max(2.2, 0.42 * len(segs) + 1.0))
    ax = fig.add_subplot()
    if not segs:
        _empty(ax, "no scored segments")
        return fig
    labels = segment_labels(plan)
    names = list(OPTION_LABELS)
    height = 0.8 / len(names)
    for i, opt in enumerate(names):
        ys, xs, hatches = [], [], []
        for j, s in enumerate(segs):
            o = s["options"].get(opt) or {}
            if o.get("monthly_cost_usd") is None:
                continue
            ys.append(j + (i - 1.5) * height)
            xs.append(_num(o["monthly_cost_usd"]))
            hatches.append("" if o.get("feasible", True) else "///")
        bars = ax.barh(ys, xs, height=height * 0.95, color=PALETTE[i], label=OPTION_LABELS[opt])
        for bar, hatch in zip(bars, hatches, strict=True):
            if hatch:
                bar.set_hatch(hatch)
                bar.set_alpha(0.45)
    ax.set_yticks(range(len(segs)), [labels[s["segment_id"]] for s in segs], fontsize=7)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("monthly cost, log scale (hatched: not feasible)")
    _usd_axis(ax, "x")
    ax.xaxis.set_minor_formatter(_null_formatter())
    from matplotlib.patches import Patch

    ax.legend(handles=[Patch(color=PALETTE[i], label=OPTION_LABELS[o]) for i, o in enumerate(names)],
              loc="lower right", fontsize=7, frameon=False)
    return fig


def breakeven(plan: dict[str, Any]) -> Any:
    fig = _figure(7.2, 3.0)
    ax = fig.add_subplot()
    cash = plan["portfolio"]["cashflow"]
    if not cash or not plan["portfolio"]["waves"]:
        _empty(ax, "nothing moves: no migration cost, no savings")
        return fig
    last_wave = max(w["start_month"] for w in plan["portfolio"]["waves"])
    shown = max(12, last_wave + 6, 2 * (plan["portfolio"]["breakeven_month"] or 0))
    cash = cash[:shown]
    months = [c["month"] for c in cash]
    cumulative = [_num(c["cumulative_usd"]) for c in cash]
    one_time = [-_num(c["one_time_cost_usd"]) for c in cash]
    ax.bar(months, one_time, color=PALETTE[3], alpha=0.6, label="one-time migration cost")
    ax.plot(months, cumulative, color=PALETTE[0], linewidth=2, label="cumulative net savings")
    ax.axhline(0, color="#333333", linewidth=0.8)
    for w in plan["portfolio"]["waves"]:
        ax.axvline(w["start_month"] + 0.5, color="#999999", linewidth=0.6, linestyle=":")
        ax.text(w["start_month"] + 0.6, 0.98 - 0.07 * ((w["wave"] - 1) % 3), f"wave {w['wave']}",
                transform=ax.get_xaxis_transform(), fontsize=7, color="#555555", va="top")
    month = plan["portfolio"]["breakeven_month"]
    if month is not None and month <= months[-1]:
        ax.plot([month], [cumulative[month - 1]], marker="o", color=PALETTE[2], markersize=7,
                label=f"break-even: month {month}")
    ax.set_xlabel("month of the plan")
    _usd_axis(ax)
    ax.legend(loc="lower right", fontsize=7, frameon=False)
    return fig


def volume(plan: dict[str, Any]) -> Any:
    fig = _figure(7.2, 3.0)
    curves = plan["portfolio"]["volume_curves"]
    port = curves.get("portfolio") or []
    ax = fig.add_subplot(1, 2, 1)
    if not port:
        _empty(ax, "nothing moves")
        return fig
    ks = [float(p["multiplier"]) for p in port]
    ax.plot(ks, [_num(p["api_cost_usd"]) for p in port], color=PALETTE[1], label="API bill of the moved segments")
    ax.step(ks, [_num(p["plan_cost_usd"]) for p in port], where="post", color=PALETTE[0], label="plan cost")
    ax.set_xlabel("x today's volume")
    ax.set_title("portfolio", fontsize=8)
    _usd_axis(ax)
    ax.legend(loc="upper left", fontsize=7, frameon=False)
    ax2 = fig.add_subplot(1, 2, 2)
    scopes = [k for k in curves if k != "portfolio"]
    if not scopes:
        _empty(ax2, "no self-hosted deployment")
        return fig
    for i, scope in enumerate(scopes):
        pts = curves[scope]
        ax2.plot([float(p["multiplier"]) for p in pts], [_num(p["savings_usd"]) for p in pts],
                 color=PALETTE[i % len(PALETTE)], label=_label(scope, 30))
    ax2.axhline(0, color="#333333", linewidth=0.8)
    ax2.set_xlabel("x today's volume")
    ax2.set_title("monthly savings per deployment", fontsize=8)
    _usd_axis(ax2)
    ax2.legend(loc="upper left", fontsize=7, frameon=False)
    return fig


def token_shapes(plan: dict[str, Any]) -> Any:
    fig = _figure(7.2, 2.8)
    hist = plan["charts"]["token_histograms"]
    labels = segment_labels(plan)
    order = [s["segment_id"] for s in plan["segments"]][:6]
    for i, side in enumerate(("input", "output")):
        ax = fig.add_subplot(1, 2, i + 1)
        drawn = False
        for j, seg in enumerate(order):
            pts = [h for h in hist if h["segment_id"] == seg and h["side"] == side]
            total = sum(h["requests"] for h in pts)
            if not total:
                continue
            ax.plot([2 ** h["bucket"] for h in pts], [h["requests"] / total for h in pts], marker=".",
                    color=PALETTE[j % len(PALETTE)], label=labels.get(seg, seg))
            drawn = True
        if not drawn:
            _empty(ax, f"no {side} token data")
            continue
        ax.set_xscale("log", base=2)
        ax.xaxis.set_major_formatter(_token_formatter())
        ax.xaxis.set_minor_formatter(_null_formatter())
        ax.set_xlabel(f"{side} tokens per request")
        ax.set_ylabel("share of requests" if i == 0 else "")
        if i == 1:
            ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=6, frameon=False)
    return fig


def sensitivity_mix(plan: dict[str, Any]) -> Any:
    fig = _figure(7.2, 1.9)
    ax = fig.add_subplot()
    mix = plan["charts"]["sensitivity_mix"]
    if not mix:
        _empty(ax, "no segments")
        return fig
    rows = [("requests", "requests"), ("monthly API cost", "monthly_cost_usd")]
    for y, (_label_text, key) in enumerate(rows):
        total = sum(_num(m[key]) for m in mix)
        left = 0.0
        for m in mix:
            share = _num(m[key]) / total if total else 0.0
            ax.barh(y, share, left=left, color=SENSITIVITY_COLORS.get(m["sensitivity"], "#9a9a9a"),
                    label=m["sensitivity"] if y == 0 else None)
            left += share
    ax.set_yticks(range(len(rows)), [r[0] for r in rows])
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(__import__("matplotlib.ticker", fromlist=["PercentFormatter"]).PercentFormatter(1.0))
    ax.invert_yaxis()
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, frameon=False)
    return fig


CHARTS = (
    ("spend", "Spend over time by segment", spend_over_time),
    ("options", "Monthly cost of the four options per segment", options),
    ("breakeven", "Cumulative savings against migration cost", breakeven),
    ("volume", "Volume what-if: API bill and plan cost at multiples of today's volume", volume),
    ("tokens", "Token-shape distributions per segment", token_shapes),
    ("sensitivity", "Sensitivity mix of requests and spend", sensitivity_mix),
)


def render_all(plan: dict[str, Any]) -> dict[str, dict[str, str]]:
    """{name: {"title", "svg"}} for every chart, drawn only from the plan object."""
    import matplotlib

    out = {}
    with matplotlib.rc_context(RC):  # type: ignore[arg-type]
        for name, title, draw in CHARTS:
            fig = draw(plan)
            out[name] = {"title": title, "svg": _svg(fig, name, title)}
    return out


# ---------------------------------------------------------------- break-even map (per segment)

MAP_COLORS = {".": "#d9d9d9", "o": "#9ecae1", "A": "#3a9d5d", "a": "#a1d99b", "H": "#1f6f8b", "h": "#7fb3c8",
              "Y": "#e07a1f", "y": "#f4b77e"}
MAP_LABELS = {".": "stay", "o": "optimise API", "A": "open-model API", "a": "pilot open-model API",
              "H": "self-host", "h": "pilot self-host", "Y": "hybrid", "y": "pilot hybrid"}


def breakeven_svg(m: dict[str, Any] | None) -> str:
    """A small heat map of the decision over GPU price (x) x volume (y) multipliers, today's cell outlined.

    Plain SVG rectangles and numeric labels written here (no matplotlib: one per segment would be slow);
    only numbers and fixed words reach the markup, never user strings."""
    if not m or not m.get("cells"):
        return ""
    gm = [float(x) for x in m["gpu_price_multipliers"]]
    vm = [float(x) for x in m["volume_multipliers"]]
    cells = [str(r) for r in m["cells"]]
    cw, ch, left, top = 16, 10, 34, 6
    w, h = left + cw * len(gm) + 4, top + ch * len(vm) + 30
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="breakeven" width="{w}" height="{h}" '
           f'viewBox="0 0 {w} {h}" role="img" aria-label="decision over GPU price and volume">']
    for vi in range(len(vm)):
        y = top + ch * (len(vm) - 1 - vi)          # volume grows upwards
        row = cells[vi] if vi < len(cells) else ""
        for gi in range(len(gm)):
            code = row[gi] if gi < len(row) else "."
            color = MAP_COLORS.get(code, "#ffffff")
            label = MAP_LABELS.get(code, "")
            out.append(f'<rect x="{left + cw * gi}" y="{y}" width="{cw}" height="{ch}" fill="{color}">'
                       f'<title>GPU x{gm[gi]:g}, volume x{vm[vi]:g}: {label}</title></rect>')
    g1 = min(range(len(gm)), key=lambda i: abs(gm[i] - 1.0))
    v1 = min(range(len(vm)), key=lambda i: abs(vm[i] - 1.0))
    out.append(f'<rect x="{left + cw * g1}" y="{top + ch * (len(vm) - 1 - v1)}" width="{cw}" height="{ch}" '
               'fill="none" stroke="#000" stroke-width="1.5"/>')
    for vi in (0, v1, len(vm) - 1):
        out.append(f'<text x="{left - 3}" y="{top + ch * (len(vm) - 1 - vi) + ch - 2}" font-size="8" '
                   f'text-anchor="end">{vm[vi]:g}x</text>')
    base = top + ch * len(vm)
    for gi in (0, g1, len(gm) - 1):
        out.append(f'<text x="{left + cw * gi + cw / 2:g}" y="{base + 10}" font-size="8" '
                   f'text-anchor="middle">{gm[gi]:g}x</text>')
    out.append(f'<text x="{left + cw * len(gm) / 2:g}" y="{base + 22}" font-size="8" text-anchor="middle">'
               'GPU price (x today) →, volume ↑</text></svg>')
    return "".join(out)


def breakeven_legend() -> str:
    """The map's colour key, as HTML (fixed words only)."""
    items = [f'<span class="key"><svg width="10" height="10"><rect width="10" height="10" fill="{MAP_COLORS[c]}"/>'
             f'</svg> {MAP_LABELS[c]}</span>' for c in MAP_COLORS]
    return " ".join(items)
