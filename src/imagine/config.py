"""All configuration in one place: defaults < TOML file < ``IMAGINE_*`` environment variables < CLI flags.

The TOML file is ``$IMAGINE_CONFIG`` or ``./imagine.toml`` when it exists. Nested sections map to
``[section]`` tables in TOML and to ``IMAGINE_SECTION__FIELD`` variables, e.g. ``IMAGINE_SERVE__PORT=8080``.
Settings are built on demand (``get_settings()``), never at import time.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from imagine.images import MAX_BYTES, MAX_PIXELS

PACKAGE_DIR = Path(__file__).resolve().parent
ASSETS_DIR = PACKAGE_DIR / "assets"
DEFAULT_MODEL_DIR = ASSETS_DIR / "default-model"


class PlatformSettings(BaseModel):
    """The demo photo platform (`imagine platform demo`)."""

    posts: int = 3000
    seed: int = 0


class DatasetSettings(BaseModel):
    """The consent-aware dataset build (`imagine dataset ...`)."""

    resolution: int = 64
    retention_days: int = 0
    max_pixels: int = MAX_PIXELS  # decompression-bomb cap, checked from the header before decoding (imagine.images)
    min_side: int = 32  # smaller images are rejected as too_small
    phash_distance: int = 4  # near-duplicate threshold (Hamming bits of the 64-bit phash)


class GenerateSettings(BaseModel):
    """Defaults for generation (`imagine generate`, the web app, the API)."""

    steps: int = 20
    guidance: float = 4.0
    sampler: str = "dpmpp"


LabelCorner = Literal["bottom-right", "bottom-left", "top-right", "top-left"]
# The watermark detector's threshold, calibrated as the 0.1% false-positive point of `imagine eval watermark --calibrate`.
WATERMARK_THRESHOLD = 6.0


class GuardSettings(BaseModel):
    """Prompt policy, output checks and provenance."""

    delivered_size: int = Field(default=256, ge=256, le=4096, description="Side of delivered images (px); the model's output is upscaled to it.")
    visible_label: bool = True
    label_text: str = "Imagined with AI"
    label_corners: list[LabelCorner] = Field(default_factory=lambda: ["bottom-right", "top-left"], min_length=1, description="Corners that carry the visible label; two opposite corners survive cropping one edge strip.")
    watermark_key: str = Field(default="imagine-default", description="Keys the watermark pattern; set a private value per installation.")
    watermark_strength: float = Field(default=3.0, gt=0, le=20, description="Watermark RMS in 8-bit luminance levels; PSNR = 20 log10(255 / strength) (higher: more robust, more visible).")
    watermark_threshold: float = Field(default=WATERMARK_THRESHOLD, gt=0, description="Sync z-score above which a watermark with a valid checksum is reported found (calibrated at 0.1% false positives).")
    c2pa_cert: Path | None = Field(default=None, description="PEM certificate chain (signer first) for C2PA; None = local dev CA under data_home/guard/devca.")
    c2pa_key: Path | None = Field(default=None, description="PEM private key matching c2pa_cert.")
    c2pa_alg: str = "es256"
    c2pa_tsa_url: str | None = None
    c2pa_trust_anchors: Path | None = Field(default=None, description="Extra PEM roots the verifier trusts (the dev CA root is always trusted).")
    nudity_labels: list[str] = Field(default_factory=lambda: ["FEMALE_BREAST_EXPOSED", "FEMALE_GENITALIA_EXPOSED", "MALE_GENITALIA_EXPOSED", "ANUS_EXPOSED", "BUTTOCKS_EXPOSED"])
    nudity_threshold: float = Field(default=0.5, ge=0, le=1)
    memorization_max_distance: int = Field(default=12, ge=0, le=64, description="phash Hamming distance at or below which a training image is a near-copy candidate.")
    memorization_max_rmse: float = Field(default=8.0, ge=0, description="Pixel RMSE (8-bit levels, both images at 16x16) confirming a near-copy.")
    memorization_action: str = Field(default="withhold", pattern="^(withhold|flag)$")
    policy_files: list[Path] = Field(default_factory=list, description="Operator prompt-policy TOML files (people, categories, allow-list, thresholds) read after the shipped ones.")
    policy_allow: list[str] = Field(default_factory=list, description="Extra allow-list phrases, cut from prompts before the policy checks them.")
    policy_defaults: bool = Field(default=True, description="Read the shipped policy data; false = only policy_files.")
    policy_semantic: bool = Field(default=True, description="Run the MiniLM semantic stage of the prompt policy (descriptions, paraphrases).")


class ServeSettings(BaseModel):
    """The web app and HTTP API (`imagine serve`)."""

    host: str = "127.0.0.1"
    port: int = 8000
    cookie_secure: bool | None = Field(default=None, description="Secure cookies; None = only when the request came over https.")
    session_days: int = 14
    max_prompt_chars: int = 500
    max_n: int = 4
    max_steps: int = 50
    max_body_bytes: int = 65536
    max_upload_bytes: int = MAX_BYTES  # "was this photo used?" takes real photos
    max_upload_pixels: int = Field(default=MAX_PIXELS, description="Uploads claiming more pixels (width x height, read from the header) are refused before decoding.")
    queue_max: int = Field(default=64, description="Jobs waiting in the queue, all users together; past it, 503 server_busy.")
    user_queue_images: int = Field(default=16, ge=1, description="Images one user may have waiting; past it, 429 queue_share_exceeded (others are still admitted).")
    instance: str | None = Field(default=None, max_length=64, description="This process's name on its jobs; a restart recovers only its own. None = the host name; give each process sharing a database its own.")
    batch_max_images: int = 16
    batch_max_wait_ms: int = Field(default=50, description="Under load, how long a batch waits for company.")
    sync_timeout_s: float = 120.0
    rate_user: str = Field(default="30/minute", description="Generation requests per user (`limits` notation).")
    rate_ip: str = Field(default="60/minute", description="Generation requests per client IP.")
    rate_login: str = Field(default="5/minute", description="Failed log-ins per (account, client IP) pair; also sign-ups with a taken e-mail per (e-mail, IP) pair.")
    rate_login_ip: str = Field(default="20/minute", description="Failed log-ins per client IP, whatever the account.")
    rate_signup_ip: str = Field(default="10/minute", description="Sign-ups with a taken e-mail per client IP.")
    rate_claim: str = Field(default="5/15 minutes", description="Wrong owner claim codes per account.")
    rate_claim_ip: str = Field(default="20/hour", description="Wrong owner claim codes per client IP.")
    rate_upload: str = Field(default="20/minute", description='"Was this photo used?" look-ups per account (each decodes an image).')
    rate_upload_ip: str = Field(default="60/minute", description='"Was this photo used?" look-ups per client IP.')
    region_header: str = Field(default="X-Country", description="Header (ISO 3166-1 alpha-2) set by a trusted proxy.")
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Reverse proxies (IPs or CIDR networks) whose X-Forwarded-For/-Proto and region header are believed; "
                    "empty (the default) believes no one, loopback included.")
    region_allow: list[str] = Field(default_factory=list, description="Only these regions when non-empty.")
    region_deny: list[str] = Field(default_factory=list)
    guard_dataset: Path | None = Field(default=None, description="Dataset folder for the memorization guard; None = nudity checks only.")
    torch_threads: int | None = Field(default=None, ge=1, description="torch intra-op threads; None = torch's default (set 1 on a shared CPU).")


class OwnersSettings(BaseModel):
    """Photo owners' pages, the preference arena and the operator views (issue 7)."""

    dataset: str = Field(default="demo", description="The dataset (folder under datasets_dir) the owners' pages and admin views read.")
    retrain_deadline_days: float = Field(default=30, description="A model is 'retrain due' once a post it saw was revoked this many days ago.")
    arena_contestants: list[dict] = Field(
        default_factory=lambda: [
            {"name": "dpmpp-20", "sampler": "dpmpp", "steps": 20, "guidance": 4.0},
            {"name": "euler-8", "sampler": "euler", "steps": 8, "guidance": 4.0},
        ],
        description="Arena contestants: name plus optional model (a pipeline folder), sampler, steps, guidance.",
    )
    arena_bootstrap: int = Field(default=1000, description="Bootstrap resamples for the arena's confidence intervals.")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="IMAGINE_", env_nested_delimiter="__", extra="ignore"
    )

    data_home: Path = Field(default=Path("var"), description="Where manifests, datasets, models, images and the database live.")
    log_level: str = "INFO"
    model: Path | None = Field(default=None, description="A diffusers pipeline folder; None means the shipped default model.")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; None means SQLite under data_home.")
    redis_url: str | None = Field(default=None, description="Redis URL for shared rate limits; None means in-memory limits.")

    platform: PlatformSettings = PlatformSettings()
    dataset: DatasetSettings = DatasetSettings()
    generate: GenerateSettings = GenerateSettings()
    guard: GuardSettings = GuardSettings()
    serve: ServeSettings = ServeSettings()
    owners: OwnersSettings = OwnersSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        toml_path = config_file_path()
        if toml_path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_path))
        return tuple(sources)

    # Derived locations under the data home: one folder per kind of thing.
    @property
    def platform_dir(self) -> Path:
        return self.data_home / "platform"

    @property
    def datasets_dir(self) -> Path:
        return self.data_home / "datasets"

    @property
    def models_dir(self) -> Path:
        return self.data_home / "models"

    @property
    def images_dir(self) -> Path:
        return self.data_home / "images"

    @property
    def model_path(self) -> Path:
        return self.model if self.model is not None else DEFAULT_MODEL_DIR

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_home / 'imagine.db').resolve()}"


def config_file_path() -> Path | None:
    """The TOML config file in force, if any; a named file that does not exist is an error."""
    named = os.environ.get("IMAGINE_CONFIG")
    if named:
        path = Path(named)
        if not path.is_file():
            raise FileNotFoundError(f"IMAGINE_CONFIG names {path}, which does not exist")
        return path
    local = Path("imagine.toml")
    return local if local.is_file() else None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once on first use."""
    return Settings()
