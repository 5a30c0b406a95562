"""docker-compose.yml cannot run here (no Docker engine): check it against the settings."""

import yaml

from processor.devtools.local_stack import REPO
from processor.settings import Settings


def _compose():
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


def test_services_and_images():
    services = _compose()["services"]
    assert set(services) == {"kafka", "worker", "prometheus", "grafana"}
    assert services["kafka"]["image"].startswith("apache/kafka:4.1")
    assert services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert services["worker"]["build"] == "."


def test_worker_environment_uses_real_settings_and_matching_ports():
    worker = _compose()["services"]["worker"]
    env = worker["environment"]
    known = {f"CLAIMS_{name.upper()}" for name in Settings.model_fields}
    assert set(env) <= known, set(env) - known
    settings = Settings(**{k.removeprefix("CLAIMS_").lower(): v for k, v in env.items()})
    assert worker["ports"] == [f"127.0.0.1:{settings.web_port}:{settings.web_port}"]
    # The bootstrap names the broker's internal listener.
    host, port = settings.kafka_bootstrap.split(":")
    assert (
        host == "kafka"
        and f"PLAINTEXT://:{port}"
        in _compose()["services"]["kafka"]["environment"]["KAFKA_LISTENERS"]
    )


def test_prometheus_scrapes_the_worker_port_and_loads_the_rules():
    compose = _compose()
    prometheus = compose["services"]["prometheus"]
    config = yaml.safe_load((REPO / "ops/prometheus/prometheus.compose.yml").read_text())
    web_port = compose["services"]["worker"]["environment"]["CLAIMS_WEB_PORT"]
    assert config["scrape_configs"][0]["static_configs"][0]["targets"] == [f"worker:{web_port}"]
    assert config["rule_files"] == ["alerts.yml"]
    mounts = [m.split(":")[0] for m in prometheus["volumes"]]
    assert "./ops/prometheus/alerts.yml" in mounts
    for mount in mounts + [m.split(":")[0] for m in compose["services"]["grafana"]["volumes"]]:
        assert (REPO / mount).exists(), mount


def test_worker_state_survives_the_container():
    """The history's RocksDB folder is on a named volume the image lets the worker write,
    under an instance id that does not change when the container is recreated."""
    compose = _compose()
    env = compose["services"]["worker"]["environment"]
    settings = Settings(**{k.removeprefix("CLAIMS_").lower(): v for k, v in env.items()})
    assert settings.table_store == "rocksdb"
    assert settings.instance_id() == env["CLAIMS_GROUP_INSTANCE_ID"]
    mounts = dict(m.split(":")[:2] for m in compose["services"]["worker"]["volumes"])
    volume = next(name for name, path in mounts.items() if path == str(settings.data_dir))
    assert volume in compose["volumes"]
    dockerfile = (REPO / "Dockerfile").read_text()
    assert f"chown nobody {settings.data_dir}" in dockerfile
