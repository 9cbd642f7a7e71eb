"""Source simulator: a realistic B2B SaaS company written to the landing zone, plus ground truth.

``simulate(data_root, profile="test", seed=7, **overrides)`` writes ``<data_root>/landing`` per
``pacific_assets.contracts`` and ``<data_root>/truth`` (TRUTH_TABLES + ``fault_manifest.json``).
CLI: ``python -m pacific_tools.simulate --profile {test,demo,bench,replay} --out <data_root>``.
``truth/landing_schedule.parquet`` says when each file lands (``schedule.read_landing_schedule``);
``release.LandingRelease`` lands a simulated zone into a live data root on that schedule.
See docs/simulator.md for every definition.
"""

from pacific_tools.simulate.config import PROFILES, FaultCounts, SimConfig, make_config
from pacific_tools.simulate.run import SimSummary, simulate

__all__ = ["PROFILES", "FaultCounts", "SimConfig", "SimSummary", "make_config", "simulate"]
