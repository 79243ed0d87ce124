"""Preference arena rankings: a Bradley–Terry maximum-likelihood fit with bootstrap intervals.

Why not online Elo: Elo updates depend on the order votes arrive in, so two servers holding the
same votes can print different rankings. The Bradley–Terry fit below uses every vote at once and
is order-free: P(a beats b) = sigmoid(theta_a - theta_b).

How each vote counts (``Vote.outcome``):
- ``left`` / ``right``: one win for that side.
- ``tie``: half a win for each side (the usual "ties as half-wins" reading; the likelihood is then
  the Bradley–Terry likelihood of the doubled data set, so the fit stays a plain logistic model).
- ``both_bad``: says nothing about which of the two is better, so it is *left out of the fit*
  and reported apart, per model, as ``both_bad`` (an absolute quality signal the pairwise model
  cannot carry). Counting it as a tie would pull two bad models towards every other model.

A weak Gaussian prior on the strengths (``ridge``, default 0.01, i.e. standard deviation 10 in
log-odds) keeps them finite when a model wins every vote and makes the solution unique; it also
centres the strengths (they sum to zero). With a few votes per pair its effect is negligible.

Intervals: resample the votes with replacement ``bootstrap`` times, refit each resample, take
percentiles. All resamples are fitted together by a batched Newton method (the log-likelihood is
concave, so Newton converges in a handful of steps).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from imagine.atomic import atomic_write

Outcome = Literal["left", "right", "tie", "both_bad"]
OUTCOMES: tuple[str, ...] = ("left", "right", "tie", "both_bad")

# Elo-like display scale (as used by public arenas): 400 points = a factor of 10 in odds.
RATING_SCALE = 400.0 / math.log(10.0)
RATING_BASE = 1000.0


@dataclass(frozen=True)
class Vote:
    """One arena vote: which contestant was shown left and right, and what the user chose."""

    left: str
    right: str
    outcome: Outcome

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            raise ValueError(f"unknown vote outcome {self.outcome!r}; expected one of {OUTCOMES}")
        if self.left == self.right:
            raise ValueError(f"a vote compares two different contestants, got {self.left!r} twice")


@dataclass(frozen=True)
class Standing:
    """One row of the results table."""

    rank: int
    contestant: str
    strength: float  # log-odds, centred: P(a beats b) = sigmoid(strength_a - strength_b)
    low: float
    high: float
    rating: float  # the same on an Elo-like scale (1000 + 400 * log10 odds)
    rating_low: float
    rating_high: float
    votes: int
    wins: int
    losses: int
    ties: int
    both_bad: int


@dataclass(frozen=True)
class ArenaResult:
    standings: list[Standing]
    votes: int
    fitted_votes: int
    bootstrap: int
    confidence: float

    def to_dict(self) -> dict:
        return asdict(self)


def _rating(theta: float) -> float:
    return RATING_BASE + RATING_SCALE * theta


def _vote_rows(votes: Sequence[Vote], index: dict[str, int]) -> np.ndarray:
    """Votes as an array (n_votes, 3): left index, right index, left's score (1, 0 or 0.5 for a tie)."""
    rows = np.empty((len(votes), 3), dtype=np.float64)
    for k, vote in enumerate(votes):
        i, j = index[vote.left], index[vote.right]
        score = {"left": 1.0, "right": 0.0, "tie": 0.5}[vote.outcome]
        rows[k] = (i, j, score)
    return rows


def _wins_from_weights(rows: np.ndarray, weights: np.ndarray, n: int) -> np.ndarray:
    """Win matrices W[b, i, j] = (half-)wins of i over j, for each row b of vote multiplicities ``weights``."""
    i = rows[:, 0].astype(np.int64)
    j = rows[:, 1].astype(np.int64)
    s = rows[:, 2]
    # Each vote as a (K*K) row: its share of a win for (left over right) and for (right over left).
    per_vote = np.zeros((len(rows), n * n))
    np.add.at(per_vote, (np.arange(len(rows)), i * n + j), s)
    np.add.at(per_vote, (np.arange(len(rows)), j * n + i), 1.0 - s)
    return (weights @ per_vote).reshape(weights.shape[0], n, n)


def fit_strengths(wins: np.ndarray, *, ridge: float = 0.01, tol: float = 1e-10, max_iter: int = 100) -> np.ndarray:
    """Maximum-likelihood (with a weak prior) strengths for a batch of win matrices.

    ``wins`` is (B, K, K) or (K, K): ``wins[i, j]`` = (half-)wins of i over j. Returns (B, K) or (K,).
    """
    if ridge <= 0:
        raise ValueError("ridge must be > 0: without it a model that wins every vote has infinite strength")
    single = wins.ndim == 2
    w = wins[None] if single else wins
    batch, k, _ = w.shape
    games = w + np.transpose(w, (0, 2, 1))
    theta = np.zeros((batch, k))
    eye = np.eye(k)
    for _ in range(max_iter):
        diff = theta[:, :, None] - theta[:, None, :]
        p = 1.0 / (1.0 + np.exp(-diff))  # P(i beats j)
        grad = (w - games * p).sum(axis=2) - ridge * theta
        info = games * p * (1.0 - p)
        # Negative Hessian: Laplacian of the information-weighted comparison graph, plus the prior.
        neg_hess = -info + ridge * eye
        neg_hess[:, np.arange(k), np.arange(k)] += info.sum(axis=2)
        step = np.linalg.solve(neg_hess, grad[..., None])[..., 0]
        # Damp very long steps (near-separated data) so Newton cannot overshoot into overflow.
        longest = np.abs(step).max(axis=1, keepdims=True)
        step = step * np.minimum(1.0, 4.0 / np.maximum(longest, 1e-300))
        theta = theta + step
        if float(np.abs(step).max()) < tol:
            break
    return theta[0] if single else theta


def rank_votes(
    votes: Iterable[Vote],
    *,
    bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    ridge: float = 0.01,
) -> ArenaResult:
    """The arena's results table: Bradley–Terry strengths with percentile-bootstrap intervals."""
    votes = list(votes)
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    if bootstrap < 0:
        raise ValueError(f"bootstrap must be >= 0, got {bootstrap}")
    names = sorted({v.left for v in votes} | {v.right for v in votes})
    index = {name: k for k, name in enumerate(names)}
    n = len(names)
    tallies = {name: {"votes": 0, "wins": 0, "losses": 0, "ties": 0, "both_bad": 0} for name in names}
    for vote in votes:
        for side, other in ((vote.left, "right"), (vote.right, "left")):
            t = tallies[side]
            t["votes"] += 1
            if vote.outcome == "tie":
                t["ties"] += 1
            elif vote.outcome == "both_bad":
                t["both_bad"] += 1
            elif vote.outcome == other:
                t["losses"] += 1
            else:
                t["wins"] += 1
    fitted = [v for v in votes if v.outcome != "both_bad"]
    if n == 0:
        return ArenaResult(standings=[], votes=0, fitted_votes=0, bootstrap=bootstrap, confidence=confidence)

    rows = _vote_rows(fitted, index) if fitted else np.zeros((0, 3))
    # Identical votes (same sides, same outcome) collapse into one cell with a count: at most 3·K² cells.
    cells, counts = np.unique(rows, axis=0, return_counts=True) if fitted else (rows, np.zeros(0))
    theta = fit_strengths(_wins_from_weights(cells, counts[None].astype(np.float64), n)[0], ridge=ridge)
    low = high = theta
    if bootstrap > 0 and fitted:
        rng = np.random.default_rng(seed)
        # Resampling the votes with replacement == multinomial counts over the cells, in proportion to
        # their observed counts (the same distribution, without a bootstrap x votes matrix).
        weights = rng.multinomial(len(fitted), counts / counts.sum(), size=bootstrap).astype(np.float64)
        samples = np.concatenate(
            [fit_strengths(_wins_from_weights(cells, chunk, n), ridge=ridge) for chunk in np.array_split(weights, max(1, bootstrap // 250))]
        )
        alpha = (1.0 - confidence) / 2.0
        low, high = np.quantile(samples, [alpha, 1.0 - alpha], axis=0)

    order = sorted(range(n), key=lambda k: (-theta[k], names[k]))
    standings = [
        Standing(
            rank=r + 1,
            contestant=names[k],
            strength=float(theta[k]),
            low=float(low[k]),
            high=float(high[k]),
            rating=_rating(float(theta[k])),
            rating_low=_rating(float(low[k])),
            rating_high=_rating(float(high[k])),
            **tallies[names[k]],
        )
        for r, k in enumerate(order)
    ]
    return ArenaResult(standings=standings, votes=len(votes), fitted_votes=len(fitted), bootstrap=bootstrap, confidence=confidence)


def plot_rankings(result: ArenaResult, path: Path | None = None) -> bytes:
    """A horizontal interval plot of the ratings (PNG bytes); also written atomically to ``path`` if given."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure  # the OO API: no global pyplot state in a web server

    rows = list(reversed(result.standings))
    fig = Figure(figsize=(6.0, 0.6 * max(len(rows), 1) + 1.2), dpi=100)
    ax = fig.add_subplot()
    if rows:
        y = np.arange(len(rows))
        centre = np.array([r.rating for r in rows])
        err = np.array([[r.rating - r.rating_low for r in rows], [r.rating_high - r.rating for r in rows]])
        ax.errorbar(centre, y, xerr=np.clip(err, 0, None), fmt="o", capsize=4, color="#1f5fbf")
        ax.set_yticks(y, [f"{r.rank}. {r.contestant}" for r in rows])
    else:
        ax.text(0.5, 0.5, "no votes yet", ha="center", va="center", transform=ax.transAxes)
    ax.set_xlabel(f"rating (Bradley–Terry, {round(result.confidence * 100)}% bootstrap interval)")
    ax.set_title(f"Arena: {result.votes} votes ({result.fitted_votes} used in the fit)")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    data = buffer.getvalue()
    if path is not None:
        atomic_write(path, data)
    return data


def simulate_votes(rng: np.random.Generator, strengths: dict[str, float], n_votes: int, *,
                   tie_rate: float = 0.0, both_bad_rate: float = 0.0) -> list[Vote]:
    """Votes drawn from a known Bradley–Terry model: the yardstick for the fit's order and coverage."""
    names = list(strengths)
    votes = []
    for _ in range(n_votes):
        a, b = rng.choice(len(names), size=2, replace=False)
        left, right = names[a], names[b]
        u = rng.random()
        if u < both_bad_rate:
            outcome = "both_bad"
        elif u < both_bad_rate + tie_rate:
            outcome = "tie"
        else:
            p_left = 1.0 / (1.0 + np.exp(-(strengths[left] - strengths[right])))
            outcome = "left" if rng.random() < p_left else "right"
        votes.append(Vote(left, right, outcome))
    return votes


def read_votes_jsonl(path: Path) -> list[Vote]:
    """Votes from a JSON Lines file (``{"left":..., "right":..., "outcome":...}`` a line)."""
    votes = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            votes.append(Vote(left=data["left"], right=data["right"], outcome=data["outcome"]))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{path}:{number}: not a vote ({exc})") from exc
    return votes
