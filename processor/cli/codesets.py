"""`codesets build|list|show|diff|publish`: code-set releases, from the CMS files to the
workers."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

from processor.cli.common import CommandError
from processor.codesets import CodeSets, load_codesets
from processor.settings import Settings


def build(args: argparse.Namespace) -> int:
    from processor.codesets.cms.importers import ImportError_
    from processor.codesets.cms.store_builder import build_store, summarise

    if not args.a or not args.out:
        raise CommandError("codesets build needs SOURCE_DIR and --out STORE")
    try:
        report = build_store(
            Path(args.a),
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


def publish(settings: Settings, args: argparse.Namespace) -> int:
    from processor.stream.releases import publish_store

    store = args.a or args.store or settings.codesets_dir
    if not store:
        raise CommandError("codesets publish needs the STORE (or CLAIMS_CODESETS_DIR)")
    for line in asyncio.run(publish_store(settings, Path(store))):
        print(line)
    return 0


def list_(codesets: CodeSets, store: str | Path | None, loaded_in: float) -> int:
    import resource

    from processor.codesets.cms.report import list_releases

    print(list_releases(codesets))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"\n{len(codesets.all_releases())} releases loaded in {loaded_in:.2f}s "
        f"(peak resident memory {rss:.0f} MB) from {store or 'the shipped sample'}",
        file=sys.stderr,
    )
    return 0


def show(codesets: CodeSets, args: argparse.Namespace) -> int:
    from processor.codesets.cms.report import show_code

    if not args.a:
        raise CommandError("codesets show needs a CODE")
    try:
        on = date.fromisoformat(args.date) if args.date else date.today()
    except ValueError:
        raise CommandError(f"--date {args.date!r} is not an ISO date (YYYY-MM-DD)") from None
    print(json.dumps(show_code(codesets, args.a.upper(), on), indent=2, default=str))
    return 0


def diff(codesets: CodeSets, args: argparse.Namespace) -> int:
    from processor.codesets.cms.report import diff_releases, format_diff

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


def cmd_codesets(settings: Settings, args: argparse.Namespace) -> int:
    if args.action == "build":
        return build(args)
    if args.action == "publish":
        return publish(settings, args)
    store = args.store or settings.codesets_dir
    started = time.perf_counter()
    codesets = load_codesets(store)
    loaded_in = time.perf_counter() - started
    if args.action == "list":
        return list_(codesets, store, loaded_in)
    if args.action == "show":
        return show(codesets, args)
    return diff(codesets, args)


def register(commands: Any) -> None:
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
    codesets.set_defaults(run=cmd_codesets)
