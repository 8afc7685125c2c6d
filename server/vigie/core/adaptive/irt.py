"""The 2-parameter logistic model and the expected a posteriori (EAP) ability estimate.

docs/domain.md "The test": P(correct) = 1 / (1 + exp(a (b - theta))); EAP over a grid from -9 to 9
with a Gaussian prior; information a^2 P (1 - P).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable
from dataclasses import dataclass

GRID_MIN = -9.0
GRID_MAX = 9.0
GRID_STEP = 0.1
GRID: tuple[float, ...] = tuple(
    round(GRID_MIN + i * GRID_STEP, 10) for i in range(round((GRID_MAX - GRID_MIN) / GRID_STEP) + 1)
)
PRIOR_MEAN = 0.0
PRIOR_SD = 1.5
START_THETA = -3.0  # the reference system picks its first question for an estimate of -3
_LOG_PRIOR = tuple(-0.5 * ((t - PRIOR_MEAN) / PRIOR_SD) ** 2 for t in GRID)


@dataclass(frozen=True, slots=True)
class Estimate:
    theta: float
    se: float  # posterior standard deviation


def probability(theta: float, a: float, b: float) -> float:
    """Probability of a right answer under the 2PL model."""
    z = a * (b - theta)
    if z > 0:  # exp of a large positive number overflows; use the symmetric form
        e = math.exp(-z)
        return e / (1.0 + e)
    return 1.0 / (1.0 + math.exp(z))


def information(theta: float, a: float, b: float) -> float:
    """Fisher information of a 2PL item at ``theta``."""
    p = probability(theta, a, b)
    return a * a * p * (1.0 - p)


@functools.lru_cache(maxsize=4096)
def _log_likelihoods(a: float, b: float) -> tuple[tuple[float, ...], tuple[float, ...]]:
    # Per item, log P(wrong) and log P(right) on the grid, computed once per process.
    wrong, right = [], []
    for t in GRID:
        z = a * (b - t)
        # log(1 / (1 + e^z)) = -softplus(z), computed without overflow
        softplus = max(z, 0.0) + math.log1p(math.exp(-abs(z)))
        right.append(-softplus)
        wrong.append(z - softplus)
    return tuple(wrong), tuple(right)


def eap(responses: Iterable[tuple[float, float, bool]]) -> Estimate:
    """EAP estimate from (a, b, correct) triples; the prior alone when there are none."""
    log_post = list(_LOG_PRIOR)
    n = len(GRID)
    for a, b, correct in responses:
        ll = _log_likelihoods(a, b)[1 if correct else 0]
        for i in range(n):
            log_post[i] += ll[i]
    top = max(log_post)
    weights = [math.exp(v - top) for v in log_post]
    total = math.fsum(weights)
    mean = math.fsum(w * t for w, t in zip(weights, GRID, strict=True)) / total
    var = math.fsum(w * (t - mean) ** 2 for w, t in zip(weights, GRID, strict=True)) / total
    return Estimate(theta=mean, se=math.sqrt(var))
