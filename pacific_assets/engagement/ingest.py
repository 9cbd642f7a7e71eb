"""Clicks ingestion: Kafka topic ``clicks`` (or, with no Kafka configured, simulator files) into
the landing zone, one durable batch at a time.

Kafka mode drains every partition up to the high watermark seen at start (messages produced
meanwhile wait for the next run), using ``assign()`` with the group's committed offsets rather than
``subscribe()``: a restarted consumer does not wait for a group rebalance, and the run ends when the
snapshot is drained, not at the first empty poll (docs/engagement.md "Ingestion"). Per batch:
malformed messages go to the quarantine (partition, offset, reason), the batch file and its manifest
line are written durably, and only then are the offsets committed (see ``landing.py`` for why that
is exact).

Embedded mode (no bootstrap servers): the simulator already wrote batch files; any file without a
manifest line is described (event dates, rows, late rows), its malformed lines quarantined, and
registered in the manifest. That step also runs in Kafka mode, so a batch whose manifest append
was interrupted is registered rather than forgotten (its events are then de-duplicated).
"""

from __future__ import annotations

import datetime as dt
import os
import signal
from collections.abc import Callable
from dataclasses import dataclass, field

import dagster as dg
import polars as pl

from pacific_assets import settings
from pacific_assets.engagement.landing import ClickLanding, Message, batch_name, parse_click
from pacific_assets.storage.lake import Lake, fault_requested
from pacific_assets.storage.quarantine import QUARANTINE_ROW_SCHEMA, write_quarantine

QUARANTINE_SOURCE = "clicks"
#: FAULT_ENV value that SIGKILLs the ingestion after a batch landed but before its offsets commit.
FAULT_BEFORE_COMMIT = "clicks_before_commit"


class ClicksKafkaResource(dg.ConfigurableResource):
    """Where clicks come from. Empty ``bootstrap_servers`` = embedded default (simulator files).

    Every field can come from an environment variable (``kafka_resource_from_env``); credentials
    only ever do, through ``dg.EnvVar``, so they never appear in the UI or in run config.
    """

    bootstrap_servers: str = ""
    topic: str = "clicks"
    group_id: str = "pacific-clicks-ingest"
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str = ""
    sasl_username: str = ""
    sasl_password: str = ""
    ssl_ca_location: str = ""
    #: Messages per landed batch (one file, one manifest line, one offset commit).
    batch_max_messages: int = 50_000
    #: Give up (and fail the run, nothing committed for the open batch) after this long idle.
    idle_timeout_seconds: float = 60.0

    @property
    def enabled(self) -> bool:
        return bool(self.bootstrap_servers.strip())

    def consumer_config(self) -> dict[str, object]:
        conf: dict[str, object] = {
            "bootstrap.servers": self.bootstrap_servers,
            "group.id": self.group_id,
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "auto.offset.reset": "earliest",
            "security.protocol": self.security_protocol,
        }
        optional = {
            "sasl.mechanism": self.sasl_mechanism,
            "sasl.username": self.sasl_username,
            "sasl.password": self.sasl_password,
            "ssl.ca.location": self.ssl_ca_location,
        }
        conf.update({k: v for k, v in optional.items() if v})
        return conf


def kafka_resource_from_env() -> ClicksKafkaResource:
    """Only variables that are set are passed (as ``dg.EnvVar``); none is required."""
    fields = {name: dg.EnvVar(var) for name, var in settings.load().kafka_env.items()}
    return ClicksKafkaResource(**fields)


def kafka_backlog(config: ClicksKafkaResource, timeout: float = 10.0) -> dict[int, tuple[int, int]]:
    """Partition -> (where the group resumes, high watermark): whether there is anything to
    drain, read without consuming (metadata, committed offsets, watermarks: a few requests)."""
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer({**config.consumer_config(), "log_level": 3})
    try:
        meta = consumer.list_topics(config.topic, timeout=timeout).topics.get(config.topic)
        if meta is None or meta.error is not None:
            raise RuntimeError(f"Kafka topic {config.topic!r}: {meta.error if meta else 'unknown'}")
        parts = [TopicPartition(config.topic, p) for p in sorted(meta.partitions)]
        out = {}
        for tp in consumer.committed(parts, timeout=timeout):
            low, high = consumer.get_watermark_offsets(tp, timeout=timeout)
            out[tp.partition] = (max(tp.offset, low) if tp.offset >= 0 else low, high)
        return out
    finally:
        consumer.close()


@dataclass
class IngestReport:
    """What one ingestion run did (becomes the materialization's metadata)."""

    mode: str
    batches: list[str] = field(default_factory=list)
    rows: int = 0
    quarantined: int = 0
    registered_files: int = 0
    offsets: dict[int, tuple[int, int]] = field(default_factory=dict)  # partition -> (from, to)
    event_dates: set[str] = field(default_factory=set)


def quarantine_messages(lake: Lake, batch: str, messages: list[Message], file_of: Callable) -> int:
    """Replace the quarantine partition of one batch with its malformed messages/lines."""
    if not messages:
        return 0
    rows = pl.DataFrame(
        {
            "file": [file_of(m) for m in messages],
            "row_number": [m.offset for m in messages],
            "column": [m.problem_column for m in messages],
            "reason": [m.reason for m in messages],
            "raw": [m.raw for m in messages],
        },
        schema=QUARANTINE_ROW_SCHEMA,
    )
    write_quarantine(lake, QUARANTINE_SOURCE, batch.removesuffix(".jsonl"), rows)
    return len(messages)


def register_landed_files(lake: Lake, landing: ClickLanding, report: IngestReport) -> None:
    """Embedded default: put batch files that have no manifest line into the manifest."""
    for path in landing.unregistered_batches():
        fields, bad = landing.describe_file(path)
        rel = path.relative_to(lake.landing).as_posix()
        report.quarantined += quarantine_messages(lake, path.name, bad, lambda _m, rel=rel: rel)
        landing.append_manifest(fields)
        report.registered_files += 1
        report.batches.append(path.name)
        report.rows += fields["rows"]
        report.event_dates.update(fields["event_dates"])


def _default_fault_hook(stage: str) -> None:
    if stage == "before_commit" and fault_requested(FAULT_BEFORE_COMMIT):
        os.kill(os.getpid(), signal.SIGKILL)


def drain_kafka(
    lake: Lake,
    config: ClicksKafkaResource,
    report: IngestReport,
    *,
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    fault_hook: Callable[[str], None] = _default_fault_hook,
    log: Callable[[str], None] = lambda _msg: None,
) -> None:
    """Drain ``config.topic`` up to the high watermarks seen at start, batch by batch."""
    from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, TopicPartition

    landing = ClickLanding(lake.landing)
    topic = config.topic
    consumer = Consumer(config.consumer_config())
    try:
        meta = consumer.list_topics(topic, timeout=30)
        tmeta = meta.topics.get(topic)
        if tmeta is None or tmeta.error is not None:
            raise RuntimeError(
                f"Kafka topic {topic!r} is not available at {config.bootstrap_servers}: "
                f"{tmeta.error if tmeta else 'unknown topic'}"
            )
        parts = [TopicPartition(topic, p) for p in sorted(tmeta.partitions)]
        committed = {tp.partition: tp.offset for tp in consumer.committed(parts, timeout=30)}
        start, high = {}, {}
        for tp in parts:
            low, hi = consumer.get_watermark_offsets(tp, timeout=30)
            begin = committed[tp.partition] if committed[tp.partition] >= 0 else low
            if begin < low:
                log(f"partition {tp.partition}: committed {begin} < retained {low}; lost offsets")
                begin = low
            start[tp.partition], high[tp.partition] = begin, hi
        todo = {p for p in start if start[p] < high[p]}
        if not todo:
            log(f"topic {topic}: nothing new (committed = high watermark)")
            return
        consumer.assign(
            [
                TopicPartition(topic, p, start[p] if start[p] >= 0 else OFFSET_BEGINNING)
                for p in sorted(todo)
            ]
        )
        position = dict(start)
        pending: list[Message] = []
        idle_since = now()
        while todo or pending:
            msgs = consumer.consume(num_messages=1000, timeout=1.0) if todo else []
            for m in msgs:
                if m.error():
                    raise KafkaException(m.error())
                p, off = m.partition(), m.offset()
                if p not in todo or off >= high[p]:
                    continue  # beyond the snapshot: next run
                position[p] = off + 1
                if position[p] >= high[p]:
                    todo.discard(p)
                raw = m.value()
                record, column, reason = parse_click(raw, landed_at=now())
                text = raw.decode("utf-8", errors="replace") if raw is not None else ""
                msg = Message(p, off, text, record, column, reason)
                if record is not None:
                    record["partition"], record["offset"] = p, off
                pending.append(msg)
                if len(pending) >= config.batch_max_messages:
                    _land_batch(lake, landing, consumer, topic, pending, report, now, fault_hook)
                    pending = []
            if msgs:
                idle_since = now()
            elif todo:
                # Transaction markers and compaction leave offsets no message will ever carry:
                # the consumer's position (next offset to fetch) says when a partition is done.
                for tp in consumer.position([TopicPartition(topic, p) for p in sorted(todo)]):
                    if tp.offset >= high[tp.partition]:
                        todo.discard(tp.partition)
            if (
                not msgs
                and todo
                and (now() - idle_since).total_seconds() > config.idle_timeout_seconds
            ):
                raise TimeoutError(
                    f"Kafka {topic}: no messages for {config.idle_timeout_seconds:.0f} s while "
                    f"partitions {sorted(todo)} are below their high watermark; nothing of the "
                    "open batch was committed, rerun to resume"
                )
            if pending and not todo:
                _land_batch(lake, landing, consumer, topic, pending, report, now, fault_hook)
                pending = []
    finally:
        consumer.close()


def _land_batch(lake, landing, consumer, topic, messages, report, now, fault_hook) -> None:
    from confluent_kafka import TopicPartition

    number = landing.next_batch_number()
    name = batch_name(number)
    bad = [m for m in messages if m.record is None]
    good = [m.record for m in messages if m.record is not None]
    quarantined = quarantine_messages(lake, name, bad, lambda m: f"kafka:{topic}/{m.partition}")
    _path, fields = landing.write_batch(number, good, now())
    ranges: dict[int, list[int]] = {}
    for m in messages:
        lo_hi = ranges.setdefault(m.partition, [m.offset, m.offset])
        lo_hi[0], lo_hi[1] = min(lo_hi[0], m.offset), max(lo_hi[1], m.offset)
    fields.update(
        source="kafka",
        quarantined=quarantined,
        offsets={str(p): v for p, v in sorted(ranges.items())},
    )
    landing.append_manifest(fields)
    fault_hook("before_commit")
    consumer.commit(
        offsets=[TopicPartition(topic, p, hi + 1) for p, (_lo, hi) in sorted(ranges.items())],
        asynchronous=False,
    )
    report.batches.append(name)
    report.rows += len(good)
    report.quarantined += quarantined
    report.event_dates.update(fields["event_dates"])
    for p, (lo, hi) in ranges.items():
        old = report.offsets.get(p)
        report.offsets[p] = (min(lo, old[0]), max(hi, old[1])) if old else (lo, hi)


def ingest_clicks(
    lake: Lake,
    config: ClicksKafkaResource,
    *,
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    fault_hook: Callable[[str], None] = _default_fault_hook,
    log: Callable[[str], None] = lambda _msg: None,
) -> IngestReport:
    """One ingestion run: register unregistered files, then (Kafka mode) drain the topic."""
    landing = ClickLanding(lake.landing)
    report = IngestReport(mode="kafka" if config.enabled else "embedded")
    with landing.lock():
        register_landed_files(lake, landing, report)
        if config.enabled:
            drain_kafka(lake, config, report, now=now, fault_hook=fault_hook, log=log)
    return report


def main() -> None:
    """``python -m pacific_assets.engagement.ingest <data_root>``: one ingestion run from env."""
    import sys

    root = sys.argv[1] if len(sys.argv) > 1 else str(settings.load().data_root)
    # Outside Dagster there is nothing to resolve dg.EnvVar: the same variables, read directly.
    config = ClicksKafkaResource(**settings.kafka_values_outside_dagster())
    report = ingest_clicks(Lake(root), config, log=print)
    print(
        f"ingested {report.rows} clicks in {len(report.batches)} batches "
        f"({report.mode}); quarantined {report.quarantined}"
    )


if __name__ == "__main__":
    main()
