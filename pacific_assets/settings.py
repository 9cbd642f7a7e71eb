"""Every setting the product reads from the environment, read here and nowhere else.

One module reads ``os.environ`` for the code location (a test scans the package for any other
read): ``load()`` returns a ``Settings`` and each resource factory (``*_from_env``) takes its
values from it when the code location builds its resources, so assets and sensors get them handed
in through resources (``LakeResource``, ``ProfitSettings``, ``OpsResource``, ...). ``VARIABLES``
is the one table of names, defaults and meanings (README.md "Configuration" lists the same).

Read when the code location loads, because Dagster needs the value to build definitions: the data
root and ``PACIFIC_START_DATE`` (the partition grids, ``partitions.py``), the capex life (the
expense lookback's partition mapping) and the clicks sensors' interval (``minimum_interval_seconds``).
Read per evaluation: the tick budget and the fault-injection hooks (tests set them per process).
``load`` keeps no cache: the replay harness sets the data root in-process before it loads the
code location, and tests change variables with ``monkeypatch``.

Secrets (Kafka credentials, the pseudonym key, the Slack webhook) are never held here and never
defaulted: ``Settings`` records only which are set, and resources receive them as
``dg.EnvVar(name)``, resolved by Dagster at launch and never shown in the UI. Standard library
only: tools and ``data_root`` read it before any Dagster code is loaded.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Variable:
    """One environment variable: its name, its default (None: unset) and what it sets."""

    name: str
    default: str | None
    meaning: str
    secret: bool = False


@dataclass(frozen=True)
class DuckDBLimits:
    """What bounds every DuckDB compute connection (``storage.duck.connect``)."""

    memory_limit: str
    threads: int


#: The limits when nothing is configured (README.md "Configuration").
DEFAULT_DUCKDB = DuckDBLimits(memory_limit="2GB", threads=2)


# -- names (the only place a PACIFIC_* name is spelled in the code location) -------------------
DATA_ROOT = "PACIFIC_DATA_ROOT"
START_DATE = "PACIFIC_START_DATE"
DUCKDB_MEMORY_LIMIT = "PACIFIC_DUCKDB_MEMORY_LIMIT"
DUCKDB_THREADS = "PACIFIC_DUCKDB_THREADS"
SPARK_MASTER = "PACIFIC_SPARK_MASTER"
SPARK_DRIVER_MEMORY = "PACIFIC_SPARK_DRIVER_MEMORY"
SPARK_SHUFFLE_PARTITIONS = "PACIFIC_SPARK_SHUFFLE_PARTITIONS"
SPARK_UI = "PACIFIC_SPARK_UI"
SPARK_EXECUTOR_MEMORY = "PACIFIC_SPARK_EXECUTOR_MEMORY"
SPARK_EXECUTOR_CORES = "PACIFIC_SPARK_EXECUTOR_CORES"
SPARK_LAKE_URI = "PACIFIC_SPARK_LAKE_URI"
SPARK_LOCAL_IP = "SPARK_LOCAL_IP"  # Spark's own name; the driver's bind address in local mode
CLICKS_SENSOR_SECONDS = "PACIFIC_CLICKS_SENSOR_SECONDS"
KAFKA_BATCH_MAX_MESSAGES = "PACIFIC_KAFKA_BATCH_MAX_MESSAGES"
#: ClicksKafkaResource field -> variable; a set one reaches the resource as ``dg.EnvVar``.
KAFKA_FIELDS = {
    "bootstrap_servers": "PACIFIC_KAFKA_BOOTSTRAP_SERVERS",
    "topic": "PACIFIC_KAFKA_TOPIC",
    "group_id": "PACIFIC_KAFKA_GROUP_ID",
    "security_protocol": "PACIFIC_KAFKA_SECURITY_PROTOCOL",
    "sasl_mechanism": "PACIFIC_KAFKA_SASL_MECHANISM",
    "sasl_username": "PACIFIC_KAFKA_SASL_USERNAME",
    "sasl_password": "PACIFIC_KAFKA_SASL_PASSWORD",
    "ssl_ca_location": "PACIFIC_KAFKA_SSL_CA_LOCATION",
}
PSEUDONYM_KEY = "PACIFIC_PSEUDONYM_KEY"
CAPEX_LIFE_MONTHS = "PACIFIC_CAPEX_LIFE_MONTHS"
RECONCILIATION_TOLERANCE = "PACIFIC_RECONCILIATION_TOLERANCE"
COST_ALLOCATION_DRIVER = "PACIFIC_COST_ALLOCATION_DRIVER"
SLACK_WEBHOOK_URL = "PACIFIC_SLACK_WEBHOOK_URL"
NOW = "PACIFIC_NOW"
ONCALL_ROTATION = "PACIFIC_ONCALL_ROTATION"
TICK_BUDGET_SECONDS = "PACIFIC_TICK_BUDGET_SECONDS"
#: Dagster's own limits on one sensor / schedule evaluation (the tick budget is half of them).
DAGSTER_TIMEOUT = {
    "sensor": "DAGSTER_SENSOR_GRPC_TIMEOUT_SECONDS",
    "schedule": "DAGSTER_SCHEDULE_GRPC_TIMEOUT_SECONDS",
}
FAULT_INJECT = "PACIFIC_FAULT_INJECT"
FAULT_INJECT_FILE = "PACIFIC_FAULT_INJECT_FILE"

VARIABLES: tuple[Variable, ...] = (
    Variable(DATA_ROOT, "data", "landing zone, lake, catalog, reports"),
    Variable(START_DATE, None, "the grids' first day, when the data root records none"),
    Variable(
        DUCKDB_MEMORY_LIMIT,
        DEFAULT_DUCKDB.memory_limit,
        "memory_limit of every DuckDB compute connection",
    ),
    Variable(
        DUCKDB_THREADS, str(DEFAULT_DUCKDB.threads), "threads of every DuckDB compute connection"
    ),
    Variable(SPARK_MASTER, "local[*]", "spark.master of the investor rollups"),
    Variable(SPARK_DRIVER_MEMORY, "1g", "spark.driver.memory (JVM start only)"),
    Variable(SPARK_SHUFFLE_PARTITIONS, "4", "spark.sql.shuffle.partitions"),
    Variable(SPARK_UI, "false", "spark.ui.enabled"),
    Variable(SPARK_EXECUTOR_MEMORY, None, "spark.executor.memory (cluster only)"),
    Variable(SPARK_EXECUTOR_CORES, None, "spark.executor.cores (cluster only)"),
    Variable(SPARK_LAKE_URI, None, "the lake root as a Spark cluster sees it"),
    Variable(SPARK_LOCAL_IP, "127.0.0.1", "Spark's driver bind address in local mode"),
    Variable(CLICKS_SENSOR_SECONDS, "60", "how often the two clicks sensors evaluate"),
    Variable(KAFKA_FIELDS["bootstrap_servers"], None, "clicks from Kafka (unset: files)"),
    Variable(KAFKA_FIELDS["topic"], "clicks", "the clicks topic"),
    Variable(KAFKA_FIELDS["group_id"], "pacific-clicks-ingest", "the consumer group"),
    Variable(KAFKA_FIELDS["security_protocol"], "PLAINTEXT", "Kafka security.protocol"),
    Variable(KAFKA_FIELDS["sasl_mechanism"], None, "Kafka sasl.mechanism"),
    Variable(KAFKA_FIELDS["sasl_username"], None, "Kafka sasl.username", secret=True),
    Variable(KAFKA_FIELDS["sasl_password"], None, "Kafka sasl.password", secret=True),
    Variable(KAFKA_FIELDS["ssl_ca_location"], None, "Kafka ssl.ca.location"),
    Variable(KAFKA_BATCH_MAX_MESSAGES, "50000", "messages per batch (command-line ingest)"),
    Variable(PSEUDONYM_KEY, None, "HMAC key of user-id pseudonyms", secret=True),
    Variable(CAPEX_LIFE_MONTHS, "36", "straight-line life of a capex purchase"),
    Variable(RECONCILIATION_TOLERANCE, "0.005", "profit vs filings relative tolerance"),
    Variable(COST_ALLOCATION_DRIVER, "seats", "shared-cost driver, seats or usage"),
    Variable(SLACK_WEBHOOK_URL, None, "on-call alerts to Slack", secret=True),
    Variable(NOW, None, "a frozen 'now' for SLA checks, routing, incidents"),
    Variable(ONCALL_ROTATION, None, "the rotation file (unset: the packaged one)"),
    Variable(TICK_BUDGET_SECONDS, None, "seconds one sensor/schedule evaluation may take"),
    Variable(DAGSTER_TIMEOUT["sensor"], "60", "Dagster's sensor evaluation timeout"),
    Variable(DAGSTER_TIMEOUT["schedule"], "60", "Dagster's schedule evaluation timeout"),
    Variable(FAULT_INJECT, None, "test hook: a fault to inject in the lake writer"),
    Variable(FAULT_INJECT_FILE, None, "test hook: a file naming a fault that fires once"),
)
DEFAULTS = {v.name: v.default for v in VARIABLES}


@dataclass(frozen=True)
class Settings:
    """The values of ``VARIABLES`` (defaults applied); secrets only as "is it set"."""

    data_root: Path
    start_date: str | None
    duckdb: DuckDBLimits
    spark_master: str
    spark_driver_memory: str
    spark_shuffle_partitions: str
    spark_ui: str
    spark_executor_memory: str | None
    spark_executor_cores: str | None
    spark_lake_uri: str | None
    spark_local_ip: str
    clicks_sensor_seconds: int
    #: The ClicksKafkaResource fields whose variable is set -> the variable (values not held).
    kafka_env: Mapping[str, str]
    kafka_batch_max_messages: int | None
    pseudonym_key_set: bool
    capex_life_months: int
    reconciliation_tolerance: float
    cost_allocation_driver: str
    slack_webhook_set: bool
    now: str
    oncall_rotation: str
    tick_budget_seconds: float | None
    #: "sensor" / "schedule" -> Dagster's timeout of one evaluation, in seconds.
    dagster_timeout_seconds: Mapping[str, int]
    fault_inject: str | None
    fault_inject_file: str | None


def load(env: Mapping[str, str] | None = None) -> Settings:
    """The settings of ``env`` (default: this process's environment), each variable read once.

    An empty variable counts as unset (its default applies)."""
    env = os.environ if env is None else env

    def get(name: str) -> str | None:
        return env.get(name) or DEFAULTS[name]

    def text(name: str) -> str:
        return get(name) or ""

    def number(name: str) -> int | None:
        value = get(name)
        return int(value) if value else None

    def seconds(name: str) -> float | None:
        value = get(name)
        return float(value) if value else None

    return Settings(
        data_root=Path(text(DATA_ROOT)),
        start_date=get(START_DATE),
        duckdb=DuckDBLimits(text(DUCKDB_MEMORY_LIMIT), int(text(DUCKDB_THREADS))),
        spark_master=text(SPARK_MASTER),
        spark_driver_memory=text(SPARK_DRIVER_MEMORY),
        spark_shuffle_partitions=text(SPARK_SHUFFLE_PARTITIONS),
        spark_ui=text(SPARK_UI),
        spark_executor_memory=get(SPARK_EXECUTOR_MEMORY),
        spark_executor_cores=get(SPARK_EXECUTOR_CORES),
        spark_lake_uri=get(SPARK_LAKE_URI),
        spark_local_ip=text(SPARK_LOCAL_IP),
        clicks_sensor_seconds=int(text(CLICKS_SENSOR_SECONDS)),
        kafka_env={field: var for field, var in KAFKA_FIELDS.items() if env.get(var)},
        kafka_batch_max_messages=number(KAFKA_BATCH_MAX_MESSAGES),
        pseudonym_key_set=bool(env.get(PSEUDONYM_KEY)),
        capex_life_months=int(text(CAPEX_LIFE_MONTHS)),
        reconciliation_tolerance=float(text(RECONCILIATION_TOLERANCE)),
        cost_allocation_driver=text(COST_ALLOCATION_DRIVER),
        slack_webhook_set=bool(env.get(SLACK_WEBHOOK_URL)),
        now=text(NOW),
        oncall_rotation=text(ONCALL_ROTATION),
        tick_budget_seconds=seconds(TICK_BUDGET_SECONDS),
        dagster_timeout_seconds={kind: int(text(var)) for kind, var in DAGSTER_TIMEOUT.items()},
        fault_inject=get(FAULT_INJECT),
        fault_inject_file=get(FAULT_INJECT_FILE),
    )


def kafka_values_outside_dagster(env: Mapping[str, str] | None = None) -> dict[str, object]:
    """The set Kafka fields with their values, credentials included, for the command-line ingest
    (``python -m pacific_assets.engagement.ingest``): outside Dagster nothing resolves
    ``dg.EnvVar``, so the values are read here, at the point of use, and held nowhere."""
    env = os.environ if env is None else env
    values: dict[str, object] = {f: env[v] for f, v in KAFKA_FIELDS.items() if env.get(v)}
    if env.get(KAFKA_BATCH_MAX_MESSAGES):
        values["batch_max_messages"] = int(env[KAFKA_BATCH_MAX_MESSAGES])
    return values
