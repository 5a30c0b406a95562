"""`worker`, `produce`, `topics`: the commands that talk to Kafka."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from processor.cli.common import CommandError
from processor.settings import Settings
from processor.stream.topics import load_topics
from processor.text_table import text_table


def cmd_worker(settings: Settings, args: argparse.Namespace) -> int:
    from processor.stream.app import run_worker

    run_worker(settings)
    return 0


def cmd_produce(settings: Settings, args: argparse.Namespace) -> int:
    from processor.stream.produce import produce_file

    path = Path(args.file)
    if not path.is_file():
        raise CommandError(f"{path}: no such file")
    topic = args.topic or load_topics(settings)["submitted"].name
    messages, problems = _interchange_claims(settings, path)
    produced = asyncio.run(
        produce_file(settings.kafka_bootstrap, topic, path, rate=args.rate, messages=messages)
    )
    print(
        f"produced {produced.count} messages to {topic} in {produced.seconds:.2f}s"
        + (f" (skipped {produced.skipped_blank} blank lines)" if produced.skipped_blank else ""),
        file=sys.stderr,
    )
    for problem in problems:
        print(f"  not published: {problem}", file=sys.stderr)
    # Claims an 837P holds but that could not be read as claim events: the job is not done.
    return 1 if problems else 0


def _interchange_claims(settings: Settings, path: Path) -> tuple[list[bytes] | None, list[str]]:
    """An 837P file's claims as claim events (None for a JSON Lines file)."""
    from processor.formats import is_interchange

    with path.open("rb") as handle:
        if not is_interchange(handle.read(512)):
            return None, []
    from processor.cli.scrub_x12 import X12Error, interchange_messages, read_options

    try:
        return interchange_messages(path, read_options(settings))
    except X12Error as exc:
        raise CommandError(f"{path}: {exc}") from exc


def cmd_topics(settings: Settings, args: argparse.Namespace) -> int:
    from processor.stream.topics import apply, status

    specs = list(load_topics(settings).values())
    if args.action == "apply":
        for name, action in asyncio.run(apply(settings, specs)):
            print(f"{name}: {action}")
        return 0
    states = asyncio.run(status(settings, specs))
    rows = [("topic", "declared", "actual", "cleanup", "retention.ms", "state")]
    drift = False
    for spec in specs:
        state = states[spec.name]
        wanted = spec.configs()
        ok = (
            state.exists
            and state.partitions == spec.partitions
            and all(state.configs.get(k) == v for k, v in wanted.items())
        )
        drift |= not ok
        rows.append(
            (
                spec.name,
                str(spec.partitions),
                str(state.partitions) if state.exists else "-",
                state.configs.get("cleanup.policy", "-"),
                state.configs.get("retention.ms", "-"),
                "ok" if ok else ("missing" if not state.exists else "differs"),
            )
        )
    print("\n".join(text_table(rows)))
    return 1 if drift and args.check else 0


def register(commands: Any) -> None:
    commands.add_parser(
        "worker", help="run the streaming worker (faust) until stopped"
    ).set_defaults(run=cmd_worker)

    produce = commands.add_parser(
        "produce",
        help="publish a JSON Lines file, or the claims of an 837P file, to the input topic",
    )
    produce.add_argument("file")
    produce.add_argument(
        "--rate", type=float, help="messages per second (default: as fast as possible)"
    )
    produce.add_argument("--topic", help="topic (default: the declared claims.submitted)")
    produce.set_defaults(run=cmd_produce)

    topics = commands.add_parser("topics", help="apply or list the declared topics")
    topics.add_argument("action", choices=["apply", "list"])
    topics.add_argument(
        "--check", action="store_true", help="with list: exit 1 when a topic differs"
    )
    topics.set_defaults(run=cmd_topics)
