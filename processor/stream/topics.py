"""The declared topic map (topics/topics.toml) and applying it to a cluster."""

from __future__ import annotations

import asyncio
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from aiokafka.admin import AIOKafkaAdminClient, NewPartitions, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from processor.settings import Settings

Role = Literal["submitted", "enriched", "clean", "risk", "dlq", "codeset_releases"]
ROLES: tuple[Role, ...] = ("submitted", "enriched", "clean", "risk", "dlq", "codeset_releases")
_PACKAGED = Path(__file__).with_name("topics.toml")  # in a wheel
_REPO = Path(__file__).resolve().parents[2] / "topics" / "topics.toml"  # in a checkout
_TOPIC_ALREADY_EXISTS = 36


class TopicMapError(ValueError):
    """A topic map that cannot be used; names the file and the topic."""


@dataclass(frozen=True)
class TopicSpec:
    role: Role
    name: str  # with the prefix
    partitions: int
    cleanup_policy: Literal["delete", "compact"]
    retention_ms: int | None
    key: str
    value: str
    extra_configs: dict[str, str] = field(default_factory=dict)

    def configs(self) -> dict[str, str]:
        configs = {"cleanup.policy": self.cleanup_policy, **self.extra_configs}
        if self.retention_ms is not None:
            configs["retention.ms"] = str(self.retention_ms)
        return configs


def topics_file(settings: Settings) -> Path:
    if settings.topics_file is not None:
        return settings.topics_file
    return _REPO if _REPO.is_file() else _PACKAGED


def load_topics(settings: Settings) -> dict[Role, TopicSpec]:
    path = topics_file(settings)
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TopicMapError(f"{path}: no such file (CLAIMS_TOPICS_FILE)") from None
    except tomllib.TOMLDecodeError as exc:
        raise TopicMapError(f"{path}: {exc}") from None
    declared: dict[str, Any] = document.get("topics", {})
    specs: dict[Role, TopicSpec] = {}
    for role in ROLES:
        entry = declared.get(role)
        where = f"{path}: [topics.{role}]"
        if not isinstance(entry, dict):
            raise TopicMapError(f"{where} is missing")
        try:
            partitions = int(entry["partitions"])
            name = str(entry["name"])
        except (KeyError, TypeError, ValueError) as exc:
            raise TopicMapError(
                f"{where}: needs name and a whole number of partitions ({exc})"
            ) from None
        policy = entry.get("cleanup_policy", "delete")
        if policy not in ("delete", "compact") or partitions < 1:
            raise TopicMapError(
                f"{where}: cleanup_policy must be delete or compact, partitions >= 1"
            )
        retention = entry.get("retention_ms")
        specs[role] = TopicSpec(
            role=role,
            name=settings.topic_prefix + name,
            partitions=partitions,
            cleanup_policy=policy,
            retention_ms=int(retention) if retention is not None else None,
            key=str(entry.get("key", "")),
            value=str(entry.get("value", "")),
            extra_configs={k: str(v) for k, v in entry.get("configs", {}).items()},
        )
    unknown = set(declared) - set(ROLES)
    if unknown:
        raise TopicMapError(f"{path}: unknown topic role(s) {sorted(unknown)}")
    if specs["enriched"].partitions != specs["submitted"].partitions:
        raise TopicMapError(f"{path}: enriched must have as many partitions as submitted")
    return specs


@dataclass
class TopicState:
    name: str
    exists: bool
    partitions: int | None = None
    configs: dict[str, str] = field(default_factory=dict)


async def describe(admin: AIOKafkaAdminClient, specs: list[TopicSpec]) -> dict[str, TopicState]:
    existing = set(await admin.list_topics())
    states = {s.name: TopicState(s.name, s.name in existing) for s in specs}
    present = [s for s in specs if s.name in existing]
    if not present:
        return states
    for topic in await admin.describe_topics([s.name for s in present]):
        states[topic["topic"]].partitions = len(topic["partitions"])
    resources = [ConfigResource(ConfigResourceType.TOPIC, s.name) for s in present]
    for response in await admin.describe_configs(resources):
        for resource in response.resources:
            name, entries = resource[3], resource[4]
            states[name].configs = {entry[0]: entry[1] for entry in entries}
    return states


async def _create_missing(
    admin: AIOKafkaAdminClient, settings: Settings, missing: list[TopicSpec]
) -> tuple[list[TopicSpec], list[TopicSpec]]:
    """Create topics; returns (created, already there). A topic another client created
    meanwhile (or whose metadata had not reached us) answers TOPIC_ALREADY_EXISTS."""
    response = await admin.create_topics(
        [
            NewTopic(
                s.name, s.partitions, settings.topic_replication_factor, topic_configs=s.configs()
            )
            for s in missing
        ]
    )
    codes = {name: code for name, code, *_ in response.topic_errors}
    created, existing = [], []
    for spec in missing:
        code = codes.get(spec.name, 0)
        if code == 0:
            created.append(spec)
        elif code == _TOPIC_ALREADY_EXISTS:
            existing.append(spec)
        else:
            raise RuntimeError(f"creating {spec.name} failed: Kafka error code {code}")
    return created, existing


async def apply(settings: Settings, specs: list[TopicSpec]) -> list[tuple[str, str]]:
    """Create missing topics, add partitions, set declared configs. Idempotent. Returns
    (topic, what was done) per topic. Partitions are never reduced (Kafka cannot)."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=settings.kafka_bootstrap, request_timeout_ms=15000
    )
    await admin.start()
    try:
        states = await describe(admin, specs)
        done: dict[str, list[str]] = {s.name: [] for s in specs}
        missing = [s for s in specs if not states[s.name].exists]
        if missing:
            created, existing = await _create_missing(admin, settings, missing)
            for spec in created:
                done[spec.name].append(f"created ({spec.partitions} partitions)")
            if existing:
                states.update(await _describe_when_visible(admin, existing))
        for spec in specs:
            state = states[spec.name]
            if not state.exists:
                continue
            if state.partitions is not None and state.partitions < spec.partitions:
                await admin.create_partitions({spec.name: NewPartitions(spec.partitions)})
                done[spec.name].append(f"partitions {state.partitions} -> {spec.partitions}")
            elif state.partitions is not None and state.partitions > spec.partitions:
                done[spec.name].append(
                    f"has {state.partitions} partitions, more than the declared "
                    f"{spec.partitions} (Kafka cannot reduce; left as is)"
                )
            wanted = spec.configs()
            if any(state.configs.get(k) != v for k, v in wanted.items()):
                await admin.alter_configs(
                    [ConfigResource(ConfigResourceType.TOPIC, spec.name, wanted)]
                )
                done[spec.name].append("configs updated")
        return [(s.name, "; ".join(done[s.name]) or "unchanged") for s in specs]
    finally:
        await admin.close()


async def _describe_when_visible(
    admin: AIOKafkaAdminClient, specs: list[TopicSpec], timeout: float = 10.0
) -> dict[str, TopicState]:
    """Describe topics that exist but whose metadata may still be on its way to us."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        states = await describe(admin, specs)
        if all(state.exists for state in states.values()):
            return states
        if asyncio.get_running_loop().time() > deadline:
            raise RuntimeError(
                f"topics {sorted(n for n, s in states.items() if not s.exists)} "
                "exist but their metadata did not arrive"
            )
        await asyncio.sleep(0.2)


async def status(settings: Settings, specs: list[TopicSpec]) -> dict[str, TopicState]:
    admin = AIOKafkaAdminClient(
        bootstrap_servers=settings.kafka_bootstrap, request_timeout_ms=15000
    )
    await admin.start()
    try:
        return await describe(admin, specs)
    finally:
        await admin.close()
