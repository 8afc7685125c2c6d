"""Simulate examinees through the real adaptive engine and bank (``make bench-cat``).

1,000 examinees with known abilities spread evenly over -2..3 answer according to the 2PL
model with the bank's own parameters. Each runs through ``next_question``/``record_answer``
twice: with the reference selection (random among the 5 most informative) and with Vigie's
(progressive exposure control). Prints a summary table, writes a plot of estimate against
true ability, and prints as its LAST line one JSON object with Vigie's figures.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from collections import Counter
from pathlib import Path

from vigie.core.adaptive import Method, load_bank, new_state, next_question, record_answer
from vigie.core.adaptive.bank import Bank
from vigie.core.adaptive.irt import probability

ROOT = Path(__file__).resolve().parents[1]


def simulate(bank: Bank, thetas: list[float], method: Method, seed: int) -> dict[str, object]:
    rng = random.Random(seed)
    estimates: list[float] = []
    select_ms: list[float] = []
    exposure: Counter[str] = Counter()
    for i, theta in enumerate(thetas):
        state = new_state(seed * 100_000 + i)
        while True:
            t0 = time.perf_counter()
            state, qid = next_question(bank, state, method)
            select_ms.append((time.perf_counter() - t0) * 1000)
            if qid is None:
                break
            q = bank.get(qid)
            exposure[qid] += 1
            right = rng.random() < probability(theta, q.a, q.b)
            # Answer with the key (or a wrong option) so answer checking runs for real.
            state, _ = record_answer(bank, state, qid, _answer(q, right))
        estimates.append(state.theta)
    errors = [e - t for e, t in zip(estimates, thetas, strict=True)]
    select_ms.sort()
    return {
        "estimates": estimates,
        "rmse": statistics.fmean(e * e for e in errors) ** 0.5,
        "bias": statistics.fmean(errors),
        "max_exposure": max(exposure.values()) / len(thetas),
        "unused": sum(1 for q in bank.questions if q.id not in exposure) / len(bank),
        "select_ms_p50": select_ms[len(select_ms) // 2],
        "select_ms_p99": select_ms[min(len(select_ms) - 1, int(len(select_ms) * 0.99))],
    }


def _answer(q: object, right: bool) -> str | list[str] | None:
    from vigie.core.adaptive.bank import Question

    assert isinstance(q, Question)
    if q.type == "single":
        wrong = next(o.id for o in q.options if o.id != q.answer[0])
        return q.answer[0] if right else wrong
    if q.type == "multiple":
        return list(q.answer) if right else [o.id for o in q.options]
    return q.answer[0] if right else None


def band_table(thetas: list[float], estimates: list[float]) -> list[tuple[str, int, float, float]]:
    rows = []
    for low in (-2.0, -1.0, 0.0, 1.0, 2.0):
        pairs = [(e, t) for e, t in zip(estimates, thetas, strict=True) if low <= t < low + 1]
        errs = [e - t for e, t in pairs]
        rmse = statistics.fmean(x * x for x in errs) ** 0.5
        rows.append((f"[{low:+.0f}, {low + 1:+.0f})", len(pairs), statistics.fmean(errs), rmse))
    return rows


def plot(thetas: list[float], runs: dict[str, dict[str, object]], paths: list[Path]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(runs), figsize=(5 * len(runs), 4.6), sharey=True)
    for ax, (name, run) in zip(axes, runs.items(), strict=True):
        est = run["estimates"]
        assert isinstance(est, list)
        ax.scatter(thetas, est, s=4, alpha=0.4)
        ax.plot([-2, 3], [-2, 3], color="black", linewidth=1)
        ax.set_title(f"{name}: RMSE {run['rmse']:.3f}, max exposure {run['max_exposure']:.0%}")
        ax.set_xlabel("true ability")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("final estimate (EAP, 32 questions)")
    fig.tight_layout()
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examinees", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--no-plot", action="store_true")
    args = parser.parse_args()
    bank = load_bank()
    n = args.examinees
    thetas = [-2.0 + 5.0 * (i + 0.5) / n for i in range(n)]
    runs = {
        "reference (top-5)": simulate(bank, thetas, Method.RANDOMESQUE, args.seed),
        "vigie (stratified)": simulate(bank, thetas, Method.STRATIFIED, args.seed),
    }
    print(f"{n} examinees, abilities evenly spread over [-2, 3], bank of {len(bank)} questions\n")
    print(
        f"{'method':<22}{'rmse':>7}{'bias':>8}{'max exp':>9}{'unused':>8}"
        f"{'sel p50':>9}{'sel p99':>9}"
    )
    for name, r in runs.items():
        print(
            f"{name:<22}{r['rmse']:>7.3f}{r['bias']:>+8.3f}{r['max_exposure']:>9.1%}"
            f"{r['unused']:>8.1%}{r['select_ms_p50']:>7.3f}ms{r['select_ms_p99']:>7.3f}ms"
        )
    print("\nby true ability (vigie):  band      n    bias   rmse")
    est = runs["vigie (stratified)"]["estimates"]
    assert isinstance(est, list)
    for label, count, bias, rmse in band_table(thetas, est):
        print(f"{'':<26}{label:<9}{count:>4}{bias:>+8.3f}{rmse:>7.3f}")
    if not args.no_plot:
        plot(
            thetas,
            runs,
            [ROOT / "load/results/bench-cat-theta.png", ROOT / "docs/measurement-theta.png"],
        )
    ours = runs["vigie (stratified)"]
    print(
        json.dumps(
            {
                "rmse": round(float(ours["rmse"]), 4),  # type: ignore[arg-type]
                "bias": round(float(ours["bias"]), 4),  # type: ignore[arg-type]
                "max_exposure": round(float(ours["max_exposure"]), 4),  # type: ignore[arg-type]
                "select_ms_p99": round(float(ours["select_ms_p99"]), 4),  # type: ignore[arg-type]
                "reference_rmse": round(float(runs["reference (top-5)"]["rmse"]), 4),  # type: ignore[arg-type]
                "reference_max_exposure": round(
                    float(runs["reference (top-5)"]["max_exposure"]),  # type: ignore[arg-type]
                    4,
                ),
                "examinees": n,
            }
        )
    )


if __name__ == "__main__":
    main()
