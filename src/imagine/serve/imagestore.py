"""Delivered images on disk under the data home: ``images_dir/<user id>/<image id>.png``, written atomically."""

from __future__ import annotations

from pathlib import Path

from imagine.atomic import atomic_write


class ImageStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def relative_path(self, user_id: str, image_id: str) -> str:
        for part in (user_id, image_id):
            if not part or "/" in part or "\\" in part or part.startswith("."):
                raise ValueError(f"unsafe id for a file name: {part!r}")
        return f"{user_id}/{image_id}.png"

    def write(self, user_id: str, image_id: str, png: bytes) -> str:
        rel = self.relative_path(user_id, image_id)
        atomic_write(self.root / rel, png)
        return rel

    def path(self, rel: str) -> Path:
        path = (self.root / rel).resolve()
        if self.root.resolve() not in path.parents:
            raise ValueError(f"{rel!r} escapes the image store")
        return path

    def read(self, rel: str) -> bytes:
        return self.path(rel).read_bytes()

    def delete(self, rel: str) -> None:
        self.path(rel).unlink(missing_ok=True)
