"""Fixtures for the prompt-policy tests: one loaded policy per worker (MiniLM loads once)."""

from __future__ import annotations

import pytest

from imagine.config import Settings
from imagine.guard.policy import PromptPolicy


@pytest.fixture(scope="session")
def policy_settings(tmp_path_factory) -> Settings:
    """Default settings with a private data home (the embedding cache goes there, not into ./var)."""
    home = tmp_path_factory.mktemp("policy-home")
    return Settings(data_home=home)


@pytest.fixture(scope="session")
def policy(policy_settings) -> PromptPolicy:
    """The shipped policy with the semantic stage, as the service runs it."""
    return PromptPolicy.load(settings=policy_settings)


@pytest.fixture(scope="session")
def lexical_policy(policy_settings) -> PromptPolicy:
    """The shipped policy without the semantic stage: proves a refusal came from the lexical rules."""
    return PromptPolicy.load(settings=policy_settings, semantic=False)
