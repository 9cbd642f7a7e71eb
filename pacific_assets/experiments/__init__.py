"""experiments pipeline: the A/B unit-level table and the weekly experiment read-out.

Assets: ``ab_unit_daily`` (daily, ``ab_unit_daily_schedule``; rebuilt when its engagement or
revenue day changes), ``ab_unit_covariates`` (daily by assignment day, same schedule: each unit's
pre-period covariates) and ``experiment_results`` (weekly, Monday; ``experiments_weekly_schedule``).
Resource ``pseudonymizer`` holds the key for user-id pseudonyms (``PACIFIC_PSEUDONYM_KEY``).
Everything the code location needs is declared in ``pipeline.py``. See docs/experiments.md.
"""
