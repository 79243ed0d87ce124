"""`imagine demo`: the main job on the embedded defaults, end to end.

It is the README's first command: generate the demo platform export and print its summary,
build the consent-aware dataset from it (a new version only when none exists yet) and print
the decisions by reason, then serve the web app on the shipped default model. Each step is
the same function its own command runs (`imagine platform demo`, `imagine dataset build`,
`imagine serve`), so the demo never drifts from what users type one step at a time.
"""

from __future__ import annotations

import logging
log = logging.getLogger(__name__)


def run_demo(*, posts: int | None = None, seed: int | None = None, serve: bool = True,
             host: str | None = None, port: int | None = None) -> None:
    """Platform export -> dataset version -> web app, all under the data home."""
    from imagine.config import get_settings
    from imagine.dataset.cli import build_cmd
    from imagine.dataset.versions import list_versions
    from imagine.platform.cli import demo as platform_demo

    settings = get_settings()
    platform_demo(posts=posts, seed=seed, out=settings.platform_dir, workers=None)

    dataset_dir = settings.datasets_dir / "demo"
    if list_versions(dataset_dir):
        log.info("dataset %s already has a version; `imagine dataset build` makes another", dataset_dir)
    else:
        build_cmd(manifest=None, owners=None, policy=None, out=dataset_dir, ray_address=None, workers=1,
                  batch_size=256, resolution=None)

    if serve:
        from imagine.serve.server import serve as serve_app

        host = host or settings.serve.host
        port = port or settings.serve.port
        log.info("serving the web app on http://%s:%s (model: %s) — Ctrl-C stops it", host, port, settings.model_path)
        serve_app(host=host, port=port)
