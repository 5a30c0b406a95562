"""`claims-processor scrub`: the core over a JSON Lines file, no Kafka."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections import Counter
from pathlib import Path
from typing import IO, Any

import orjson

from processor.cli.common import CommandError
from processor.collector import settle_collector
from processor.history import InMemoryHistory
from processor.models import DeadLetter
from processor.scrubber import Scrubber, Source, build_scrubber
from processor.settings import Settings


def count_lines(path: Path, chunk: int = 1 << 20) -> tuple[int, list[int]]:
    """The file's number of lines as iterating it gives them (the last may have no
    newline), and the newlines in each `chunk` bytes of it: counted a megabyte at a time,
    a few milliseconds for 100,000 claims."""
    counts: list[int] = []
    last = b"\n"
    with path.open("rb", buffering=0) as handle:
        while data := handle.read(chunk):
            counts.append(data.count(b"\n"))
            last = data[-1:]
    return sum(counts) + (last != b"\n"), counts


# Bytes of output lines gathered before one write (and of input read at once). At the
# default 8 KB, the output's lines of about 4 KB were written a line or two at a time,
# 4-7 us a write: 7% of a `--jobs` process's samples in py-spy.
OUTPUT_BUFFER = 1 << 20


def scrub_file(
    scrubber: Scrubber,
    input_path: Path,
    output: IO[bytes],
    *,
    progress: bool,
    messages: list[bytes] | None = None,
) -> dict[str, object]:
    """One output line per input line (or per message of `messages`, read from the file),
    in input order. Returns the summary."""
    routes: Counter[str] = Counter()
    findings: Counter[str] = Counter()
    total = (
        (len(messages) if messages is not None else count_lines(input_path)[0])
        if progress
        else None
    )
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=total, unit="claim", file=sys.stderr, dynamic_ncols=True)
    # History is kept across the file the way the worker keeps it across the stream.
    history = InMemoryHistory()
    started = time.perf_counter()
    with input_path.open("rb", buffering=OUTPUT_BUFFER) as handle:
        for line_no, line in enumerate(handle if messages is None else messages, start=1):
            raw = line.rstrip(b"\r\n")
            # A file's line stands where a Kafka position would: topic = file, offset = line.
            written = scrub_counted(
                scrubber, raw, Source(str(input_path), None, line_no), history, routes, findings
            )
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
        "top_findings": top_findings(findings),
        "seconds": elapsed,
        "claims_per_s": count / elapsed if elapsed > 0 else 0.0,
    }


def scrub_counted(
    scrubber: Scrubber,
    raw: bytes,
    source: Source,
    history: InMemoryHistory,
    routes: Counter[str],
    findings: Counter[str],
) -> bytes:
    """One line through the core (`Scrubber.scrub_to_bytes`: never raises), counted into the
    summary's routes and findings; returns the output line's bytes."""
    outcome, written = scrubber.scrub_to_bytes(raw, source=source, history=history)
    if isinstance(outcome, DeadLetter):
        routes["dead_letter"] += 1
    else:
        routes[outcome.route] += 1
        findings.update(f"{f.edit_id} ({f.disposition})" for f in outcome.findings)
    return written


def top_findings(findings: Counter[str], count: int = 10) -> list[tuple[str, int]]:
    """The most frequent findings, ties by name (the same however the file was split)."""
    return sorted(findings.items(), key=lambda item: (-item[1], item[0]))[:count]


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
    if not 1 <= args.jobs <= 256:
        raise CommandError(f"--jobs {args.jobs}: needs 1 to 256 processes")
    scrubber = build_scrubber(settings)
    settle_collector()  # before any fork: --jobs processes inherit it
    if _is_interchange(input_path):
        return _scrub_x12(settings, scrubber, input_path, args)
    if args.acks:
        raise CommandError(f"{input_path}: --acks answers an X12 interchange; this is not one")
    progress = sys.stderr.isatty() and not args.quiet
    messages = _fhir_resources(input_path)

    def run(output: IO[bytes]) -> dict[str, object]:
        if args.jobs == 1 or messages is not None:
            return scrub_file(scrubber, input_path, output, progress=progress, messages=messages)
        from processor.cli.scrub_parallel import scrub_file_parallel

        return scrub_file_parallel(scrubber, input_path, output, progress=progress, jobs=args.jobs)

    if args.output:
        with open(args.output, "wb", buffering=OUTPUT_BUFFER) as output:
            summary = run(output)
    else:
        summary = run(sys.stdout.buffer)
        sys.stdout.flush()
    if not args.quiet:
        print(format_summary(summary), file=sys.stderr)
    return 0


def _fhir_resources(path: Path) -> list[bytes] | None:
    """A file holding one FHIR resource (a Claim, or a Bundle of them) as one JSON document,
    pretty-printed or not: its Claims, one message each. None for JSON Lines."""
    with path.open("rb") as handle:
        head = handle.read(4096)
    if b'"resourceType"' not in head or path.stat().st_size > 256 << 20:
        return None
    try:
        document = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError:
        return None  # JSON Lines (one resource per line): read line by line
    if not isinstance(document, dict):
        return None
    if document.get("resourceType") == "Bundle":
        resources = [e.get("resource") for e in document.get("entry") or [] if isinstance(e, dict)]
        return [orjson.dumps(r) for r in resources if isinstance(r, dict)]
    return [orjson.dumps(document)]


def _is_interchange(path: Path) -> bool:
    from processor.formats import is_interchange

    with path.open("rb") as handle:
        return is_interchange(handle.read(512))


def _scrub_x12(
    settings: Settings, scrubber: Scrubber, input_path: Path, args: argparse.Namespace
) -> int:
    from processor.cli.scrub_x12 import X12Error, read_options, scrub_interchange

    acks = Path(args.acks) if args.acks else None
    started = time.perf_counter()
    try:
        if args.output:
            with open(args.output, "wb", buffering=OUTPUT_BUFFER) as output:
                summary = scrub_interchange(
                    scrubber, input_path, output, options=read_options(settings), acks_dir=acks
                )
        else:
            summary = scrub_interchange(
                scrubber, input_path, sys.stdout.buffer, options=read_options(settings),
                acks_dir=acks,
            )  # fmt: skip
            sys.stdout.flush()
    except X12Error as exc:
        raise CommandError(f"{input_path}: {exc}") from exc
    elapsed = time.perf_counter() - started
    if not args.quiet:
        routes = summary.routes
        print(
            f"scrubbed {summary.claims} claims of an 837P interchange in {elapsed:.2f}s: "
            f"clean {routes['clean']}, risk {routes['risk']}, "
            f"unreadable {routes['dead_letter']}",
            file=sys.stderr,
        )
        for line in summary.warnings + summary.problems:
            print(f"  {line}", file=sys.stderr)
        for path in summary.acks:
            print(f"  wrote {path}", file=sys.stderr)
    if summary.claims == 0:
        # Nothing could be scrubbed: the acknowledgments (if asked for) say why.
        print(f"{input_path}: no claim could be read", file=sys.stderr)
        return 1
    return 0


def register(commands: Any) -> None:
    scrub = commands.add_parser("scrub", help="scrub a JSON Lines file of claims, no Kafka")
    scrub.add_argument(
        "input",
        help="claims: JSON Lines (claim events or FHIR R4 Claims), or an X12 837P interchange",
    )
    scrub.add_argument(
        "--acks", metavar="DIR", help="837P input: write the TA1, 999 and 277CA here"
    )
    scrub.add_argument(
        "--codesets", help="code-set directory (default: CLAIMS_CODESETS_DIR or the sample)"
    )
    scrub.add_argument("--profiles", help="extra payer profiles directory")
    scrub.add_argument("--output", "-o", help="write results here instead of standard output")
    scrub.add_argument("--quiet", "-q", action="store_true", help="no progress bar, no summary")
    scrub.add_argument(
        "--jobs",
        "-j",
        type=int,
        default=1,
        help="processes (default 1); claims are split by patient, output stays in input order",
    )
    scrub.set_defaults(run=cmd_scrub)
