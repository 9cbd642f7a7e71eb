"""Clicks to a Kafka topic instead of batch files (``--clicks-to-kafka``, docs/simulator.md).

The simulator decides every click, its late arrival and its re-sent duplicates, and lands them as
batch files in arrival order. In Kafka mode those batches (all, or those that landed from
``since`` on) are then produced to the topic in the same order, one message per line, and leave
the landing zone (files and manifest lines): the ingestion (``raw_clicks``, run by
``clicks_ingest_sensor``) lands them again, through the real consumer path. A message is the line
without what the ingestion sets itself (``landed_at``, ``partition``, ``offset``), keyed by
``user_id``, sent to the partition the simulator gave it (modulo the topic's partitions); a
malformed line is sent as its raw bytes, so it is quarantined on arrival as before. The truth and
the fault manifest are unchanged: they describe the company, not the transport.

One message per produce request (``batch.num.messages=1``): the local broker of ``make stack``
(Tansu 0.6) reports a partition's high watermark as the base offset of its last record batch + 1,
so the tail of a multi-message batch would sit beyond the watermark a drain snapshots. Kafka
itself has no such quirk; the setting only costs throughput (~7 000 messages/s here).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pacific_assets.contracts import CLICKS

#: Fields of a landed line that the ingestion sets itself (not part of a Kafka message).
SET_BY_INGESTION = ("landed_at", "partition", "offset")
PRODUCER_CONFIG: dict[str, object] = {"batch.num.messages": 1, "linger.ms": 0, "log_level": 3}
MANIFEST = "_manifest.jsonl"


@dataclass
class Produced:
    """What a move to Kafka produced."""

    batches: int = 0
    messages: int = 0
    malformed: int = 0


@dataclass(frozen=True)
class ClickMessage:
    """One message: key, value (None = tombstone) and the partition (None = by key)."""

    key: str | None
    value: bytes | None
    partition: int | None = None


def message_of_line(line: str, partitions: int) -> ClickMessage:
    """The Kafka message a landed line came from (malformed lines: their raw bytes)."""
    try:
        record = json.loads(line)
    except ValueError:
        return ClickMessage(None, line.encode(), None)
    if not isinstance(record, dict):
        return ClickMessage(None, line.encode(), None)
    part = record.get("partition")
    for name in SET_BY_INGESTION:
        record.pop(name, None)
    key = record.get("user_id") if isinstance(record.get("user_id"), str) else None
    partition = part % partitions if isinstance(part, int) else None
    return ClickMessage(key, json.dumps(record).encode(), partition)


def produce(
    bootstrap: str,
    topic: str,
    messages: Iterable[ClickMessage],
    extra_config: dict[str, object] | None = None,
) -> int:
    """Produce ``messages`` in order and wait until the broker has every one; how many."""
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": bootstrap, **PRODUCER_CONFIG, **(extra_config or {})})
    errors: list[str] = []

    def delivered(err, _msg) -> None:
        if err is not None:
            errors.append(str(err))

    n = 0
    for m in messages:
        kwargs = {"partition": m.partition} if m.partition is not None else {}
        while True:
            try:
                producer.produce(topic, key=m.key, value=m.value, on_delivery=delivered, **kwargs)
                break
            except BufferError:  # local queue full: let it drain
                producer.poll(0.5)
        n += 1
        producer.poll(0)
    left = producer.flush(60)
    if left or errors:
        raise RuntimeError(f"Kafka {topic}: {left} messages not delivered; errors: {errors[:3]}")
    return n


def topic_partitions(bootstrap: str, topic: str) -> int:
    from confluent_kafka.admin import AdminClient

    meta = AdminClient({"bootstrap.servers": bootstrap, "log_level": 3}).list_topics(timeout=15)
    if topic not in meta.topics or meta.topics[topic].error is not None:
        raise RuntimeError(f"Kafka topic {topic!r} does not exist at {bootstrap}")
    return len(meta.topics[topic].partitions)


def move_batches_to_kafka(
    data_root: str | os.PathLike[str],
    bootstrap: str,
    topic: str = "clicks",
    since: dt.datetime | None = None,
) -> Produced:
    """Produce the landed click batches (those landed at or after ``since``; all when None) to
    ``topic`` in landing order, then remove them from the landing zone and its manifest."""
    folder = Path(data_root).expanduser() / "landing" / CLICKS.path
    manifest = folder / MANIFEST
    entries = [json.loads(line) for line in manifest.read_text().splitlines() if line.strip()]
    moving = [
        e
        for e in entries
        if since is None
        or dt.datetime.fromisoformat(e["landed_at"].replace("Z", "+00:00")) >= since
    ]
    partitions = topic_partitions(bootstrap, topic)
    out = Produced()

    def messages() -> Iterable[ClickMessage]:
        for e in moving:
            path = folder / f"ingest_date={e['ingest_date']}" / e["batch"]
            for line in path.read_text().splitlines():
                if line.strip():
                    m = message_of_line(line, partitions)
                    out.malformed += m.partition is None
                    yield m

    out.messages = produce(bootstrap, topic, messages())
    out.batches = len(moving)
    gone = {e["batch"] for e in moving}
    for e in moving:
        (folder / f"ingest_date={e['ingest_date']}" / e["batch"]).unlink()
    kept = [e for e in entries if e["batch"] not in gone]
    tmp = manifest.with_name(f".{MANIFEST}.tmp")
    tmp.write_text("".join(json.dumps(e) + "\n" for e in kept))
    os.replace(tmp, manifest)
    return out
