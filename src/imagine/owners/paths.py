"""Where the owners' features find the platform export, the dataset and the model registry."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from imagine.config import Settings


@dataclass(frozen=True)
class OwnerPaths:
    platform_dir: Path
    dataset_dir: Path
    registry: Path

    @property
    def claim_codes(self) -> Path:
        return self.platform_dir / "claim_codes.json"

    @property
    def events(self) -> Path:
        """The platform event log that `imagine dataset apply-events` consumes."""
        return self.platform_dir / "events.jsonl"

    @classmethod
    def from_settings(cls, settings: Settings) -> "OwnerPaths":
        from imagine.model.registry import registry_path

        return cls(
            platform_dir=settings.platform_dir,
            dataset_dir=settings.datasets_dir / settings.owners.dataset,
            registry=registry_path(settings.data_home),
        )
