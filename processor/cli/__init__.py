"""The `claims-processor` command: the parser, and one module per group of subcommands."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from processor import __version__
from processor.cli import codesets, devtools, edits, scrub, stream
from processor.cli.common import EXIT_USAGE, CommandError
from processor.codesets import CodeSetError
from processor.profiles import ProfileError
from processor.settings import Settings, SettingsError, describe_settings, load_settings
from processor.stream.topics import TopicMapError

__all__ = ["CommandError", "build_parser", "main"]


def _configure_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def cmd_settings(settings: Settings, args: argparse.Namespace) -> int:
    current = settings.model_dump()
    for variable, default, description in describe_settings():
        name = variable.removeprefix("CLAIMS_").lower()
        print(
            f"{variable}={current[name] if current[name] is not None else ''}\n    {description}"
            f" (default: {default or 'unset'})"
        )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="claims-processor",
        description="Scrub professional medical claims before they reach a payer. "
        "Settings come from CLAIMS_* environment variables (see `claims-processor settings`).",
    )
    parser.add_argument("--version", action="version", version=f"claims-processor {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    stream.register(commands)
    scrub.register(commands)
    commands.add_parser(
        "settings", help="show every setting, its value and what it does"
    ).set_defaults(run=cmd_settings)
    edits.register(commands)
    devtools.register(commands)
    codesets.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
        _configure_logging(settings.log_level)
        return int(args.run(settings, args))
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
