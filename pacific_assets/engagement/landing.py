"""The clickstream landing zone: batch files, the ingestion manifest, and how a batch lands.

Layout (contracts.CLICKS)::

    landing/clickstream/ingest_date=YYYY-MM-DD/batch-<NNNNNNNN>.jsonl   one file per ingest batch
    landing/clickstream/_manifest.jsonl                                 one line per landed batch

A batch *lands* in three durable steps, in this order: (1) the file is written under a hidden
temporary name, fsynced and linked to its final name (``os.link`` refuses to overwrite, so a landed
file is never replaced); (2) its manifest line is appended and fsynced; only then (3) the Kafka
offsets are committed. A crash between (2) and (3) re-reads the batch on the next run: the same
events land again in a later batch, and the exact de-duplication of ``stg_clicks`` (lowest batch
wins, docs/semantic-contract.md) makes the result exact. That is at-least-once landing, exactly-once
metrics.

The manifest is the one list of landed batches. Readers trust the first line per batch name. The
contract's fields are ``batch, ingest_date, event_dates, rows, landed_at``; this project adds
``source`` (kafka | simulator), ``event_date_rows`` (events per event date), ``late_rows`` (events
that landed > 48 h after they happened, per event date), ``quarantined`` and, from Kafka,
``offsets`` (``{partition: [first, last]}``) so an operator can see which offsets a batch holds.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from pacific_assets.contracts import CLICKS
from pacific_assets.orchestration import partitions, register_batch_landing

MANIFEST_NAME = "_manifest.jsonl"
BATCH_RE = re.compile(r"^batch-(\d{8})\.jsonl$")
LATE_AFTER = dt.timedelta(hours=48)
#: An event cannot happen after it landed; beyond this allowance for clocks, event_ts is wrong.
CLOCK_ALLOWANCE = dt.timedelta(minutes=5)
#: No click before the grids' first day can reach a partition.
FIRST_DAY = dt.date.fromisoformat(partitions.START_DATE)
#: Contract field order of a landed click line.
CLICK_FIELDS = tuple(CLICKS.columns)
_REQUIRED_TEXT = ("event_id", "user_id", "account_id")


def batch_name(number: int) -> str:
    return f"batch-{number:08d}.jsonl"


def batch_number(name: str) -> int:
    m = BATCH_RE.match(Path(name).name)
    if not m:
        raise ValueError(f"{name!r} is not a batch file name (batch-<NNNNNNNN>.jsonl)")
    return int(m.group(1))


def iso_utc(ts: dt.datetime) -> str:
    """The contract's timestamp text: UTC with a ``Z`` suffix, microseconds when present."""
    ts = ts.astimezone(dt.UTC)
    text = ts.strftime("%Y-%m-%dT%H:%M:%S")
    if ts.microsecond:
        text += f".{ts.microsecond:06d}"
    return text + "Z"


def parse_ts(value: object) -> dt.datetime:
    """ISO-8601 with a zone (``Z`` or an offset) -> aware UTC datetime; ValueError otherwise."""
    if not isinstance(value, str):
        raise ValueError("not a string")
    ts = dt.datetime.fromisoformat(value.strip())
    if ts.tzinfo is None:
        raise ValueError("timestamp has no time zone (the contract wants UTC with Z)")
    return ts.astimezone(dt.UTC)


@dataclass(frozen=True)
class ManifestEntry:
    """One landed batch, as recorded in ``_manifest.jsonl``."""

    batch: str
    ingest_date: str
    event_dates: tuple[str, ...]
    rows: int
    landed_at: str
    line_number: int  # 1-based line in the manifest: the late-data sensor's cursor
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def number(self) -> int:
        return batch_number(self.batch)

    @property
    def relative_path(self) -> str:
        return f"{CLICKS.path}/ingest_date={self.ingest_date}/{self.batch}"


@dataclass
class Message:
    """One record to land: contract fields, or a reason it is malformed."""

    partition: int | None
    offset: int | None
    raw: str
    record: dict | None = None
    problem_column: str | None = None
    reason: str | None = None


def event_time_problem(event_ts: dt.datetime, landed_at: dt.datetime) -> str | None:
    """Why an ``event_ts`` that parses still cannot be the event's time, or None.

    Such a click would never reach a partition (a 2099 date waits forever for its day, a 1999
    date is before every grid), so it is quarantined with this reason instead of silently kept
    out. Same rule in ``sql/stg_clicks.sql``.
    """
    if event_ts > landed_at + CLOCK_ALLOWANCE:
        return (
            f"event_ts {iso_utc(event_ts)} is after the click landed ({iso_utc(landed_at)}) by "
            f"more than the {CLOCK_ALLOWANCE.seconds // 60} min clock allowance"
        )
    if event_ts.date() < FIRST_DAY:
        return f"event_ts {iso_utc(event_ts)} is before the first day the pipelines cover ({FIRST_DAY})"
    return None


def parse_click(
    raw: bytes | str | None, landed_at: dt.datetime | None = None
) -> tuple[dict | None, str | None, str | None]:
    """Validate one click payload -> (contract record, None, None) or (None, column, reason).

    Malformed = not a JSON object, a required field missing/empty/not a string, a timestamp that
    does not parse, or (given when it landed) an event time it cannot have
    (``event_time_problem``). Values are normalized (timestamps to UTC ``Z`` text); nothing is
    fixed.
    """
    if raw is None:
        return None, None, "empty message value (tombstone)"
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        obj = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return None, None, f"not valid JSON: {exc}"
    if not isinstance(obj, dict):
        return None, None, f"JSON value is a {type(obj).__name__}, not an object"
    record: dict = {}
    for name in _REQUIRED_TEXT:
        value = obj.get(name)
        if not isinstance(value, str) or not value.strip():
            return None, name, f"{name}: required field missing, empty or not a string"
        record[name] = value
    for name in ("event_ts", "sent_at"):
        value = obj.get(name)
        if value is None and name == "sent_at":
            record[name] = None
            continue
        try:
            record[name] = iso_utc(parse_ts(value))
        except ValueError as exc:
            what = "missing" if value is None else f"not an ISO-8601 UTC timestamp ({exc})"
            return None, name, f"{name} {what}"
    for name in ("page", "action"):
        value = obj.get(name)
        # free text: a non-string value is kept as its JSON text, as the staging reader would
        record[name] = value if value is None or isinstance(value, str) else json.dumps(value)
    if landed_at is not None:
        problem = event_time_problem(parse_ts(record["event_ts"]), landed_at)
        if problem:
            return None, "event_ts", problem
    return record, None, None


class ClickLanding:
    """Reads and writes ``landing/clickstream``. The only writer of batches and manifest lines."""

    def __init__(self, landing_root: str | os.PathLike[str]):
        self.root = Path(landing_root) / CLICKS.path

    @property
    def manifest_path(self) -> Path:
        return self.root / MANIFEST_NAME

    # -- reading -----------------------------------------------------------------------------
    def manifest(self) -> list[ManifestEntry]:
        """Every landed batch, in manifest order."""
        return self.manifest_since(0)[0]

    def manifest_since(self, start_line: int) -> tuple[list[ManifestEntry], int]:
        """(entries on lines after ``start_line``, number of complete lines read).

        The first line per batch name wins (a batch registered twice counts once). A torn last
        line (a crash mid-append) is not landed yet and is left for the next read.
        """
        if not self.manifest_path.exists():
            return [], 0
        entries, seen = [], set()
        last = 0
        with open(self.manifest_path, encoding="utf-8") as fh:
            for number, line in enumerate(fh, start=1):
                if not line.endswith("\n"):
                    break  # torn write: not landed yet
                last = number
                if not line.strip():
                    continue
                obj = json.loads(line)
                if obj["batch"] in seen:
                    continue
                seen.add(obj["batch"])
                if number <= start_line:
                    continue
                known = {"batch", "ingest_date", "event_dates", "rows", "landed_at"}
                entries.append(
                    ManifestEntry(
                        batch=obj["batch"],
                        ingest_date=obj["ingest_date"],
                        event_dates=tuple(sorted(obj.get("event_dates") or ())),
                        rows=int(obj.get("rows") or 0),
                        landed_at=obj.get("landed_at", ""),
                        line_number=number,
                        extra={k: v for k, v in obj.items() if k not in known},
                    )
                )
        return entries, last

    def batch_files(self) -> list[Path]:
        """Every complete batch file on disk (registered or not), in batch order."""
        files = [p for p in self.root.glob("ingest_date=*/batch-*.jsonl") if BATCH_RE.match(p.name)]
        return sorted(files, key=lambda p: batch_number(p.name))

    def files_for_dates(self, dates: Iterable[str]) -> list[Path]:
        """Landed batch files holding events of any of ``dates`` (from the manifest)."""
        wanted = set(dates)
        return [
            self.root / f"ingest_date={e.ingest_date}" / e.batch
            for e in self.manifest()
            if wanted.intersection(e.event_dates)
        ]

    def next_batch_number(self) -> int:
        numbers = [batch_number(p.name) for p in self.batch_files()]
        numbers += [e.number for e in self.manifest()]
        return max(numbers, default=0) + 1

    # -- writing -----------------------------------------------------------------------------
    @contextmanager
    def lock(self) -> Iterator[None]:
        """One ingestion at a time (two would pick the same batch number)."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".ingest.lock", "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def write_batch(
        self, number: int, records: list[dict], landed_at: dt.datetime
    ) -> tuple[Path, dict]:
        """Durably write one batch file; returns its path and its manifest fields (not yet
        appended). Every record gets the batch's ``landed_at``."""
        landed_text = iso_utc(landed_at)
        ingest_date = landed_at.astimezone(dt.UTC).date().isoformat()
        folder = self.root / f"ingest_date={ingest_date}"
        new_folder = not folder.exists()
        folder.mkdir(parents=True, exist_ok=True)
        name = batch_name(number)
        final = folder / name
        tmp = folder / f".{name}.tmp"
        by_date: Counter[str] = Counter()
        late: Counter[str] = Counter()
        with open(tmp, "w", encoding="utf-8") as fh:
            for rec in records:
                line = {k: rec.get(k) for k in CLICK_FIELDS}
                line["landed_at"] = landed_text
                fh.write(json.dumps(line, separators=(",", ":")) + "\n")
                event_ts = parse_ts(rec["event_ts"])
                day = event_ts.date().isoformat()
                by_date[day] += 1
                if landed_at - event_ts > LATE_AFTER:
                    late[day] += 1
            fh.flush()
            os.fsync(fh.fileno())
        os.link(tmp, final)  # fails if the name exists: a landed file is never replaced
        os.unlink(tmp)
        fsync_dir(folder)
        if new_folder:
            fsync_dir(self.root)
        fields = {
            "batch": name,
            "ingest_date": ingest_date,
            "event_dates": sorted(by_date),
            "rows": len(records),
            "landed_at": landed_text,
            "event_date_rows": dict(sorted(by_date.items())),
            "late_rows": dict(sorted(late.items())),
        }
        return final, fields

    def append_manifest(self, fields: dict) -> None:
        """Append one manifest line and fsync it: from here on the batch is landed."""
        self.root.mkdir(parents=True, exist_ok=True)
        line = json.dumps(fields, separators=(",", ":")) + "\n"
        fd = os.open(self.manifest_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)

    # -- embedded default: batches the simulator landed --------------------------------------
    def unregistered_batches(self) -> list[Path]:
        registered = {e.batch for e in self.manifest()}
        return [p for p in self.batch_files() if p.name not in registered]

    def describe_file(self, path: Path) -> tuple[dict, list[Message]]:
        """Manifest fields for a batch file landed by someone else, plus its malformed lines.

        Reads the file once, line by line (bounded memory); the file itself is never modified.
        """
        by_date: Counter[str] = Counter()
        late: Counter[str] = Counter()
        bad: list[Message] = []
        rows = 0
        landed_max: dt.datetime | None = None
        with open(path, encoding="utf-8", errors="replace") as fh:
            for line_no, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    landed, landed_problem = parse_ts(json.loads(line).get("landed_at")), None
                except (ValueError, AttributeError) as exc:  # a line parse_click names first
                    landed, landed_problem = None, f"landed_at invalid ({exc})"
                record, column, reason = parse_click(line, landed_at=landed)
                if record is not None and landed_problem:
                    record, column, reason = None, "landed_at", landed_problem
                if record is None:
                    bad.append(Message(None, line_no, line.rstrip("\n"), None, column, reason))
                    continue
                rows += 1
                event_ts = parse_ts(record["event_ts"])
                day = event_ts.date().isoformat()
                by_date[day] += 1
                if landed - event_ts > LATE_AFTER:
                    late[day] += 1
                landed_max = landed if landed_max is None or landed > landed_max else landed_max
        ingest_date = path.parent.name.split("=", 1)[1]
        fields = {
            "batch": path.name,
            "ingest_date": ingest_date,
            "event_dates": sorted(by_date),
            "rows": rows,
            "landed_at": iso_utc(landed_max) if landed_max else f"{ingest_date}T00:00:00Z",
            "source": "simulator",
            "event_date_rows": dict(sorted(by_date.items())),
            "late_rows": dict(sorted(late.items())),
            "quarantined": len(bad),
        }
        return fields, bad


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def batches_by_event_date(landing_root: str | os.PathLike[str]) -> dict[str, list[str]]:
    """Event date -> the registered batches holding events of that date (lineage rule
    ``clicks``: a day of ``stg_clicks`` is built from exactly these)."""
    by_date: dict[str, list[str]] = {}
    for entry in ClickLanding(landing_root).manifest():
        for day in entry.event_dates:
            by_date.setdefault(day, []).append(entry.batch)
    return by_date


register_batch_landing("clicks", batches_by_event_date)
