"""The model card: what a model was trained on and how, as ``card.json`` and ``CARD.md``.

The JSON is for tools (the registry, the service's /models page, lineage); the Markdown is
the same facts for people. Metrics can be added later (``update_metrics``) by the benchmarks.
"""

from __future__ import annotations

import json
import os
import platform
import re
from pathlib import Path
from typing import Any

from imagine.atomic import atomic_write

CARD_JSON = "card.json"
CARD_MD = "CARD.md"


def hardware() -> dict[str, Any]:
    """CPU/GPU facts of this machine, for reproducing timings."""
    import torch

    info: dict[str, Any] = {
        "machine": platform.machine(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
    }
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    info["cpu_model"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return info


# An absolute path inside any text: a "/" not preceded by a word character, ":" or "/" (URLs keep theirs).
_ABSOLUTE = re.compile(r"(?<![\w.:/~])/[^\s'\"`,;()\[\]{}]+")


def portable(value: Any, base: Path | None = None) -> Any:
    """``value`` with every absolute path made relative to ``base`` (the working directory), or cut to its
    last component when it lies outside: a card that travels with a model says nothing about the disk
    of the machine that trained it."""
    base = Path(base or Path.cwd()).resolve()

    def fix(match: re.Match) -> str:
        path = Path(match.group(0))
        try:
            return path.resolve().relative_to(base).as_posix() or "."
        except ValueError:
            return path.name or "."

    if isinstance(value, str):
        return _ABSOLUTE.sub(fix, value)
    if isinstance(value, dict):
        return {k: portable(v, base) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [portable(v, base) for v in value]
    return value


def write_card(folder: Path, card: dict[str, Any]) -> None:
    """Write ``card.json`` and ``CARD.md`` into the pipeline folder (paths made portable first)."""
    folder = Path(folder)
    card = portable(card)
    atomic_write(folder / CARD_JSON, json.dumps(card, indent=2, sort_keys=True, default=str) + "\n")
    atomic_write(folder / CARD_MD, render_markdown(card))


def read_card(folder: Path) -> dict[str, Any]:
    path = Path(folder) / CARD_JSON
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: the model folder has no card")
    return json.loads(path.read_text(encoding="utf-8"))


def update_metrics(folder: Path, metrics: dict[str, Any]) -> dict[str, Any]:
    """Merge ``metrics`` into the card's ``metrics`` and rewrite both files."""
    card = read_card(folder)
    card.setdefault("metrics", {}).update(metrics)
    write_card(folder, card)
    return card


def _caption_lines(captions: dict[str, Any] | None) -> list[str]:
    if not captions:
        return ["- the users' captions only (no descriptive captions recorded)"]
    return [
        f"- captioner of the descriptive captions: {json.dumps(captions.get('captioner'))}",
        f"- descriptive share: configured {captions.get('descriptive_ratio')}, measured {captions.get('descriptive_share_measured')}",
        f"- held-out benchmark words scrubbed from training captions: {captions.get('held_out_words_scrubbed')}",
    ]


def render_markdown(card: dict[str, Any]) -> str:
    data = card.get("dataset", {})
    train = card.get("training", {})
    lines = [
        f"# Model card: {card.get('model_id', '?')}",
        "",
        card.get("description", ""),
        "",
        "## Training data",
        f"- dataset: `{data.get('uri')}`",
        f"- versions: {data.get('versions')}",
        f"- digests: {json.dumps(data.get('digests', {}))}",
        f"- rows: {data.get('rows')}",
        "",
        "## Training",
        f"- command: `{train.get('command')}`",
        f"- seed: {train.get('seed')}",
        f"- steps: {train.get('steps')} (samples seen: {train.get('samples_seen')})",
        f"- architecture: {train.get('architecture', 'unet')}, {train.get('parameters')} parameters",
        f"- wall time: {train.get('wall_seconds', 0) / 60:.1f} min; CPU time of the training process: "
        + (f"{train['cpu_seconds'] / 60:.1f} min" if train.get("cpu_seconds") is not None else "not recorded"),
        f"- final loss (mean of last 50 steps): {train.get('final_loss')}",
        f"- hardware: {json.dumps(card.get('hardware', {}))}",
        f"- weights: EMA, stored as {train.get('save_dtype')}",
        "",
        "## Captions",
        *_caption_lines(card.get("captions")),
        "",
        "## Config",
        "```json",
        json.dumps(card.get("config", {}), indent=2),
        "```",
        "",
        "## Metrics",
    ]
    metrics = card.get("metrics") or {}
    if not metrics:
        lines.append("(none measured yet)")
    for key, value in sorted(metrics.items()):
        lines.append(f"- {key}: {json.dumps(value)}")
    return "\n".join(lines) + "\n"
