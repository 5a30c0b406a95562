"""`generate`, `bench`, `demo`: the developer tooling."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

from processor.cli.common import CommandError
from processor.settings import Settings


def cmd_generate(settings: Settings, args: argparse.Namespace) -> int:
    from processor.codesets import load_codesets
    from processor.devtools.generator import ClaimGenerator

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


def cmd_bench_837p(settings: Settings, args: argparse.Namespace) -> int:
    from processor.devtools.x12_bench import format_rows, run

    print(format_rows(run(args.claims, Path(args.file) if args.file else None)))
    return 0


def cmd_bench(settings: Settings, args: argparse.Namespace) -> int:
    from processor.devtools.bench import format_table, run_bench

    logging.getLogger().setLevel(logging.WARNING)
    result = run_bench(settings, args.claims, kafka=not args.engine_only, seed=args.seed)
    print(json.dumps(result, indent=2) if args.json else format_table(result))
    return 0


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    from processor.devtools.demo import run_demo

    return run_demo(
        settings,
        keep=args.keep or os.environ.get("KEEP") == "1",
        claims_file=Path(args.claims) if args.claims else None,
    )


def register(commands: Any) -> None:
    generate = commands.add_parser("generate", help="synthetic claims (JSON Lines) for benchmarks")
    generate.add_argument("count", type=int)
    generate.add_argument("--seed", type=int, default=7)
    generate.add_argument(
        "--errors", type=float, default=0.15, help="share of claims with a deliberate error"
    )
    generate.set_defaults(run=cmd_generate)

    bench = commands.add_parser(
        "bench", help="engine, end-to-end and passthrough throughput, latency, memory"
    )
    bench.add_argument("--claims", type=int, default=20000)
    bench.add_argument("--json", action="store_true")
    bench.add_argument("--engine-only", action="store_true", help="no Kafka: the core alone")
    bench.add_argument("--seed", type=int, default=7)
    bench.set_defaults(run=cmd_bench)

    bench_837p = commands.add_parser(
        "bench-837p", help="837P parse speed (claims per CPU-second) and peak memory"
    )
    bench_837p.add_argument("--claims", type=int, default=50_000)
    bench_837p.add_argument("--file", help="an 837P file to parse instead of a generated one")
    bench_837p.set_defaults(run=cmd_bench_837p)

    demo = commands.add_parser("demo", help="local Kafka + worker + sample claims, then a summary")
    demo.add_argument(
        "--keep", action="store_true", help="leave Kafka and the worker running (KEEP=1)"
    )
    demo.add_argument(
        "--claims", help="claims file to stream (default: examples/demo-claims.jsonl)"
    )
    demo.set_defaults(run=cmd_demo)
