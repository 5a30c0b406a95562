"""What every command shares: the error a command raises when it cannot do its job."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from processor.settings import Settings

EXIT_USAGE = 2

Command = Callable[[Settings, argparse.Namespace], int]
Subcommands = "argparse._SubParsersAction[argparse.ArgumentParser]"


class CommandError(Exception):
    """A command could not do its job; the message says why."""
