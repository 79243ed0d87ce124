"""The scene checker's detector: a small CenterNet-style CNN over a 32x32 image.

It predicts, on a 16x16 grid, a centre heatmap (where objects are), each centre's kind, colour,
orientation and sub-cell offset, and from the whole image the background. Shapes: input (B, 3, 32, 32)
in [0, 1]; grid outputs (B, C, 16, 16); background logits (B, 6).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from imagine.platform.scenes import BACKGROUNDS, COLOURS, KINDS

INPUT_SIZE = 32
GRID = 16


@dataclass(frozen=True)
class CheckerConfig:
    """The model's constructor arguments: saved next to the weights, so loading needs no other schema."""

    width: int = 32
    input_size: int = INPUT_SIZE
    grid: int = GRID
    kinds: tuple[str, ...] = KINDS
    colours: tuple[str, ...] = tuple(COLOURS)
    backgrounds: tuple[str, ...] = tuple(BACKGROUNDS)

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=1) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> "CheckerConfig":
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})


def _conv(cin: int, cout: int, stride: int = 1, dilation: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride=stride, padding=dilation, dilation=dilation, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class SceneDetector(nn.Module):
    def __init__(self, config: CheckerConfig = CheckerConfig()) -> None:
        super().__init__()
        self.config = config
        w = config.width
        # 32x32 -> 16x16: local shape and colour features.
        self.fine = nn.Sequential(_conv(5, w // 2), _conv(w // 2, w, stride=2), _conv(w, w))
        # 16x16 -> 8x8: context wide enough to see a whole object and its surroundings.
        self.coarse = nn.Sequential(_conv(w, 2 * w, stride=2), _conv(2 * w, 2 * w), _conv(2 * w, 2 * w, dilation=2))
        self.fuse = nn.Sequential(nn.Conv2d(3 * w, w, 1, bias=False), nn.BatchNorm2d(w), nn.ReLU(inplace=True), _conv(w, w))
        self.heads = nn.Conv2d(w, 1 + len(config.kinds) + len(config.colours) + 1 + 2, 1)
        self.background = nn.Linear(2 * w, len(config.backgrounds))
        nn.init.constant_(self.heads.bias[:1], -2.2)  # start with "no object here" (CenterNet's prior)

    def forward(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        b, _, h, w = images.shape
        # Coordinate channels let the net tell "top of the image" (sky) from "bottom" (ground) directly.
        ys = torch.linspace(-1, 1, h, device=images.device).view(1, 1, h, 1).expand(b, 1, h, w)
        xs = torch.linspace(-1, 1, w, device=images.device).view(1, 1, 1, w).expand(b, 1, h, w)
        fine = self.fine(torch.cat([images * 2 - 1, ys, xs], dim=1))
        coarse = self.coarse(fine)
        fused = self.fuse(torch.cat([fine, F.interpolate(coarse, size=fine.shape[-2:], mode="nearest")], dim=1))
        out = self.heads(fused)
        k, c = len(self.config.kinds), len(self.config.colours)
        return {
            "heat": out[:, 0],
            "kind": out[:, 1 : 1 + k],
            "colour": out[:, 1 + k : 1 + k + c],
            "upside_down": out[:, 1 + k + c],
            "offset": torch.sigmoid(out[:, 2 + k + c : 4 + k + c]),
            "background": self.background(coarse.mean(dim=(2, 3))),
        }
