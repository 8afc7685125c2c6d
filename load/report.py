"""Figures from raw samples: percentiles, the summary table, the latency CDF plot."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any


def percentile(ordered: Sequence[float], p: float) -> float:
    """Nearest-rank percentile of already sorted samples (nan when empty)."""
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def summarize(samples: Iterable[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "n": len(ordered),
        "p50": percentile(ordered, 50),
        "p90": percentile(ordered, 90),
        "p99": percentile(ordered, 99),
        "max": ordered[-1] if ordered else math.nan,
    }


def by_type(groups: Mapping[str, Sequence[float]]) -> dict[str, dict[str, float]]:
    return {kind: summarize(values) for kind, values in sorted(groups.items()) if values}


def merged(groups: Mapping[str, Sequence[float]], skip: Iterable[str] = ()) -> list[float]:
    left_out = set(skip)
    return [v for kind, values in groups.items() if kind not in left_out for v in values]


def table(title: str, rows: Mapping[str, Mapping[str, float]], unit: str = "ms") -> str:
    lines = [title, f"  {'':24} {'n':>7} {'p50':>9} {'p90':>9} {'p99':>9} {'max':>9}  ({unit})"]
    for name, s in rows.items():
        lines.append(
            f"  {name:24} {int(s['n']):>7} {s['p50']:>9.2f} {s['p90']:>9.2f} "
            f"{s['p99']:>9.2f} {s['max']:>9.2f}"
        )
    return "\n".join(lines)


def clean(value: Any) -> Any:
    """JSON-safe: nan and inf become None, floats rounded."""
    if isinstance(value, float):
        return None if not math.isfinite(value) else round(value, 3)
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    return value


def plot_cdf(curves: Mapping[str, Sequence[float]], path: Path, title: str) -> None:
    """One latency CDF per curve, log x axis (matplotlib, Agg backend: no display)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    for label, values in curves.items():
        ordered = sorted(v for v in values if v > 0)
        if not ordered:
            continue
        step = max(1, len(ordered) // 2000)
        xs = [*ordered[::step], ordered[-1]]
        ys = [*(min(1.0, (i * step + 1) / len(ordered)) for i in range(len(xs) - 1)), 1.0]
        ax.plot(xs, ys, label=f"{label} (n={len(ordered)})")
    ax.set_xscale("log")
    ax.set_xlabel("latency (ms, log scale)")
    ax.set_ylabel("fraction of events")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    for target in (5, 20, 100):
        ax.axvline(target, color="grey", linestyle=":", linewidth=1)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
