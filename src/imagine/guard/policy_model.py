"""The learned check: a logistic regression over MiniLM sentence embeddings plus lexical features.

    model = PolicyModel.load()                       # guard/data/policy_model.npz (committed)
    probs = model.probabilities(embedding, lexical)  # {"allow": .., "sexual": .., ...}
    refused = model.decide(probs, minor=True)        # (category, score) or None

Trained by ``imagine policy train`` (``guard/policy_train.py``) on the committed corpus
(``guard/data/policy_corpus.jsonl``): the ``train`` split fits the weights, ``dev`` sets one
threshold per category, ``test`` is only reported. Inference is one (k, 384 + f) matrix product
and a softmax in numpy.

The lexical features say what the word lists found, so that the model learns when a dual-use word
is harmless: for each category whether a hard term, a soft (dual-use) term and a context word
(museum, prevention poster, fake blood ...) occur, plus a minor cue, an age under 18, suggestive
framing and a person word.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from imagine.atomic import atomic_write
from imagine.guard.policy_data import DATA_DIR

MODEL_PATH = DATA_DIR / "policy_model.npz"
ALLOW = "allow"
CATEGORIES = ("sexual", "sexual_minors", "graphic_violence", "self_harm", "hate_symbols")
CLASSES = (ALLOW, *CATEGORIES)
FEATURES = (
    *(f"{c}.{kind}" for c in CATEGORIES for kind in ("term", "soft", "context")),
    "minor", "minor_age", "suggestive", "person",
)
LEXICAL_SCALE = 0.5  # lexical flags next to unit-length embedding entries (|x| ~ 0.05)


@dataclass(frozen=True)
class Findings:
    """What the word lists found in one prompt: the learned check's lexical input."""

    terms: dict[str, str | None]  # category -> hard term found
    soft: dict[str, str | None]  # category -> dual-use term found
    context: dict[str, str | None]  # category -> context word found
    minor: str | None  # a minor cue ("child", "13 year old", "niña")
    suggestive: str | None  # suggestive framing ("sexy", "lingerie", "posing on the bed")
    person: str | None  # a person word ("singer", "portrait")
    fame: str | None  # a fame word ("famous", "president", "who sang")
    minor_age: bool = False

    def vector(self) -> np.ndarray:
        flags = []
        for c in CATEGORIES:
            flags += [self.terms.get(c) is not None, self.soft.get(c) is not None, self.context.get(c) is not None]
        flags += [self.minor is not None, self.minor_age, self.suggestive is not None, self.person is not None]
        return np.asarray(flags, dtype=np.float32) * LEXICAL_SCALE


@dataclass
class PolicyModel:
    """Softmax weights over CLASSES and one refusal threshold per category (calibrated on dev)."""

    weights: np.ndarray  # (len(CLASSES), 384 + len(FEATURES))
    bias: np.ndarray  # (len(CLASSES),)
    thresholds: dict[str, float]
    classes: tuple[str, ...] = CLASSES
    features: tuple[str, ...] = FEATURES

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> "PolicyModel":
        if not Path(path).is_file():
            raise FileNotFoundError(f"policy model {path} is missing; train it with `imagine policy train`")
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            model = cls(weights=data["weights"].astype(np.float32), bias=data["bias"].astype(np.float32),
                        thresholds={k: float(v) for k, v in meta["thresholds"].items()},
                        classes=tuple(meta["classes"]), features=tuple(meta["features"]))
        if model.classes != CLASSES or model.features != FEATURES:
            raise ValueError(f"{path} was trained for classes {model.classes} / features {model.features}; retrain it")
        return model

    def save(self, path: Path = MODEL_PATH) -> None:
        import io

        meta = {"classes": list(self.classes), "features": list(self.features), "thresholds": self.thresholds}
        buffer = io.BytesIO()
        np.savez_compressed(buffer, weights=self.weights, bias=self.bias, meta=np.array(json.dumps(meta)))
        atomic_write(path, buffer.getvalue())

    def probabilities(self, embedding: np.ndarray, lexical: np.ndarray) -> dict[str, float]:
        x = np.concatenate([embedding.astype(np.float32), lexical.astype(np.float32)])
        logits = self.weights @ x + self.bias
        p = np.exp(logits - logits.max())
        p /= p.sum()
        return {c: float(v) for c, v in zip(self.classes, p)}

    def probabilities_batch(self, embeddings: np.ndarray, lexical: np.ndarray) -> np.ndarray:
        x = np.concatenate([embeddings.astype(np.float32), lexical.astype(np.float32)], axis=1)
        logits = x @ self.weights.T + self.bias
        p = np.exp(logits - logits.max(1, keepdims=True))
        return p / p.sum(1, keepdims=True)

    def decide(self, probs: dict[str, float], *, minor: bool) -> tuple[str, float] | None:
        """The category to refuse (highest score over its threshold), or None."""
        best: tuple[str, float] | None = None
        for category, score in category_scores(probs, minor=minor).items():
            margin = score - self.thresholds.get(category, 1.0)
            if margin >= 0 and (best is None or margin > best[1] - self.thresholds.get(best[0], 1.0)):
                best = (category, score)
        return best


def category_scores(probs: dict[str, float], *, minor: bool) -> dict[str, float]:
    """Per-category refusal scores. With a minor cue, sexual probability counts as child-safety."""
    scores = {c: probs[c] for c in CATEGORIES}
    if minor:
        scores["sexual_minors"] = probs["sexual_minors"] + probs["sexual"]
        scores["sexual"] = 0.0
    return scores
