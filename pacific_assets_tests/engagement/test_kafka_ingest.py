"""Kafka ingestion against librdkafka's mock cluster (real wire protocol on loopback,
docs/engagement.md "Tests").

One client (``holder``) owns the mock cluster; every other client — the test producer, the
ingestion in a subprocess, the ingestion in-process — connects to the broker address read from
its metadata. Topic ``clicks`` is auto-created on first produce (4 partitions).

The crash test: the first ingestion is SIGKILLed by a deterministic hook right after its first
batch file and manifest line are durable and before the offsets are committed. The next
ingestion re-reads that batch (at-least-once); de-duplication makes the counts exact.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from pacific_assets.engagement.ingest import FAULT_BEFORE_COMMIT, ClicksKafkaResource, ingest_clicks
from pacific_assets.engagement.landing import ClickLanding
from pacific_assets.storage.lake import FAULT_ENV
from pacific_assets_tests.engagement.helpers import click, materialize

REPO = Path(__file__).resolve().parents[2]
TOPIC = "clicks"
GROUP = "pacific-test-ingest"
DAYS = ("2025-09-10", "2025-09-12")


@pytest.fixture
def kafka():
    """A fresh mock cluster per test; yields its bootstrap address."""
    holder = Producer({"test.mock.num.brokers": 1, "log_level": 3})
    brokers = holder.list_topics(timeout=10).brokers
    address = ",".join(f"{b.host}:{b.port}" for b in brokers.values())
    yield address
    holder.flush(5)
    del holder


def _produce(address: str, messages: list[tuple[str, bytes | None]]) -> None:
    producer = Producer({"bootstrap.servers": address, "log_level": 3})
    for key, value in messages:
        producer.produce(TOPIC, key=key, value=value)
    assert producer.flush(10) == 0


def _workload(n_unique: int = 240) -> tuple[list[tuple[str, bytes | None]], set[str], int]:
    """Unique clicks over three days, n/6 re-sent duplicates, 5 malformed messages."""
    msgs, ids = [], set()
    for i in range(n_unique):
        day = 10 + i % 3
        rec = click(
            f"ev-{i:04d}",
            f"u{i % 17}",
            f"acct{i % 5}",
            f"2025-09-{day}T{(i * 7) % 24:02d}:{i % 60:02d}:00Z",
        )
        msgs.append((rec["user_id"], json.dumps(rec).encode()))
        ids.add(rec["event_id"])
    msgs += [msgs[i * 5] for i in range(n_unique // 6)]  # duplicates, re-sent later
    bad = [
        ("u1", b"{not json"),
        ("u1", json.dumps(["an", "array"]).encode()),
        (
            "u2",
            json.dumps(
                {"event_id": "x1", "account_id": "a", "event_ts": "2025-09-10T00:00:00Z"}
            ).encode(),
        ),
        ("u3", json.dumps(click("x2", "u3", "a", "yesterday-ish")).encode()),
        ("u4", None),  # a tombstone
    ]
    return msgs[:150] + bad + msgs[150:], ids, len(bad)


def _committed(address: str) -> dict[int, int]:
    consumer = Consumer({"bootstrap.servers": address, "group.id": GROUP, "log_level": 3})
    try:
        parts = [TopicPartition(TOPIC, p) for p in range(4)]
        return {tp.partition: tp.offset for tp in consumer.committed(parts, timeout=10)}
    finally:
        consumer.close()


def _config(address: str, **kw) -> ClicksKafkaResource:
    return ClicksKafkaResource(bootstrap_servers=address, group_id=GROUP, **kw)


def _staged(lake) -> pl.DataFrame:
    result = materialize(lake, ["stg_clicks"], *DAYS)
    assert result.success
    return lake.read("stg_clicks")


def test_crash_between_landing_and_commit_is_exact(lake, kafka):
    messages, unique_ids, n_bad = _workload()
    _produce(kafka, messages)

    # 1) ingestion in a subprocess, SIGKILLed after its first batch landed, before the commit
    env = {
        **os.environ,
        "PACIFIC_KAFKA_BOOTSTRAP_SERVERS": kafka,
        "PACIFIC_KAFKA_GROUP_ID": GROUP,
        "PACIFIC_KAFKA_BATCH_MAX_MESSAGES": "100",
        FAULT_ENV: FAULT_BEFORE_COMMIT,
    }
    proc = subprocess.run(
        [sys.executable, "-m", "pacific_assets.engagement.ingest", str(lake.root)],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    landing = ClickLanding(lake.landing)
    first = landing.manifest()
    assert [e.batch for e in first] == ["batch-00000001.jsonl"]
    assert first[0].extra["source"] == "kafka"
    assert all(v < 0 for v in _committed(kafka).values())  # nothing committed

    # 2) ingestion again (in-process, through Dagster): re-reads batch 1's messages, finishes
    result = materialize(
        lake, ["raw_clicks"], bootstrap_servers=kafka, group_id=GROUP, batch_max_messages=100
    )
    assert result.success
    manifest = landing.manifest()
    landed_rows = sum(e.rows for e in manifest)
    assert landed_rows > len(messages) - n_bad  # batch 1 landed twice: at-least-once
    committed = _committed(kafka)
    assert sum(committed.values()) == len(messages)  # every offset consumed exactly to the end

    # 3) the metrics are exact: one row per unique valid event
    stg = _staged(lake)
    assert stg.height == len(unique_ids)
    assert set(stg["event_id"]) == unique_ids
    assert int(stg["copies"].sum()) == landed_rows
    # the kept copy of every event is its first one: lowest batch, partition, offset
    batch_1 = pl.read_ndjson(landing.root / f"ingest_date={first[0].ingest_date}" / first[0].batch)
    assert stg.filter(pl.col("batch") == 1).height == batch_1["event_id"].n_unique()

    # malformed messages: quarantined with Kafka partition, offset and reason
    q = lake.read("quarantine").filter(pl.col("source") == "clicks")
    distinct = q.unique(["file", "row_number"])
    assert distinct.height == n_bad
    assert distinct["file"].str.starts_with("kafka:clicks/").all()
    assert distinct["reason"].null_count() == 0
    reasons = " | ".join(sorted(distinct["reason"]))
    for word in ("not valid JSON", "not an object", "user_id", "event_ts", "tombstone"):
        assert word in reasons


def test_resume_from_committed_offsets_and_raise_hook(lake, kafka):
    messages, unique_ids, _n_bad = _workload(60)
    _produce(kafka, messages)

    def boom(stage: str) -> None:
        if stage == "before_commit":
            raise RuntimeError("injected crash before commit")

    with pytest.raises(RuntimeError, match="injected crash"):
        ingest_clicks(lake, _config(kafka), fault_hook=boom)
    assert len(ClickLanding(lake.landing).manifest()) == 1
    report = ingest_clicks(lake, _config(kafka))
    assert report.rows == len(messages) - 5

    # new messages later: only they are read (the group's committed offsets are the start)
    extra = [click(f"late-{i}", "u1", "acct0", "2025-09-11T12:00:00Z") for i in range(7)]
    _produce(kafka, [(r["user_id"], json.dumps(r).encode()) for r in extra])
    again = ingest_clicks(lake, _config(kafka))
    assert again.rows == 7 and again.event_dates == {"2025-09-11"}
    assert ingest_clicks(lake, _config(kafka)).rows == 0  # drained: nothing new

    stg = _staged(lake)
    assert stg.height == len(unique_ids) + 7
