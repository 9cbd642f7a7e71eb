"""Profit pipeline (docs/profit.md, docs/semantic-contract.md): revenue facts, expenses, unit
profit, per-account unit economics and the reconciliation with the accountant's filings.

Everything the code location needs (assets, schedules, owners, SLA, runbook, completeness
source, cadence) is declared in ``pipeline.py``.
"""
