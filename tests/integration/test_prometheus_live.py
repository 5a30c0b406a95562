"""A real Prometheus (Debian's package) with ops/prometheus's config and alert rules,
scraping a worker that claims went through: every alert expression and every dashboard
panel query returns data, and every rule evaluates without error."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import yaml

from processor.devtools.local_stack import REPO, collect, free_port
from processor.devtools.samples import demo_claims
from processor.settings import load_settings
from processor.stream.produce import produce_file
from processor.stream.topics import apply, load_topics

PROMETHEUS_DIR = REPO / "ops" / "prometheus"
DASHBOARD = REPO / "ops" / "grafana" / "dashboards" / "claims-processor.json"
_COMPARISON = re.compile(r"\s*(==|!=|>=|<=|>|<)\s*[-+0-9.e]+\s*$")
_SET_OPERATOR = re.compile(r"\s+(?:and|or|unless)\s+")


def alert_operands(expr: str) -> list[str]:
    """The parts of an alert expression that must have data for it to mean anything: each
    side of `and`/`or`/`unless`, without its threshold (a healthy system does not fire, so
    the whole expression is empty by design)."""
    parts = _SET_OPERATOR.split(" ".join(expr.split()))
    return [_COMPARISON.sub("", part).strip() for part in parts]


def test_alert_operands_split_and_drop_thresholds():
    assert alert_operands("up == 0") == ["up"]
    assert alert_operands("sum(rate(a[5m])) > 0\n  and sum(rate(b[5m])) == 0") == [
        "sum(rate(a[5m]))",
        "sum(rate(b[5m]))",
    ]


def _query(port: int, expr: str) -> dict:
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def _get(port: int, path: str) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
        return json.loads(response.read())


@pytest.fixture
def prometheus_for(tmp_path):
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.fail("prometheus not found: install the Debian package 'prometheus' (.ci/run does)")
    started: list[subprocess.Popen] = []

    def start(target: str) -> int:
        # ops/prometheus's config as it is, pointed at this worker and at the rules by path.
        config = yaml.safe_load((PROMETHEUS_DIR / "prometheus.yml").read_text())
        config["rule_files"] = [str(PROMETHEUS_DIR / f) for f in config["rule_files"]]
        config["scrape_configs"][0]["static_configs"] = [{"targets": [target]}]
        path = tmp_path / "prometheus.yml"
        path.write_text(yaml.safe_dump(config))
        port = free_port()
        log = (tmp_path / "prometheus.log").open("wb")
        started.append(
            subprocess.Popen(
                [
                    binary,
                    f"--config.file={path}",
                    f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                    f"--web.listen-address=127.0.0.1:{port}",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/-/ready", timeout=2)
                return port
            except OSError:
                time.sleep(0.5)
        pytest.fail(f"prometheus not ready:\n{(tmp_path / 'prometheus.log').read_text()[-3000:]}")

    yield start
    for process in started:
        process.terminate()
        process.wait(30)


def test_every_alert_and_panel_query_returns_data_from_a_real_prometheus(
    kafka, topic_prefix, worker_factory, prometheus_for, tmp_path
):
    settings = load_settings(kafka_bootstrap=kafka, topic_prefix=topic_prefix)
    specs = load_topics(settings)
    asyncio.run(apply(settings, list(specs.values())))
    worker = worker_factory()
    port = prometheus_for(worker.web_url.removeprefix("http://"))
    path = Path(tmp_path / "claims.jsonl")
    path.write_bytes(b"".join(m + b"\n" for m in demo_claims()))
    produced = asyncio.run(produce_file(kafka, specs["submitted"].name, path))
    outputs = [specs[r].name for r in ("clean", "risk", "dlq")]
    assert len(asyncio.run(collect(kafka, outputs, produced.count, 90)).records) == 200

    rules = yaml.safe_load((PROMETHEUS_DIR / "alerts.yml").read_text())["groups"][0]["rules"]
    queries = {
        f"alert {rule['alert']}: {operand}": operand
        for rule in rules
        for operand in alert_operands(rule["expr"])
    }
    for panel in json.loads(DASHBOARD.read_text())["panels"]:
        for target in panel.get("targets", []):
            queries[f"panel {panel['title']}: {target['expr']}"] = target["expr"]
    assert len(queries) > 15

    # A few scrapes after the claims went through: rates need two samples.
    missing = dict(queries)
    deadline = time.monotonic() + 90
    while missing and time.monotonic() < deadline:
        for name, expr in list(missing.items()):
            answer = _query(port, expr)
            assert answer["status"] == "success", (name, answer)
            if answer["data"]["result"]:
                del missing[name]
        time.sleep(2)
    assert not missing, f"no data for: {sorted(missing)}"

    # Every alert rule was evaluated by Prometheus without error; none fires.
    groups = _get(port, "/api/v1/rules")["data"]["groups"]
    evaluated = {rule["name"]: rule for group in groups for rule in group["rules"]}
    assert set(evaluated) == {rule["alert"] for rule in rules}
    assert all(rule["health"] == "ok" for rule in evaluated.values()), evaluated
    assert _get(port, "/api/v1/alerts")["data"]["alerts"] == []
