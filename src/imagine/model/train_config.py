"""Training configuration: a TOML file with ``[model]``, ``[data]`` and ``[train]`` tables.

The shipped configs live next to this module (``configs/default.toml``, ``configs/tiny.toml``);
``load_config("tiny")`` finds them by name, any other value is a path. Unknown keys are an
error, so a typo never silently trains with a default.
"""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

CONFIGS_DIR = Path(__file__).resolve().parent / "configs"


@dataclass(frozen=True)
class ModelConfig:
    """The denoiser's shape and the noise schedule (pixel space, 3 channels in [-1, 1]).

    ``architecture``: ``"unet"`` (diffusers ``UNet2DConditionModel``: ``block_out_channels``,
    ``cross_attention_levels``, ...) or ``"mmdit"`` (:class:`imagine.model.mmdit.ImagineMMDiT`:
    ``patch_size``, ``transformer_layers``, ``transformer_heads`` x ``attention_head_dim``).
    """

    architecture: str = "unet"
    resolution: int = 32
    block_out_channels: tuple[int, ...] = (64, 128, 128)
    layers_per_block: int = 1
    cross_attention_levels: tuple[bool, ...] = (False, True, True)
    attention_head_dim: int = 32
    norm_num_groups: int = 32
    max_text_length: int = 32
    num_train_timesteps: int = 1000
    beta_schedule: str = "squaredcos_cap_v2"
    prediction_type: str = "epsilon"
    patch_size: int = 2
    transformer_layers: int = 6
    transformer_heads: int = 4


@dataclass(frozen=True)
class DataConfig:
    """How rows of the Lance dataset become training examples."""

    batch_size: int = 64
    caption_dropout: float = 0.1
    hflip: bool = False  # off by default: flipping would swap "left of" / "right of"
    # Share of training examples captioned with the dataset's descriptive caption (the recaption
    # stage's), where a row has one; the rest use the user's caption. The card records the share used.
    descriptive_ratio: float = 0.0


@dataclass(frozen=True)
class TrainSection:
    """Optimisation, checkpoints, validation."""

    seed: int = 0
    max_steps: int = 1000
    max_minutes: float = 0.0  # > 0: also stop after this much wall time (the card records the steps done)
    max_cpu_minutes: float = 0.0  # > 0: also stop after this much CPU time of this process (fair on a shared machine)
    learning_rate: float = 3e-4
    warmup_steps: int = 100
    weight_decay: float = 0.0
    grad_accum: int = 1
    max_grad_norm: float = 1.0
    ema_decay: float = 0.999
    min_snr_gamma: float = 5.0  # 0 turns Min-SNR-gamma weighting off
    mixed_precision: str = "no"  # "no" | "bf16" | "fp16" (accelerate)
    checkpoint_every: int = 250
    keep_checkpoints: int = 2
    validate_every: int = 250
    log_every: int = 10
    num_threads: int = 0  # 0: torch's default
    validation_prompts: tuple[str, ...] = (
        "a red circle",
        "a blue square on grass",
        "a yellow star above a green tree",
        "two hearts at night",
    )
    save_dtype: str = "float16"  # weights of the final pipeline folder
    # A pipeline folder whose denoiser weights start this run (same architecture and shape), e.g. the
    # shipped default: fine-tuning it on recaptioned data instead of training from scratch.
    init_from: str = ""
    snapshot_pipelines: bool = False  # also save the EMA pipeline at every validation (score-vs-CPU-time curves)


@dataclass(frozen=True)
class TrainConfig:
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainSection = field(default_factory=TrainSection)
    name: str = "custom"

    def to_dict(self) -> dict:
        return asdict(self)


def _section(cls, raw: dict, where: str):
    known = {f.name: f for f in fields(cls)}
    unknown = set(raw) - set(known)
    if unknown:
        raise ValueError(f"unknown keys in [{where}]: {', '.join(sorted(unknown))}; known: {', '.join(known)}")
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()}
    return cls(**values)


def config_from_dict(raw: dict, name: str = "custom") -> TrainConfig:
    unknown = set(raw) - {"model", "data", "train", "name"}
    if unknown:
        raise ValueError(f"unknown tables in training config: {', '.join(sorted(unknown))}")
    return TrainConfig(
        model=_section(ModelConfig, raw.get("model", {}), "model"),
        data=_section(DataConfig, raw.get("data", {}), "data"),
        train=_section(TrainSection, raw.get("train", {}), "train"),
        name=raw.get("name", name),
    )


def resolve_config_path(config: str | Path) -> Path:
    """A shipped config name (``default``, ``tiny``) or a path to a TOML file."""
    path = Path(config)
    if path.is_file():
        return path
    shipped = CONFIGS_DIR / f"{config}.toml"
    if shipped.is_file():
        return shipped
    names = ", ".join(sorted(p.stem for p in CONFIGS_DIR.glob("*.toml")))
    raise FileNotFoundError(f"training config {config!r} is neither a file nor a shipped config ({names})")


def load_config(config: str | Path | TrainConfig | None = None) -> TrainConfig:
    if isinstance(config, TrainConfig):
        return config
    path = resolve_config_path(config or "default")
    with open(path, "rb") as fh:
        raw = tomllib.load(fh)
    return config_from_dict(raw, name=path.stem)
