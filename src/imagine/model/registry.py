"""The model registry: which dataset versions every trained model saw.

Lineage ("which models were trained on a post?") joins this with the dataset's per-version
membership. It is an append-only JSON Lines file under the data home, so it survives crashes
(one line per model, written with a single ``write`` under an exclusive lock) and is easy to
read from any tool.
"""

from __future__ import annotations

import fcntl
import json
import os
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path


@dataclass(frozen=True)
class ModelRecord:
    model_id: str
    path: str
    dataset_uri: str
    dataset_versions: list[int]
    dataset_digests: dict[str, str] = field(default_factory=dict)
    created_at: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat())
    base_model: str | None = None
    notes: str = ""


def registry_path(data_home: Path) -> Path:
    return Path(data_home) / "models" / "registry.jsonl"


def register_model(path: Path, record: ModelRecord) -> None:
    """Append ``record``; a model id registered twice replaces the older line on read."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(asdict(record), sort_keys=True) + "\n"
    with open(path, "a", encoding="utf-8") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            fh.write(line)
            fh.flush()
            os.fsync(fh.fileno())
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def list_models(path: Path) -> list[ModelRecord]:
    """Every registered model, newest registration of each id winning; a torn last line is skipped."""
    path = Path(path)
    if not path.exists():
        return []
    latest: dict[str, ModelRecord] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        if not raw.strip():
            continue
        try:
            data = json.loads(raw)
        except json.JSONDecodeError:
            continue  # a crash mid-append leaves at most one torn line at the end
        latest[data["model_id"]] = ModelRecord(**data)
    return list(latest.values())


def models_for_versions(path: Path, dataset_uri: str, versions: set[int]) -> list[ModelRecord]:
    """Models trained on any of ``versions`` of the dataset at ``dataset_uri``."""
    want = str(Path(dataset_uri).resolve()) if "://" not in dataset_uri else dataset_uri
    found = []
    for record in list_models(path):
        uri = str(Path(record.dataset_uri).resolve()) if "://" not in record.dataset_uri else record.dataset_uri
        if uri == want and versions.intersection(record.dataset_versions):
            found.append(record)
    return found
