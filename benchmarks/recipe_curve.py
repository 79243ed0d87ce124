"""Score per CPU-hour of training recipes: the compositional benchmark on every snapshot of every run.

    .venv/bin/python benchmarks/recipe_curve.py --runs var/models/cand-unet var/models/cand-mmdit \
        var/models/cand-unet16 --prompts-per-category 4 --out docs/recipe-curve

A run is an ``imagine train --out`` folder trained with ``snapshot_pipelines = true``: each snapshot
(``train/snapshots/step-N``) holds the EMA pipeline and the training process's CPU seconds at that
step. CPU time, not wall time: the machine is shared, and a run's share of it varies. Every snapshot
is scored with ``imagine eval compositional`` (same prompts, seeds and checker for all); results are
cached in ``OUT/results.json`` so a rerun scores only new snapshots. Writes ``OUT/curve.png`` (overall
score vs CPU-minutes) and prints the Markdown table (score, CPU-minutes, score per CPU-hour).
Judged by: the best overall score at equal CPU-minutes.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def snapshots(run: Path) -> list[tuple[Path, dict]]:
    found = []
    for folder in sorted((run / "train" / "snapshots").glob("step-*")):
        progress = folder / "progress.json"
        if progress.is_file() and (folder / "model_index.json").is_file():
            found.append((folder, json.loads(progress.read_text(encoding="utf-8"))))
    return found


def score_all(runs: list[Path], out: Path, prompts_per_category: int, images_per_prompt: int) -> list[dict]:
    from imagine.atomic import atomic_write
    from imagine.eval.compositional import run_compositional

    cache_path = out / "results.json"
    rows: list[dict] = json.loads(cache_path.read_text()) if cache_path.is_file() else []
    done = {(r["run"], r["step"], r["prompts_per_category"]) for r in rows}
    for run in runs:
        for folder, progress in snapshots(run):
            key = (run.name, progress["step"], prompts_per_category)
            if key in done:
                continue
            report = run_compositional(folder, None, prompts_per_category=prompts_per_category,
                                       images_per_prompt=images_per_prompt, progress=False)
            rows.append({"run": run.name, "step": progress["step"], "cpu_minutes": round(progress["cpu_seconds"] / 60, 2),
                         "prompts_per_category": prompts_per_category, "overall": round(report.overall, 4),
                         "paraphrased": round(report.paraphrased, 4),
                         "categories": {k: round(v["canonical"], 4) for k, v in report.categories.items()}})
            atomic_write(cache_path, json.dumps(rows, indent=1) + "\n")
            print(f"{run.name} step {progress['step']} ({rows[-1]['cpu_minutes']} CPU-min): overall {report.overall:.3f}",
                  flush=True)
    return rows


def plot(rows: list[dict], path: Path, reference: tuple[str, float, float] | None) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    for run in sorted({r["run"] for r in rows}):
        pts = sorted((r["cpu_minutes"], r["overall"]) for r in rows if r["run"] == run)
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=run)
    if reference is not None:
        name, minutes, score = reference
        ax.scatter([minutes], [score], marker="*", s=120, color="black", label=name)
    ax.set_xlabel("training CPU-minutes (process CPU time)")
    ax.set_ylabel("compositional overall (canonical)")
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)


def table(rows: list[dict]) -> str:
    lines = ["| run | step | CPU-min | overall | two objects | colour binding | position | counting | score per CPU-hour |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in sorted(rows, key=lambda r: (r["run"], r["step"])):
        c = r["categories"]
        per_hour = r["overall"] / (r["cpu_minutes"] / 60) if r["cpu_minutes"] else float("nan")
        lines.append(f"| {r['run']} | {r['step']} | {r['cpu_minutes']:.1f} | {r['overall']:.2f} | {c['two_objects']:.2f} | "
                     f"{c['colour_binding']:.2f} | {c['position']:.2f} | {c['counting']:.2f} | {per_hour:.2f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", nargs="+", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=Path("var/recipe-curve"))
    parser.add_argument("--prompts-per-category", type=int, default=4)
    parser.add_argument("--images-per-prompt", type=int, default=4)
    parser.add_argument("--reference", nargs=3, metavar=("NAME", "CPU_MINUTES", "SCORE"), default=None,
                        help="a point to mark on the curve, e.g. the shipped default")
    args = parser.parse_args(argv)
    rows = score_all(args.runs, args.out, args.prompts_per_category, args.images_per_prompt)
    reference = (args.reference[0], float(args.reference[1]), float(args.reference[2])) if args.reference else None
    plot([r for r in rows if r["prompts_per_category"] == args.prompts_per_category], args.out / "curve.png", reference)
    print(table([r for r in rows if r["prompts_per_category"] == args.prompts_per_category]))


if __name__ == "__main__":
    main()
