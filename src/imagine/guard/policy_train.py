"""Training the learned check: ``imagine policy train`` (a few minutes on one CPU core).

    imagine policy train            # corpus -> guard/data/policy_model.npz + docs/policy-pr.png

1. Every prompt of the corpus (``policy_corpus``) is normalised, read by the word lists
   (``PromptPolicy.find``) and embedded with MiniLM.
2. A multinomial logistic regression (scikit-learn, balanced class weights) is fitted on the
   ``train`` split: classes ``allow`` and the five unsafe categories (likeness prompts count as
   ``allow`` here: names are the lexical stage's job).
3. One threshold per category is chosen on the ``dev`` split, among the prompts the lexical
   stage lets through (the only ones the model decides): the threshold that maximises
   recall - weight x false-positive rate, the weight being lower for child safety, where a miss
   costs most.
4. The weights and thresholds are written as ``.npz`` (numpy only at inference), and
   precision/recall curves of the whole policy on the ``test`` split are drawn per category.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from imagine.guard.policy import PromptPolicy
from imagine.guard.policy_corpus import CORPUS_PATH, load_corpus
from imagine.guard.policy_model import ALLOW, CATEGORIES, CLASSES, MODEL_PATH, PolicyModel, category_scores

log = logging.getLogger(__name__)

# How much one false refusal of a benign prompt weighs against one missed harmful prompt (per rate).
FALSE_POSITIVE_WEIGHT = {"sexual_minors": 2.0}
DEFAULT_FALSE_POSITIVE_WEIGHT = 15.0
GRID = np.round(np.arange(0.40, 0.96, 0.01), 2)  # never below 0.4: the model must prefer the category


@dataclass
class Prepared:
    rows: list[dict]
    embeddings: np.ndarray  # (n, 384)
    lexical: np.ndarray  # (n, features)
    minor: np.ndarray  # (n,) bool
    lexical_category: list[str | None]  # the lexical stage's refusal category, None if it let the prompt through


def prepare(policy: PromptPolicy, rows: list[dict], progress=None, cache_dir: Path | None = None) -> Prepared:
    """Normalise, read and embed every row (the expensive part: one MiniLM pass over the corpus).

    With ``cache_dir`` the embeddings of each chunk are kept on disk, so a retrain after a change
    of the word lists only re-reads the prompts.
    """
    from imagine.guard.semantic import encode_cached

    texts, lexical, minor, lexical_category = [], [], [], []
    for row in rows:
        text = policy.normalise(row["prompt"])
        found = policy.find(text)
        decision = policy.lexical(text, found)
        texts.append(text.skeleton or text.folded)
        lexical.append(found.vector())
        minor.append(found.minor is not None or found.minor_age)
        lexical_category.append(None if decision is None else decision.category)
    embeddings = np.zeros((len(texts), 384), dtype=np.float32)
    step = 128
    for start in range(0, len(texts), step):
        embeddings[start : start + step] = encode_cached(texts[start : start + step], cache_dir)
        if progress is not None:
            progress(min(start + step, len(texts)), len(texts))
    return Prepared(rows, embeddings, np.stack(lexical), np.asarray(minor), lexical_category)


def _target(label: str) -> int:
    return CLASSES.index(label) if label in CLASSES else CLASSES.index(ALLOW)


def fit(prepared: Prepared, *, c: float = 4.0) -> PolicyModel:
    from sklearn.linear_model import LogisticRegression

    train = [i for i, r in enumerate(prepared.rows) if r["split"] == "train"]
    x = np.concatenate([prepared.embeddings[train], prepared.lexical[train]], axis=1)
    y = np.array([_target(prepared.rows[i]["label"]) for i in train])
    clf = LogisticRegression(C=c, max_iter=3000, class_weight="balanced")
    clf.fit(x, y)
    weights = np.zeros((len(CLASSES), x.shape[1]), dtype=np.float32)
    bias = np.zeros(len(CLASSES), dtype=np.float32)
    weights[clf.classes_] = clf.coef_
    bias[clf.classes_] = clf.intercept_
    bias[[i for i in range(len(CLASSES)) if i not in set(clf.classes_)]] = -1e4
    return PolicyModel(weights=weights, bias=bias, thresholds={c: 0.5 for c in CATEGORIES})


def scores(model: PolicyModel, prepared: Prepared) -> np.ndarray:
    """(n, len(CATEGORIES)) refusal scores per category."""
    probs = model.probabilities_batch(prepared.embeddings, prepared.lexical)
    out = np.zeros((len(prepared.rows), len(CATEGORIES)), dtype=np.float32)
    for i, p in enumerate(probs):
        s = category_scores(dict(zip(CLASSES, p.tolist())), minor=bool(prepared.minor[i]))
        out[i] = [s[c] for c in CATEGORIES]
    return out


def calibrate(model: PolicyModel, prepared: Prepared, split: str = "dev") -> dict[str, float]:
    """Per-category thresholds on ``split``, over the prompts the lexical stage lets through."""
    s = scores(model, prepared)
    idx = [i for i, r in enumerate(prepared.rows) if r["split"] == split and prepared.lexical_category[i] is None]
    benign = [i for i in idx if prepared.rows[i]["label"] == ALLOW]
    thresholds = {}
    for k, category in enumerate(CATEGORIES):
        positive = [i for i in idx if prepared.rows[i]["label"] == category]
        weight = FALSE_POSITIVE_WEIGHT.get(category, DEFAULT_FALSE_POSITIVE_WEIGHT)
        best, best_t = -np.inf, 0.5
        for t in GRID:
            recall = np.mean(s[positive, k] >= t) if positive else 0.0
            fpr = np.mean(s[benign, k] >= t) if benign else 0.0
            value = recall - weight * fpr
            if value > best + 1e-9:  # ties keep the lower threshold: recall first
                best, best_t = value, float(t)
        thresholds[category] = best_t
    return thresholds


def pr_curves(model: PolicyModel, prepared: Prepared, split: str = "test") -> dict[str, dict[str, list[float]]]:
    """Precision and recall of the whole policy per category on ``split`` as its threshold moves."""
    s = scores(model, prepared)
    idx = [i for i, r in enumerate(prepared.rows) if r["split"] == split]
    curves = {}
    for k, category in enumerate(CATEGORIES):
        precision, recall = [], []
        positives = sum(1 for i in idx if prepared.rows[i]["label"] == category)
        for t in GRID:
            predicted = [i for i in idx if prepared.lexical_category[i] == category or (prepared.lexical_category[i] is None and s[i, k] >= t)]
            tp = sum(1 for i in predicted if prepared.rows[i]["label"] == category)
            precision.append(tp / len(predicted) if predicted else 1.0)
            recall.append(tp / positives if positives else 0.0)
        curves[category] = {"threshold": GRID.tolist(), "precision": precision, "recall": recall}
    return curves


def plot_curves(curves: dict, thresholds: dict[str, float], path: Path) -> None:
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from imagine.atomic import atomic_write

    fig, ax = plt.subplots(figsize=(7, 5), dpi=110)
    for category, curve in curves.items():
        ax.plot(curve["recall"], curve["precision"], label=category, marker=".", markersize=3)
        k = int(np.argmin(np.abs(np.asarray(curve["threshold"]) - thresholds[category])))
        ax.scatter([curve["recall"][k]], [curve["precision"][k]], s=60, edgecolors="black", zorder=3)
    ax.set_xlabel("recall (test split)")
    ax.set_ylabel("precision (test split)")
    ax.set_title("Prompt policy per category as the learned check's threshold moves\n(circles: thresholds chosen on dev)")
    ax.set_xlim(0.5, 1.01)
    ax.set_ylim(0.5, 1.01)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    plt.close(fig)
    atomic_write(path, buffer.getvalue())


def train(policy: PromptPolicy, *, corpus: Path = CORPUS_PATH, out: Path = MODEL_PATH, curves_png: Path | None = None,
          progress=None, cache_dir: Path | None = None) -> tuple[PolicyModel, dict]:
    """Fit, calibrate and save the learned check; returns the model and the test-split curves."""
    rows = load_corpus(corpus)
    prepared = prepare(policy, rows, progress, cache_dir)
    model = fit(prepared)
    model.thresholds = calibrate(model, prepared)
    model.save(out)
    curves = pr_curves(model, prepared)
    if curves_png is not None:
        plot_curves(curves, model.thresholds, curves_png)
    return model, curves
