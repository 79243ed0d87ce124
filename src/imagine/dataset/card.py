"""The dataset card of one version: ``cards/v<N>/card.json`` and ``cards/v<N>/CARD.md``."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

from imagine.atomic import atomic_write
from imagine.dataset.versions import CARDS


def file_digest(path: Path | str | None) -> str | None:
    """sha256 of a file (streamed; local path or fsspec URL), or None."""
    if path is None:
        return None
    import fsspec

    h = hashlib.sha256()
    with fsspec.open(str(path), "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def code_version() -> str:
    """``imagine <version>`` plus the git commit when run from a checkout."""
    from imagine import __version__

    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=Path(__file__).parent,
                                capture_output=True, text=True, timeout=5, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return f"imagine {__version__}" + (f" ({commit})" if commit else "")


def card_dir(dataset_dir: Path, version: int) -> Path:
    return Path(dataset_dir) / CARDS / f"v{version}"


def _captioner(info: dict | None) -> str:
    return "none" if not info else f"`{info['id']}` version `{info['version']}` (column `descriptive_caption`)"


def render_markdown(card: dict) -> str:
    lines = [
        f"# Dataset card: {card['dataset']} v{card['version']}",
        "",
        f"- Kind: {card['kind']} · created {card['created_at']}",
        f"- Rows (training images): **{card['rows']}** of {card['posts']} posts decided",
        f"- Policy: `{card['policy']['label']}` (sha256 {card['policy']['digest'][:16]}…, {card['policy']['source']})",
        f"- Source manifest sha256: `{card['sources'].get('manifest')}`",
        f"- Owners table sha256: `{card['sources'].get('owners')}`",
        f"- Code: {card['code_version']}",
        f"- Resolution: {card.get('resolution')} px, PNG, RGB",
        f"- Descriptive captions: {_captioner(card.get('captioner'))}",
        "",
        "## Decisions by reason",
        "",
        "| reason | posts |",
        "|---|---:|",
    ]
    lines += [f"| {k} | {v} |" for k, v in sorted(card["counts_by_reason"].items(), key=lambda kv: -kv[1])]
    if card.get("notes"):
        lines += ["", "## Notes", ""] + [f"- {k}: {v}" for k, v in card["notes"].items()]
    lines += ["", "Every post has exactly one decision per version in `decisions.lance`; "
              "`imagine dataset lookup --post ID` explains any row.", ""]
    return "\n".join(lines)


def write_card(dataset_dir: Path, card: dict) -> Path:
    out = card_dir(dataset_dir, card["version"])
    atomic_write(out / "card.json", json.dumps(card, indent=2, sort_keys=True, default=str))
    atomic_write(out / "CARD.md", render_markdown(card))
    return out


def read_card(dataset_dir: Path, version: int) -> dict:
    return json.loads((card_dir(dataset_dir, version) / "card.json").read_text(encoding="utf-8"))
