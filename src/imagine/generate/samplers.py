"""Sampler names -> diffusers schedulers, built from the pipeline's own scheduler config.

Why a registry: users pick a sampler by a short stable name (CLI, web form, API) while the noise
schedule (betas, prediction type, timestep spacing) must stay the one the model was trained with,
so each entry is a scheduler class plus the few overrides that define the sampler.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Sampler:
    """A scheduler class (``"module:Class"``, imported lazily) and the config overrides that make the sampler."""

    class_path: str
    overrides: dict[str, Any] = field(default_factory=dict)
    description: str = ""

    @property
    def class_name(self) -> str:
        return self.class_path.rpartition(":")[2]

    @property
    def scheduler_class(self) -> type:
        import importlib

        module, _, name = self.class_path.partition(":")
        return getattr(importlib.import_module(module), name)

    def from_config(self, scheduler_config: dict[str, Any], **kwargs: Any) -> Any:
        """A fresh scheduler for the model's training noise schedule (same call as the diffusers class method)."""
        return self.scheduler_class.from_config(dict(scheduler_config), **(self.overrides | kwargs))


SAMPLERS: dict[str, Sampler] = {
    "dpmpp": Sampler("diffusers:DPMSolverMultistepScheduler", {"algorithm_type": "dpmsolver++", "solver_order": 2},
                     "DPM-Solver++ (2M): good images in 15-25 steps"),
    "unipc": Sampler("diffusers:UniPCMultistepScheduler", {}, "UniPC: strongest at very few steps"),
    "euler": Sampler("diffusers:EulerDiscreteScheduler", {}, "Euler: simple, deterministic"),
    "euler_a": Sampler("imagine.generate.euler_ancestral:PreciseEulerAncestralScheduler", {},
                       "Euler ancestral: adds fresh noise each step (float64 sigmas, see euler_ancestral.py)"),
    "ddim": Sampler("diffusers:DDIMScheduler", {}, "DDIM (eta 0): deterministic, needs more steps"),
}


def get_sampler(name: str) -> Sampler:
    """The sampler called ``name``; an unknown name is an error listing the known ones."""
    try:
        return SAMPLERS[name]
    except KeyError:
        raise ValueError(f"unknown sampler {name!r}; known samplers: {', '.join(sorted(SAMPLERS))}") from None


def build_scheduler(name: str, scheduler_config: dict[str, Any]) -> Any:
    """A new scheduler for sampler ``name`` over the noise schedule in ``scheduler_config``."""
    return get_sampler(name).from_config(scheduler_config)
