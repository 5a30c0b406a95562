"""Every setting of claims-processor, from environment variables prefixed CLAIMS_."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from processor.models.claim import PlanType

ENV_PREFIX = "CLAIMS_"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    kafka_bootstrap: str = Field(
        "127.0.0.1:9092", description="Kafka bootstrap servers, host:port[,host:port]"
    )
    topic_prefix: str = Field(
        "", description="prepended to every topic name (several environments on one cluster)"
    )
    topic_replication_factor: int = Field(
        1, ge=1, description="replication factor for `topics apply`"
    )
    topics_file: Path | None = Field(
        None, description="the topic map (default: topics/topics.toml)"
    )
    codesets_dir: Path | None = Field(
        None, description="code-set directory (default: the shipped sample release)"
    )
    profiles_dir: Path | None = Field(
        None, description="extra payer profiles (*.toml) that add to or replace the built-ins"
    )
    app_id: str = Field(
        "claims-processor", min_length=1, description="faust app id = consumer group id"
    )
    web_host: str = Field("127.0.0.1", description="address of /metrics, /health, /ready")
    web_port: int = Field(6066, ge=1, le=65535, description="port of /metrics, /health, /ready")
    web_enabled: bool = Field(True, description="serve /metrics, /health and /ready")
    apply_topics: bool = Field(
        True, description="the worker creates/updates the declared topics at start"
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="log level")
    commit_interval: float = Field(1.0, gt=0, description="seconds between offset commits")
    broker_session_timeout: float = Field(
        30.0,
        ge=6,
        le=90,
        description="consumer session timeout, seconds: how long a worker that died and does "
        "not come back keeps its partitions (the broker allows 6-1800 s; faust requires at "
        "most its 90 s request timeout)",
    )
    producer_linger_ms: int = Field(5, ge=0, description="producer batching delay, milliseconds")
    batch_max: int = Field(
        500, ge=1, le=100_000, description="claims an agent takes from its stream at most at once"
    )
    batch_wait_ms: int = Field(
        5,
        ge=1,
        le=10_000,
        description="how long an agent waits to fill a batch before it processes what it has",
    )
    max_poll_records: int = Field(
        2000, ge=1, description="records the consumer hands over per fetch at most"
    )
    history_retention_days: int = Field(
        400,
        ge=1,
        description="claim history kept per patient, in days of service before the newest",
    )
    payer_plan_types: dict[str, PlanType] = Field(
        default_factory=dict,
        description="payer id -> plan_type for 837P and FHIR input, as JSON "
        '({"12345": "medicaid"}); otherwise SBR09 / Coverage.type decides',
    )
    x12_received_at: Literal["transaction", "ingest"] = Field(
        "transaction",
        description="received_at of an 837P claim: its transaction's BHT04/05, or the time "
        "the file is read",
    )
    # -- stream throughput
    workers: int = Field(
        0,
        ge=0,
        le=256,
        description="worker processes `claims-processor demo` and `bench` start, each with "
        "its own web port (0: one per core)",
    )

    def worker_count(self) -> int:
        """CLAIMS_WORKERS, or the number of cores when it is 0."""
        return self.workers or os.cpu_count() or 1

    # -- recovery and state
    worker_index: int = Field(
        0,
        ge=0,
        description="this worker process's number on its host (one per process): part of "
        "the default group instance id and of its state directory",
    )
    group_instance_id: str | None = Field(
        None,
        description="static group membership id, unique per worker process in the group "
        "(default: host name + '-' + CLAIMS_WORKER_INDEX); a worker restarted with the same "
        "id takes its partitions back at once; 'none' turns static membership off",
    )
    broker_heartbeat_interval: float = Field(
        3.0, gt=0, description="consumer heartbeat interval, seconds (under a third of the session)"
    )
    table_store: Literal["rocksdb", "memory"] = Field(
        "rocksdb",
        description="where the history table lives: rocksdb (local disk under CLAIMS_DATA_DIR, "
        "only the changelog's tail replayed at start) or memory (the whole changelog replayed "
        "at start, every patient's history held in the process)",
    )
    # Each standby reads every changelog record of the partitions it does not own: with two
    # workers about one record per claim more to fetch, decode and write to RocksDB (86 µs of
    # worker CPU and 65 µs of broker CPU per claim measured, README "Performance"). Off by
    # default: a worker restarted with its instance id keeps its partitions and local state
    # either way; only a takeover of a worker gone for good replays the changelog first.
    table_standby_replicas: int = Field(
        0,
        ge=0,
        le=8,
        description="standby copies of each history partition kept by other workers (read "
        "from the changelog as it is written), so that a worker taking over a dead one's "
        "partitions need not replay their changelog first",
    )
    data_dir: Path = Field(
        Path("claims-processor-data"),
        description="local state (the RocksDB history table); each worker process uses "
        "its own folder in it, named by its group instance id",
    )
    history_sweep_hours: float = Field(
        24.0,
        gt=0,
        description="how often a worker removes the history of patients with no date of "
        "service within CLAIMS_HISTORY_RETENTION_DAYS before today (tombstones in the changelog)",
    )
    # -- stream throughput
    # Measured on a local broker (README "Performance"): lz4 or zstd over batches of up to
    # 256 KiB cut the bytes written about 18-fold for results (7-fold for inputs) but save no
    # CPU, the worker's or the broker's (which decompresses every batch to validate it): off
    # by default; worth turning on where bytes cost (a broker across the network, replicas,
    # retention).
    producer_compression: Literal["none", "gzip", "lz4", "zstd", "snappy"] = Field(
        "none",
        description="compression of the records the worker produces (claims.enriched, the "
        "outputs, dead letters, the history changelog); consumers of these topics need the "
        "codec (Java clients have it; Python ones need aiokafka[lz4])",
    )
    producer_batch_bytes: int = Field(
        262_144,
        ge=1024,
        le=900_000,
        description="uncompressed bytes of records the producer puts in one batch per partition "
        "at most (below the broker's 1 MB limit a batch); a result is about 6 KB",
    )

    def instance_id(self) -> str | None:
        """The static group membership id of this process, None when turned off."""
        if self.group_instance_id is not None:
            chosen = self.group_instance_id.strip()
            return None if chosen.lower() in ("", "none", "off") else chosen
        return f"{socket.gethostname()}-{self.worker_index}"

    @model_validator(mode="after")
    def _heartbeat_within_session(self) -> Settings:
        if self.broker_heartbeat_interval * 3 > self.broker_session_timeout:
            raise ValueError(
                "CLAIMS_BROKER_HEARTBEAT_INTERVAL must be at most a third of "
                "CLAIMS_BROKER_SESSION_TIMEOUT"
            )
        return self


class SettingsError(ValueError):
    """A setting that cannot be used; the message names the environment variable."""


def load_settings(**overrides: object) -> Settings:
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        parts = []
        for error in exc.errors(include_url=False):
            if error["loc"]:
                parts.append(f"{ENV_PREFIX}{str(error['loc'][0]).upper()}: {error['msg']}")
            else:  # a rule over several settings names them itself
                parts.append(str(error["msg"]).removeprefix("Value error, "))
        raise SettingsError("; ".join(parts)) from None


def describe_settings() -> list[tuple[str, str, str]]:
    """(variable, default, description) for the README and `claims-processor settings`."""
    rows = []
    for name, field in Settings.model_fields.items():
        default = "" if field.default is None else str(field.default)
        rows.append((f"{ENV_PREFIX}{name.upper()}", default, field.description or ""))
    return rows
