"""Staging pipeline: the landing zone as external raw assets, and typed, validated stg_ tables.

Every landed source except clicks (staged by the engagement pipeline) gets ``raw_<source>`` and
``stg_<source>``; see docs/staging.md for the tables, the validation rules and the quarantine.
Everything the code location needs is declared in ``pipeline.py``.
"""
