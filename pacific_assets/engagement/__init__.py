"""Engagement pipeline (owners: frontend; secondary: data engineering). See docs/engagement.md.

Clicks from Kafka (or the simulator) -> landing batches + manifest -> stg_clicks (de-duplicated,
by event date) -> user_engagement_daily -> engagement_hours / engagement_hours_by_team, with
engagement_completeness flagging Kafka outages. Resources: "lake" (shared) and "clicks_kafka".
Everything the code location needs is declared in ``pipeline.py``.
"""
