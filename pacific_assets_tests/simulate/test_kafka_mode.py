"""The simulator's Kafka mode: its click batches go to a topic and come back through the real
consumer path exactly (librdkafka's mock cluster: the Kafka wire protocol on loopback; the stack's
end-to-end test does the same against the Tansu broker)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from confluent_kafka import Producer

from pacific_assets.engagement.ingest import ClicksKafkaResource, ingest_clicks, kafka_backlog
from pacific_assets.engagement.landing import ClickLanding
from pacific_assets.storage.lake import Lake
from pacific_tools.simulate import simulate
from pacific_tools.simulate.kafka import move_batches_to_kafka

TOPIC = "clicks"


@pytest.fixture
def kafka():
    """A fresh mock cluster whose ``clicks`` topic (4 partitions) exists; yields its address."""
    holder = Producer({"test.mock.num.brokers": 1, "log_level": 3})
    brokers = holder.list_topics(timeout=10).brokers
    address = ",".join(f"{b.host}:{b.port}" for b in brokers.values())
    # the mock cluster creates a topic when a producer asks for its metadata
    Producer({"bootstrap.servers": address, "log_level": 3}).list_topics(TOPIC, timeout=10)
    yield address
    del holder


def _landed_lines(root: Path) -> tuple[Counter, int]:
    """Copies per event_id in the landed batch files, and the malformed lines."""
    copies, bad = Counter(), 0
    for path in sorted((root / "landing").rglob("batch-*.jsonl")):
        for line in path.read_text().splitlines():
            try:
                copies[json.loads(line)["event_id"]] += 1
            except (ValueError, KeyError):
                bad += 1
    return copies, bad


def test_clicks_to_kafka_come_back_exactly_through_the_consumer(tmp_path: Path, kafka: str):
    root = tmp_path / "data"
    simulate(root, profile="test", seed=7, days=6)
    files_copies, files_bad = _landed_lines(root)
    assert files_bad >= 1 and max(files_copies.values()) >= 2  # malformed and re-sent clicks

    moved = move_batches_to_kafka(root, kafka, TOPIC)
    assert moved.messages == sum(files_copies.values()) + files_bad
    assert moved.malformed == files_bad
    landing = ClickLanding(root / "landing")
    assert not landing.batch_files() and not landing.manifest()  # instead of batch files

    config = ClicksKafkaResource(bootstrap_servers=kafka, group_id="sim-kafka-mode")
    assert sum(h - b for b, h in kafka_backlog(config).values()) == moved.messages
    report = ingest_clicks(Lake(root), config)
    kafka_copies, _ = _landed_lines(root)
    assert kafka_copies == files_copies  # every click and every re-sent copy, nothing more
    assert report.quarantined == files_bad
    assert all(b == h for b, h in kafka_backlog(config).values())  # drained and committed
