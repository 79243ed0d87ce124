"""The Bradley–Terry fit against synthetic votes drawn from known strengths."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from imagine.eval.arena import Vote, fit_strengths, plot_rankings, rank_votes, read_votes_jsonl, simulate_votes

TRUE = {"m0": -1.2, "m1": -0.4, "m2": 0.1, "m3": 0.5, "m4": 1.0}


def _simulate(rng: np.random.Generator, n_votes: int, *, tie_rate: float = 0.0, both_bad_rate: float = 0.0) -> list[Vote]:
    return simulate_votes(rng, TRUE, n_votes, tie_rate=tie_rate, both_bad_rate=both_bad_rate)


def _centred_truth() -> dict[str, float]:
    mean = sum(TRUE.values()) / len(TRUE)
    return {k: v - mean for k, v in TRUE.items()}


def test_recovers_order_and_strengths():
    votes = _simulate(np.random.default_rng(1), 4000)
    result = rank_votes(votes, bootstrap=200, seed=0)
    assert [s.contestant for s in result.standings] == ["m4", "m3", "m2", "m1", "m0"]
    truth = _centred_truth()
    for s in result.standings:
        assert abs(s.strength - truth[s.contestant]) < 0.2
        assert s.low <= s.strength <= s.high
    assert abs(sum(s.strength for s in result.standings)) < 1e-6  # the prior centres the strengths


def test_interval_coverage_on_repeated_simulations():
    rng = np.random.default_rng(7)
    truth = _centred_truth()
    covered = total = 0
    for rep in range(30):
        result = rank_votes(_simulate(rng, 600), bootstrap=300, confidence=0.95, seed=rep)
        for s in result.standings:
            covered += s.low <= truth[s.contestant] <= s.high
            total += 1
    assert covered / total >= 0.85, f"95% intervals covered the truth only {covered}/{total} times"


def test_ties_are_half_wins_and_both_bad_is_left_out_of_the_fit():
    votes = [Vote("a", "b", "left")] * 30 + [Vote("a", "b", "right")] * 10 + [Vote("a", "b", "tie")] * 20
    result = rank_votes(votes, bootstrap=0)
    a = next(s for s in result.standings if s.contestant == "a")
    # 40 (half-)wins against 20: P(a beats b) = 2/3, so strength difference log(2); the tiny prior shrinks it a hair.
    assert a.strength * 2 == pytest.approx(np.log(2.0), rel=1e-3)
    with_bad = rank_votes(votes + [Vote("b", "a", "both_bad")] * 50, bootstrap=0)
    assert [s.strength for s in with_bad.standings] == pytest.approx([s.strength for s in result.standings])
    assert with_bad.fitted_votes == 60 and with_bad.votes == 110
    assert {s.contestant: s.both_bad for s in with_bad.standings} == {"a": 50, "b": 50}
    assert a.wins == 30 and a.losses == 10 and a.ties == 20


def test_unbeaten_model_gets_a_finite_strength():
    theta = fit_strengths(np.array([[0.0, 25.0], [0.0, 0.0]]))
    assert np.isfinite(theta).all() and theta[0] > 3


def test_result_does_not_depend_on_vote_order():
    votes = _simulate(np.random.default_rng(3), 300, tie_rate=0.1)
    a = rank_votes(votes, bootstrap=0)
    b = rank_votes(list(reversed(votes)), bootstrap=0)
    assert [s.strength for s in a.standings] == pytest.approx([s.strength for s in b.standings])


def test_bad_input_is_rejected():
    with pytest.raises(ValueError, match="outcome"):
        Vote("a", "b", "draw")
    with pytest.raises(ValueError, match="different"):
        Vote("a", "a", "tie")
    with pytest.raises(ValueError, match="confidence"):
        rank_votes([Vote("a", "b", "tie")], confidence=1.5)


def test_plot_and_jsonl(tmp_path):
    path = tmp_path / "votes.jsonl"
    path.write_text("\n".join(json.dumps({"left": v.left, "right": v.right, "outcome": v.outcome}) for v in _simulate(np.random.default_rng(0), 200)))
    result = rank_votes(read_votes_jsonl(path), bootstrap=50)
    png = plot_rankings(result, tmp_path / "plot.png")
    image = Image.open(tmp_path / "plot.png")
    assert image.format == "PNG" and image.width > 300 and png[:8] == b"\x89PNG\r\n\x1a\n"
    (tmp_path / "bad.jsonl").write_text('{"left": "a"}\n')
    with pytest.raises(ValueError, match="bad.jsonl:1"):
        read_votes_jsonl(tmp_path / "bad.jsonl")
