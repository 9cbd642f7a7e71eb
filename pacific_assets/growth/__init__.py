"""Growth pipeline: CRM events -> status history -> daily account facts -> weekly/monthly growth.

Assets and their checks (``assets.py``), the lifecycle state machine (``lifecycle.py``), SQL
(``sql/``), schedules and the late-CRM-event sensor (``schedules.py``); owners, SLA, runbook,
completeness source and cadence in ``pipeline.py``. The SLA check (the closed week / month is
in, with all its days of account facts) is the central ``newest_expected_partition`` check from
operations. Definitions and decisions: docs/growth.md.
"""
