"""Where the owners' features find the platform export, the dataset and the model registry."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from imagine.config import Settings
from imagine.platform.claim_codes import CODES_FILE, HASHES_FILE


@dataclass(frozen=True)
class OwnerPaths:
    platform_dir: Path
    dataset_dir: Path
    registry: Path

    @property
    def claim_codes(self) -> Path:
        """The operator's copy of the demo claim codes (mode 0600); the service never reads it."""
        return self.platform_dir / CODES_FILE

    @property
    def claim_code_hashes(self) -> Path:
        """What a claim is checked against: the codes' SHA-256 only."""
        return self.platform_dir / HASHES_FILE

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
