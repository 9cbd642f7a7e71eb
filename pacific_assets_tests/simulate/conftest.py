"""Simulator test fixtures: the "replay" profile, simulated once per session."""

from __future__ import annotations

import pytest

from pacific_assets.storage.lake import Lake


@pytest.fixture(scope="session")
def replay_data(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    """The 35-day "replay" company (hourly batches, every fault), ~3 s. Read-only."""
    from pacific_tools.simulate import simulate

    root = tmp_path_factory.mktemp("replay_data") / "data"
    simulate(root, profile="replay", seed=7)
    return Lake(root)
