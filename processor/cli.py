"""The `claims-processor` command."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from processor import __version__
from processor.codesets import CodeSetError
from processor.profiles import ProfileError
from processor.settings import Settings, SettingsError, describe_settings, load_settings
from processor.topics import TopicMapError, load_topics

EXIT_USAGE = 2


class CommandError(Exception):
    """A command could not do its job; the message says why."""


def _configure_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def cmd_worker(settings: Settings, args: argparse.Namespace) -> int:
    import faust

    from processor.runtime import build_scrubber
    from processor.stream.app import create_app
    from processor.topics import apply

    specs = load_topics(settings)
    scrubber = build_scrubber(settings)
    if settings.apply_topics:
        for name, action in asyncio.run(apply(settings, list(specs.values()))):
            logging.getLogger("processor").info("topic %s: %s", name, action)
    stream = create_app(settings, scrubber, specs)
    worker = faust.Worker(
        stream.app, loglevel=settings.log_level.lower(), quiet=True, override_logging=False
    )
    worker.execute_from_commandline()
    return 0


def cmd_scrub(settings: Settings, args: argparse.Namespace) -> int:
    from processor.runtime import build_scrubber
    from processor.scrub import format_summary, scrub_file

    input_path = Path(args.input)
    if not input_path.is_file():
        raise CommandError(f"{input_path}: no such file")
    overrides = {}
    if args.codesets:
        overrides["codesets_dir"] = args.codesets
    if args.profiles:
        overrides["profiles_dir"] = args.profiles
    if overrides:
        settings = settings.model_copy(update=overrides)
    if args.quiet:
        logging.getLogger().setLevel(logging.WARNING)
    scrubber = build_scrubber(settings)
    progress = sys.stderr.isatty() and not args.quiet
    if args.output:
        with open(args.output, "wb") as output:
            summary = scrub_file(scrubber, input_path, output, progress=progress)
    else:
        summary = scrub_file(scrubber, input_path, sys.stdout.buffer, progress=progress)
        sys.stdout.flush()
    if not args.quiet:
        print(format_summary(summary), file=sys.stderr)
    return 0


def cmd_produce(settings: Settings, args: argparse.Namespace) -> int:
    from processor.produce import produce_file

    path = Path(args.file)
    if not path.is_file():
        raise CommandError(f"{path}: no such file")
    topic = args.topic or load_topics(settings)["submitted"].name
    produced = asyncio.run(produce_file(settings.kafka_bootstrap, topic, path, rate=args.rate))
    print(
        f"produced {produced.count} messages to {topic} in {produced.seconds:.2f}s"
        + (f" (skipped {produced.skipped_blank} blank lines)" if produced.skipped_blank else ""),
        file=sys.stderr,
    )
    return 0


def cmd_topics(settings: Settings, args: argparse.Namespace) -> int:
    from processor.topics import apply, status

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
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    return 1 if drift and args.check else 0


def cmd_settings(settings: Settings, args: argparse.Namespace) -> int:
    current = settings.model_dump()
    for variable, default, description in describe_settings():
        name = variable.removeprefix("CLAIMS_").lower()
        print(
            f"{variable}={current[name] if current[name] is not None else ''}\n    {description}"
            f" (default: {default or 'unset'})"
        )
    return 0


def cmd_codesets(settings: Settings, args: argparse.Namespace) -> int:
    from datetime import date

    from processor.codesets import load_codesets
    from processor.codesets.build import build_store, summarise
    from processor.codesets.importers import ImportError_
    from processor.codesets.report import diff_releases, format_diff, list_releases, show_code

    # Positional arguments by action: build SOURCE, show CODE, diff A B, publish STORE.
    args.source, args.code = args.a, args.a
    if args.action == "publish":
        args.store = args.a or args.store or settings.codesets_dir
        if not args.store:
            raise CommandError("codesets publish needs the STORE (or CLAIMS_CODESETS_DIR)")
    if args.action == "build":
        if not args.source or not args.out:
            raise CommandError("codesets build needs SOURCE_DIR and --out STORE")
        try:
            report = build_store(
                Path(args.source),
                Path(args.out),
                progress=None if args.quiet else lambda m: print(m, file=sys.stderr),
            )
        except ImportError_ as exc:
            raise CommandError(str(exc)) from None
        print(summarise(report.releases))
        print(
            f"\n{len(report.releases)} releases in {report.seconds:.1f}s -> {args.out}; "
            f"{len(report.skipped)} files not code-set tables (listed in manifest.json)",
            file=sys.stderr,
        )
        return 0
    if args.action == "publish":
        from processor.stream.releases import publish_store

        published = asyncio.run(publish_store(settings, Path(args.store)))
        for line in published:
            print(line)
        return 0
    store = args.store or settings.codesets_dir
    started = time.perf_counter()
    codesets = load_codesets(store)
    loaded_in = time.perf_counter() - started
    if args.action == "list":
        import resource

        print(list_releases(codesets))
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"\n{len(codesets.all_releases())} releases loaded in {loaded_in:.2f}s "
            f"(peak resident memory {rss:.0f} MB) from {store or 'the shipped sample'}",
            file=sys.stderr,
        )
    elif args.action == "show":
        if not args.code:
            raise CommandError("codesets show needs a CODE")
        try:
            on = date.fromisoformat(args.date) if args.date else date.today()
        except ValueError:
            raise CommandError(f"--date {args.date!r} is not an ISO date (YYYY-MM-DD)") from None
        print(json.dumps(show_code(codesets, args.code.upper(), on), indent=2, default=str))
    elif args.action == "diff":
        if not (args.a and args.b):
            raise CommandError(
                "codesets diff needs two releases, KIND:RELEASE KIND:RELEASE "
                "(e.g. hcpcs:2020-10 hcpcs:2026-01)"
            )
        found = []
        for spec in (args.a, args.b):
            kind, _, release_id = spec.partition(":")
            release = codesets.find(kind, release_id)
            if release is None:
                raise CommandError(f"no release {spec!r} in the code sets (see `codesets list`)")
            found.append(release)
        try:
            print(format_diff(diff_releases(found[0], found[1]), limit=args.limit))
        except ValueError as exc:
            raise CommandError(str(exc)) from None
    return 0


def cmd_edits(settings: Settings, args: argparse.Namespace) -> int:
    from processor.profiles import load_ruleset

    ruleset = load_ruleset(settings.profiles_dir)
    if args.profile not in ruleset.profiles:
        raise CommandError(
            f"no profile {args.profile!r} (have: {', '.join(sorted(ruleset.profiles))})"
        )
    profile = ruleset.profiles[args.profile]
    rows: list[dict[str, Any]] = []
    for active in profile.edits:
        spec = active.spec
        rows.append(
            {
                "edit_id": spec.edit_id,
                "name": spec.name,
                "stage": spec.stage,
                "category": spec.category,
                "level": spec.level,
                "disposition": spec.disposition,
                "group_code": spec.group_code,
                "carc": spec.carc,
                "rarc": list(spec.rarc),
                "appealable": spec.appealable,
                "parameters": dict(spec.parameters),
                "enabled": True,
            }
        )
    for edit_id in profile.disabled:
        rows.append({"edit_id": edit_id, "enabled": False})
    if args.json:
        print(
            json.dumps(
                {
                    "profile": profile.name,
                    "plan_types": list(profile.plan_types),
                    "ruleset_version": ruleset.version,
                    "edits": rows,
                },
                indent=2,
            )
        )
        return 0
    table = [("edit", "category", "level", "disposition", "CARC/RARC", "appeal", "parameters")]
    for row in rows:
        if not row["enabled"]:
            table.append((str(row["edit_id"]), "", "", "off (profile)", "", "", ""))
            continue
        codes = (
            "/".join(
                filter(
                    None,
                    [
                        f"{row['group_code'] or ''}-{row['carc']}" if row["carc"] else "",
                        ",".join(row["rarc"]),
                    ],
                )
            )
            or "-"
        )
        params = ", ".join(f"{k}={v}" for k, v in row["parameters"].items())
        table.append(
            (
                row["edit_id"],
                row["category"],
                row["level"],
                row["disposition"],
                codes,
                "yes" if row["appealable"] else "no",
                params,
            )
        )
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    print(
        f"profile {profile.name} (plan types {', '.join(profile.plan_types)}; rule set {ruleset.version})"
    )
    for line in table:
        print("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip())
    return 0


def cmd_generate(settings: Settings, args: argparse.Namespace) -> int:
    from processor.codesets import load_codesets
    from processor.generate import ClaimGenerator

    if args.count < 1:
        raise CommandError("generate needs a count of 1 or more")
    generator = ClaimGenerator(
        load_codesets(settings.codesets_dir), seed=args.seed, errors=args.errors
    )
    out = sys.stdout.buffer
    for raw in generator.messages(args.count):
        out.write(raw + b"\n")
    out.flush()
    return 0


def cmd_bench(settings: Settings, args: argparse.Namespace) -> int:
    from processor.bench import format_table, run_bench

    logging.getLogger().setLevel(logging.WARNING)
    result = run_bench(settings, args.claims, kafka=not args.engine_only, seed=args.seed)
    print(json.dumps(result, indent=2) if args.json else format_table(result))
    return 0


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    from processor.demo import run_demo

    return run_demo(
        settings,
        keep=args.keep or os.environ.get("KEEP") == "1",
        claims_file=Path(args.claims) if args.claims else None,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="claims-processor",
        description="Scrub professional medical claims before they reach a payer. "
        "Settings come from CLAIMS_* environment variables (see `claims-processor settings`).",
    )
    parser.add_argument("--version", action="version", version=f"claims-processor {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    commands.add_parser("worker", help="run the streaming worker (faust) until stopped")

    scrub = commands.add_parser("scrub", help="scrub a JSON Lines file of claims, no Kafka")
    scrub.add_argument("input", help="claims, one JSON object per line")
    scrub.add_argument(
        "--codesets", help="code-set directory (default: CLAIMS_CODESETS_DIR or the sample)"
    )
    scrub.add_argument("--profiles", help="extra payer profiles directory")
    scrub.add_argument("--output", "-o", help="write results here instead of standard output")
    scrub.add_argument("--quiet", "-q", action="store_true", help="no progress bar, no summary")

    produce = commands.add_parser("produce", help="publish a JSON Lines file to the input topic")
    produce.add_argument("file")
    produce.add_argument(
        "--rate", type=float, help="messages per second (default: as fast as possible)"
    )
    produce.add_argument("--topic", help="topic (default: the declared claims.submitted)")

    topics = commands.add_parser("topics", help="apply or list the declared topics")
    topics.add_argument("action", choices=["apply", "list"])
    topics.add_argument(
        "--check", action="store_true", help="with list: exit 1 when a topic differs"
    )

    commands.add_parser("settings", help="show every setting, its value and what it does")

    edits = commands.add_parser("edits", help="the edit catalogue as it applies under a profile")
    edits.add_argument("action", choices=["list"])
    edits.add_argument("--profile", default="medicare", help="profile name (default: medicare)")
    edits.add_argument("--json", action="store_true", help="machine-readable")

    generate = commands.add_parser("generate", help="synthetic claims (JSON Lines) for benchmarks")
    generate.add_argument("count", type=int)
    generate.add_argument("--seed", type=int, default=7)
    generate.add_argument(
        "--errors", type=float, default=0.15, help="share of claims with a deliberate error"
    )

    bench = commands.add_parser(
        "bench", help="engine, end-to-end and passthrough throughput, latency, memory"
    )
    bench.add_argument("--claims", type=int, default=20000)
    bench.add_argument("--json", action="store_true")
    bench.add_argument("--engine-only", action="store_true", help="no Kafka: the core alone")
    bench.add_argument("--seed", type=int, default=7)

    codesets = commands.add_parser("codesets", help="build, inspect and publish code-set releases")
    codesets.add_argument("action", choices=["build", "list", "show", "diff", "publish"])
    codesets.add_argument(
        "a", nargs="?", help="build: SOURCE_DIR; show: CODE; diff: KIND:RELEASE; publish: STORE"
    )
    codesets.add_argument("b", nargs="?", help="diff: the second KIND:RELEASE")
    codesets.add_argument("--out", help="build: the store to write")
    codesets.add_argument(
        "--store", help="list/show/diff: the store (default: CLAIMS_CODESETS_DIR or the sample)"
    )
    codesets.add_argument("--date", help="show: the date of service (default: today)")
    codesets.add_argument("--limit", type=int, default=50, help="diff: codes listed per section")
    codesets.add_argument("--quiet", "-q", action="store_true")

    demo = commands.add_parser("demo", help="local Kafka + worker + sample claims, then a summary")
    demo.add_argument(
        "--keep", action="store_true", help="leave Kafka and the worker running (KEEP=1)"
    )
    demo.add_argument(
        "--claims", help="claims file to stream (default: examples/demo-claims.jsonl)"
    )
    return parser


_COMMANDS = {
    "worker": cmd_worker,
    "scrub": cmd_scrub,
    "produce": cmd_produce,
    "topics": cmd_topics,
    "settings": cmd_settings,
    "codesets": cmd_codesets,
    "edits": cmd_edits,
    "generate": cmd_generate,
    "bench": cmd_bench,
    "demo": cmd_demo,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
        _configure_logging(settings.log_level)
        return _COMMANDS[args.command](settings, args)
    except (SettingsError, CodeSetError, ProfileError, TopicMapError, CommandError) as exc:
        print(f"claims-processor {args.command}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except OSError as exc:
        print(f"claims-processor {args.command}: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # Kafka unreachable and the like: say so, exit non-zero
        if type(exc).__module__.startswith(("aiokafka", "kafka")):
            print(
                f"claims-processor {args.command}: Kafka: {type(exc).__name__}: {exc}",
                file=sys.stderr,
            )
            return 1
        raise


if __name__ == "__main__":
    sys.exit(main())
