"""Euler-ancestral with float64 sigmas.

Why: with a cosine (``squaredcos_cap_v2``) schedule, as our default model uses, the first sigma is ~2e4;
diffusers' step computes ``sigma_down = sqrt(sigma_to**2 - sigma_up**2)`` in float32, where the two terms
round to the same value or cross, giving NaN images. Keeping the sigmas in float64 keeps that difference
exact; samples stay float32 (0-dim float64 factors do not promote them).
"""

from __future__ import annotations

import torch
from diffusers import EulerAncestralDiscreteScheduler


class PreciseEulerAncestralScheduler(EulerAncestralDiscreteScheduler):
    def set_timesteps(self, *args, **kwargs) -> None:
        super().set_timesteps(*args, **kwargs)
        self.sigmas = self.sigmas.to(torch.float64)
