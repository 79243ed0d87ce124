"""The operators' views: dataset versions and diffs, models due for retraining, revocation timing, refusals.

Everything is read from the same sources the rest of the system writes (versions.json and cards,
decisions.lance, revocations.parquet, the model registry and model cards, the refusal table), so
these views can only show what actually happened.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class VersionRow:
    version: int
    kind: str
    created_at: str
    rows: int
    policy_version: str
    counts_by_reason: dict[str, int]


@dataclass(frozen=True)
class VersionDiff:
    a: int
    b: int
    added: list[str]  # included in b, not in a
    removed: list[str]  # included in a, not in b
    transitions: dict[str, int]  # "old reason -> new reason": posts


@dataclass(frozen=True)
class ModelRow:
    model_id: str
    path: str
    created_at: str
    dataset_versions: list[int]
    posts_seen: int
    revoked_since: int
    oldest_revocation: datetime | None
    retrain_due: bool
    metrics: dict = field(default_factory=dict)


@dataclass(frozen=True)
class RevocationTiming:
    counts: dict[str, int]  # pending / applied / purged
    apply_seconds: dict[str, float]  # quantiles of event -> applied
    purge_seconds: dict[str, float]  # quantiles of event -> purged
    purge_hours: list[float]  # every purged post's time to purge, for the histogram


def dataset_versions(dataset_dir: Path) -> list[VersionRow]:
    from imagine.dataset.card import read_card
    from imagine.dataset.versions import list_versions

    rows = []
    for v in list_versions(dataset_dir):
        card = read_card(dataset_dir, v.version)
        rows.append(VersionRow(v.version, v.kind, v.created_at, v.rows, v.policy_version, dict(card.get("counts_by_reason", {}))))
    return rows


def diff_versions(dataset_dir: Path, a: int, b: int) -> VersionDiff:
    """Which posts entered or left the training set between committed versions ``a`` and ``b``, and why."""
    from imagine.dataset.versions import list_versions
    from imagine.dataset.write import read_decisions

    known = {v.version for v in list_versions(dataset_dir)}
    for v in (a, b):
        if v not in known:
            raise ValueError(f"version {v} is not a committed version of {dataset_dir} (known: {sorted(known)})")
    table = read_decisions(dataset_dir, filter=f"dataset_version IN ({int(a)}, {int(b)})",
                           columns=["dataset_version", "post_id", "included", "reason"])
    before: dict[str, tuple[bool, str]] = {}
    after: dict[str, tuple[bool, str]] = {}
    for row in table.to_pylist():
        (before if row["dataset_version"] == a else after)[row["post_id"]] = (row["included"], row["reason"])
    absent = (False, "not_decided")
    added, removed, transitions = [], [], Counter()
    for pid in sorted(set(before) | set(after)):
        old, new = before.get(pid, absent), after.get(pid, absent)
        if old == new:
            continue
        transitions[f"{old[1]} -> {new[1]}"] += 1
        if new[0] and not old[0]:
            added.append(pid)
        elif old[0] and not new[0]:
            removed.append(pid)
    return VersionDiff(a, b, added, removed, dict(transitions.most_common()))


def model_rows(dataset_dir: Path, registry: Path, *, deadline_days: float, now: datetime | None = None) -> list[ModelRow]:
    """Each model trained on this dataset: how many of its posts were revoked since, and whether retraining is due.

    "Retrain due": some post the model saw was revoked (applied) more than ``deadline_days`` ago —
    the model still carries what it learnt from that post, and the promise is to retrain within the deadline.
    """
    from imagine.dataset import revocations
    from imagine.dataset.write import read_decisions
    from imagine.owners.status import models_by_version

    now = now or datetime.now(timezone.utc)
    by_version = models_by_version(registry, dataset_dir)
    records = {m.model_id: m for models in by_version.values() for m in models}
    revoked = {r["post_id"]: r for r in revocations.read(dataset_dir).to_pylist()}
    out = []
    for model in sorted(records.values(), key=lambda m: m.created_at, reverse=True):
        versions = sorted(int(v) for v in model.dataset_versions)
        seen = read_decisions(dataset_dir, filter=f"included AND dataset_version IN ({', '.join(map(str, versions))})",
                              columns=["post_id"]).column("post_id").to_pylist()
        seen_set = set(seen)
        hits = [revoked[pid] for pid in seen_set if pid in revoked]
        oldest = min((r["applied_at"] for r in hits if r["applied_at"] is not None), default=None)
        due = oldest is not None and now - oldest >= timedelta(days=deadline_days)
        out.append(ModelRow(model.model_id, model.path, model.created_at, versions, len(seen_set), len(hits), oldest, due,
                            _metrics(model.path)))
    return out


# Evaluation result files looked for in a model's folder (and its ``evals/``), with the headline figures shown.
EVAL_FILES = {
    "compositional.json": ("compositional", ("overall", "paraphrase_gap", "strict_overall")),
    "policy-eval.json": ("policy", ("overall_recall", "false_refusal_rate")),
}


def _metrics(model_path: str) -> dict:
    """Evaluation results of a model: its card's ``metrics`` plus the headline figures of
    ``compositional.json`` (``imagine eval compositional --out <model>/evals``) and ``policy-eval.json``
    (``imagine eval policy --json-out <model>/evals/policy-eval.json``, the test split) found next to it."""
    import json

    from imagine.model.card import read_card

    folder = Path(model_path)
    try:
        found = dict(read_card(folder).get("metrics", {}))
    except (FileNotFoundError, ValueError):
        found = {}
    for name, (prefix, keys) in EVAL_FILES.items():
        for candidate in (folder / "evals" / name, folder / name):
            if not candidate.is_file():
                continue
            data = json.loads(candidate.read_text(encoding="utf-8"))
            if prefix == "policy":  # {"goal":..., "splits": {"test": {...}}}
                splits = data.get("splits", {})
                data = splits.get("test") or splits.get("all") or {}
            for key in keys:
                if isinstance(data.get(key), (int, float)):
                    found[f"{prefix}.{key}"] = round(float(data[key]), 4)
            break
    return found


def _quantiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    arr = np.asarray(values, dtype=float)
    return {"n": float(len(arr)), "p50": float(np.quantile(arr, 0.5)), "p90": float(np.quantile(arr, 0.9)), "max": float(arr.max())}


def revocation_timing(dataset_dir: Path, events: Path | None) -> RevocationTiming:
    """Pending / applied / purged counts, and how long each step took from the event."""
    from imagine.dataset import revocations

    status = revocations.status(dataset_dir, events=events if events is not None and Path(events).is_file() else None)
    counts = Counter(r.status for r in status.values())
    apply_s = [(r.applied_at - r.event_ts).total_seconds() for r in status.values() if r.applied_at and r.event_ts]
    purge_s = [(r.purged_at - r.event_ts).total_seconds() for r in status.values() if r.purged_at and r.event_ts]
    return RevocationTiming({k: counts.get(k, 0) for k in ("pending", "applied", "purged")}, _quantiles(apply_s),
                            _quantiles(purge_s), [s / 3600 for s in purge_s])


def refusals_by_day(rows: list[tuple[datetime, str]]) -> dict[str, dict[str, int]]:
    """``{day: {category: refusals}}`` from (time, category) rows, days ascending."""
    table: dict[str, Counter] = defaultdict(Counter)
    for ts, category in rows:
        table[ts.strftime("%Y-%m-%d")][category] += 1
    return {day: dict(table[day]) for day in sorted(table)}


def purge_histogram_png(hours: list[float]) -> bytes:
    """Histogram of time-to-purge (hours), PNG bytes."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 2.6), dpi=100)
    ax = fig.add_subplot()
    if hours:
        ax.hist(hours, bins=min(30, max(5, len(hours) // 3)), color="#1f5fbf")
    else:
        ax.text(0.5, 0.5, "nothing purged yet", ha="center", va="center", transform=ax.transAxes)
    ax.set_xlabel("hours from the owner's event to proven erasure")
    ax.set_ylabel("posts")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def as_dict(value) -> dict:  # noqa: ANN001 - any of the dataclasses above
    return asdict(value)
