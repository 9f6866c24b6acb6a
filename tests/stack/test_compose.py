"""docker-compose.yml against the repository: services, ports, mounts, variables, images.

No container engine runs here, so the file is read as YAML and every name it shares with
another file (a scrape target, a bootstrap address, a mounted path, a password variable)
is checked against that file.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "docker-compose.yml"
SERVICES = {
    "sqlserver",
    "sqlserver-init",
    "kafka",
    "connect",
    "connector-register",
    "exporter",
    "prometheus",
    "alertmanager",
    "grafana",
}
PUBLISHED = {
    "sqlserver": 1433,
    "kafka": 9092,
    "connect": 8083,
    "exporter": 9745,
    "prometheus": 9090,
    "alertmanager": 9093,
    "grafana": 3000,
}
VARIABLE = re.compile(r"\$\{([A-Z0-9_]+)(?::?[-?][^}]*)?\}")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def env_example() -> dict[str, str]:
    lines = (REPO / ".env.example").read_text().splitlines()
    pairs = [line.split("=", 1) for line in lines if line and not line.startswith("#")]
    return {key.strip(): value for key, value in pairs}


def test_service_names(services):
    assert set(services) == SERVICES


def test_published_ports_bind_loopback(services):
    for name, port in PUBLISHED.items():
        assert services[name]["ports"] == [f"127.0.0.1:{port}:{port}"], name
    unpublished = SERVICES - set(PUBLISHED)
    assert all("ports" not in services[name] for name in unpublished)


def test_images_pinned(services):
    for name, service in services.items():
        image = service.get("image")
        assert image, f"{name} has no image name"
        repository, _, tag = image.rpartition(":")
        assert repository and tag and tag != "latest", f"{name}: {image} is not pinned"


def test_depends_on_known_services(services):
    for name, service in services.items():
        for dependency in service.get("depends_on", []):
            assert dependency in services, f"{name} depends on unknown {dependency}"


def host_mounts(services):
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("./"):
                yield name, source


def test_mounted_paths_exist(services):
    for name, source in host_mounts(services):
        path = REPO / source
        assert path.exists(), f"{name} mounts {source}, which is not in the repository"


def test_build_inputs_exist():
    for dockerfile in (REPO / "Dockerfile", REPO / "docker" / "connect" / "Dockerfile"):
        for line in dockerfile.read_text().splitlines():
            if line.startswith("COPY") and "--from" not in line:
                for source in line.split()[1:-1]:
                    assert (REPO / source).exists(), f"{dockerfile.name}: COPY {source}"


def test_variables_documented_in_env_example(services):
    used = set(VARIABLE.findall(COMPOSE.read_text()))
    documented = env_example()
    assert used == set(documented), "compose variables and .env.example differ"
    assert all(value.startswith("change-me") for value in documented.values())


def test_connector_secrets_reach_the_worker(services):
    config = json.loads((REPO / "connect" / "sqlserver.json").read_text())["config"]
    needed = set(re.findall(r"\$\{env:([A-Z0-9_]+)\}", json.dumps(config)))
    assert needed <= set(services["connect"]["environment"])


def test_addresses_agree_across_files(services):
    exporter_command = services["exporter"]["command"]
    listen = exporter_command[exporter_command.index("--web.listen-address") + 1]
    bootstrap = exporter_command[exporter_command.index("--kafka.bootstrap-servers") + 1]
    assert listen.endswith(":9745")
    assert (
        "PLAINTEXT://kafka:29092" in services["kafka"]["environment"]["KAFKA_ADVERTISED_LISTENERS"]
    )
    assert bootstrap == "kafka:29092"
    assert services["connect"]["environment"]["CONNECT_BOOTSTRAP_SERVERS"] == bootstrap
    worker = (REPO / "docker" / "connect" / "worker.properties").read_text()
    assert f"bootstrap.servers={bootstrap}" in worker
    assert "listeners=http://0.0.0.0:8083" in worker
    assert "http://connect:8083" in services["connector-register"]["command"]

    prometheus = yaml.safe_load((REPO / "prometheus" / "prometheus.yml").read_text())
    targets = {
        target
        for job in prometheus["scrape_configs"]
        for static in job.get("static_configs", [])
        for target in static["targets"]
    }
    assert "exporter:9745" in targets
    alerting = prometheus["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"]
    assert alerting == ["alertmanager:9093"]

    datasources = yaml.safe_load(
        (REPO / "grafana" / "provisioning" / "datasources" / "prometheus.yml").read_text()
    )
    assert datasources["datasources"][0]["url"] == "http://prometheus:9090"


def test_grafana_dashboard_path_matches_provisioning(services):
    provider = yaml.safe_load(
        (REPO / "grafana" / "provisioning" / "dashboards" / "hospital.yml").read_text()
    )
    path = provider["providers"][0]["options"]["path"]
    assert f"./grafana/dashboards:{path}:ro" in services["grafana"]["volumes"]
    home = services["grafana"]["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert (REPO / "grafana" / "dashboards" / Path(home).name).exists()


def test_sqlserver_agent_and_init(services):
    assert services["sqlserver"]["environment"]["MSSQL_AGENT_ENABLED"] == "true"
    init = (REPO / "docker" / "sqlserver" / "init.sh").read_text()
    for script in re.findall(r"\d\d_\w+\.sql", init):
        assert (REPO / "sql" / "sqlserver" / script).exists(), script
    condition = services["connector-register"]["depends_on"]["sqlserver-init"]["condition"]
    assert condition == "service_completed_successfully"


def test_docker_compose_config_when_available(tmp_path):
    docker = shutil.which("docker")
    if docker is None:
        pytest.skip("no docker client on this machine")
    probe = subprocess.run([docker, "compose", "version"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip("docker client without the compose plugin")
    env = tmp_path / ".env"
    env.write_text((REPO / ".env.example").read_text())
    result = subprocess.run(
        [docker, "compose", "--env-file", str(env), "-f", str(COMPOSE), "config", "-q"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
