"""Alert rules through the real promtool: syntax, and the unit tests in alerts.test.yml."""

import shutil
import subprocess

import pytest

from processor.devtools.local_stack import REPO

PROMETHEUS = REPO / "ops" / "prometheus"


@pytest.fixture(scope="module")
def promtool():
    path = shutil.which("promtool")
    if path is None:
        pytest.fail("promtool not found: install the Debian package 'prometheus' (.ci/run does)")
    return path


@pytest.mark.parametrize(
    "args",
    [
        ["check", "rules", "alerts.yml"],
        ["test", "rules", "alerts.test.yml"],
        ["check", "config", "--syntax-only", "prometheus.yml"],
    ],
    ids=["rules are valid", "alert unit tests pass", "config is valid"],
)
def test_promtool(promtool, args):
    done = subprocess.run(
        [promtool, *args], cwd=PROMETHEUS, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
