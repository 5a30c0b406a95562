"""`claims-processor scrub`: the core over a JSON Lines file, no Kafka."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections import Counter
from pathlib import Path
from typing import IO, Any

from processor.cli.common import CommandError
from processor.history import InMemoryHistory
from processor.models import DeadLetter
from processor.scrubber import Scrubber, Source, build_scrubber
from processor.settings import Settings


def _count_lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(1 for _ in handle)


def scrub_file(
    scrubber: Scrubber, input_path: Path, output: IO[bytes], *, progress: bool
) -> dict[str, object]:
    """One output line per input line, in input order. Returns the summary."""
    routes: Counter[str] = Counter()
    findings: Counter[str] = Counter()
    total = _count_lines(input_path) if progress else None
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=total, unit="claim", file=sys.stderr, dynamic_ncols=True)
    # History is kept across the file the way the worker keeps it across the stream.
    history = InMemoryHistory()
    started = time.perf_counter()
    with input_path.open("rb") as handle:
        for line_no, line in enumerate(handle, start=1):
            raw = line.rstrip(b"\r\n")
            # A file's line stands where a Kafka position would: topic = file, offset = line.
            outcome, written = scrubber.scrub_to_bytes(
                raw, source=Source(str(input_path), None, line_no), history=history
            )
            if isinstance(outcome, DeadLetter):
                routes["dead_letter"] += 1
            else:
                routes[outcome.route] += 1
                findings.update(f"{f.edit_id} ({f.disposition})" for f in outcome.findings)
            output.write(written)
            output.write(b"\n")
            if bar is not None:
                bar.update(1)
    if bar is not None:
        bar.close()
    elapsed = time.perf_counter() - started
    count = sum(routes.values())
    return {
        "lines": count,
        "clean": routes["clean"],
        "risk": routes["risk"],
        "dead_letter": routes["dead_letter"],
        "top_findings": findings.most_common(10),
        "seconds": elapsed,
        "claims_per_s": count / elapsed if elapsed > 0 else 0.0,
    }


def format_summary(summary: dict[str, object]) -> str:
    lines = [
        f"scrubbed {summary['lines']} lines in {summary['seconds']:.2f}s "
        f"({summary['claims_per_s']:.0f} claims/s): clean {summary['clean']}, "
        f"risk {summary['risk']}, dead letter {summary['dead_letter']}"
    ]
    top = summary["top_findings"]
    assert isinstance(top, list)
    if top:
        lines.append("top findings:")
        lines += [f"  {count:6d}  {name}" for name, count in top]
    return "\n".join(lines)


def cmd_scrub(settings: Settings, args: argparse.Namespace) -> int:
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


def register(commands: Any) -> None:
    scrub = commands.add_parser("scrub", help="scrub a JSON Lines file of claims, no Kafka")
    scrub.add_argument("input", help="claims, one JSON object per line")
    scrub.add_argument(
        "--codesets", help="code-set directory (default: CLAIMS_CODESETS_DIR or the sample)"
    )
    scrub.add_argument("--profiles", help="extra payer profiles directory")
    scrub.add_argument("--output", "-o", help="write results here instead of standard output")
    scrub.add_argument("--quiet", "-q", action="store_true", help="no progress bar, no summary")
    scrub.set_defaults(run=cmd_scrub)
