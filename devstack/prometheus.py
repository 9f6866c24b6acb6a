"""Run Debian's Prometheus and Alertmanager on 127.0.0.1 with the repository's configuration.

The configuration files in prometheus/ and alertmanager/ name docker-compose hosts; this module
renders copies with local addresses and a temporary storage directory, keeping the rule files
shared rather than copied.
"""

from __future__ import annotations

import json
import logging
import tempfile
import urllib.parse
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from devstack.process import Service, free_port

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
PROMETHEUS_CONFIG = ROOT / "prometheus" / "prometheus.yml"
ALERTMANAGER_CONFIG = ROOT / "alertmanager" / "alertmanager.yml"
EXPORTER_JOB = "hospital-exporter"


class QueryError(RuntimeError):
    """Prometheus refused a query, e.g. because it does not parse."""

    def __init__(self, expr: str, error_type: str, message: str) -> None:
        super().__init__(f"{error_type}: {message} (query: {expr})")
        self.error_type = error_type
        self.message = message


def http_json(url: str, data: bytes | None = None, timeout: float = 10) -> Any:
    """GET (or POST form data) and decode the JSON answer, error bodies included."""
    request = urllib.request.Request(url, data=data)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        # Prometheus answers 400/422 with a JSON body naming the problem.
        body = error.read()
        try:
            return json.loads(body)
        except ValueError:
            raise error from None


def _answers(url: str) -> bool:
    with urllib.request.urlopen(url, timeout=2) as response:
        return response.status == 200


def _host_port(address: str) -> str:
    """'http://127.0.0.1:9093/' or '127.0.0.1:9093' -> '127.0.0.1:9093'."""
    if "://" in address:
        return urllib.parse.urlsplit(address).netloc
    return address


class PrometheusServer:
    """A Prometheus scraping one exporter (and itself) with the repository's rules."""

    def __init__(
        self,
        base_dir: Path,
        log_dir: Path,
        exporter_target: str,
        alertmanager: str | None = None,
        port: int | None = None,
        scrape_interval: str = "1s",
        evaluation_interval: str | None = None,
        rule_files: Sequence[Path] | None = None,
    ) -> None:
        self.base_dir = Path(base_dir)
        self.log_dir = Path(log_dir)
        self.exporter_target = exporter_target
        self.alertmanager = alertmanager
        self.port = port or free_port()
        self.scrape_interval = scrape_interval
        self.evaluation_interval = evaluation_interval or scrape_interval
        self.rule_files = rule_files
        self.service: Service | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def render_config(self) -> dict:
        """The production configuration with local targets, intervals and absolute paths."""
        config = yaml.safe_load(PROMETHEUS_CONFIG.read_text())
        config["global"]["scrape_interval"] = self.scrape_interval
        config["global"]["evaluation_interval"] = self.evaluation_interval
        if self.rule_files is None:
            rule_files = [PROMETHEUS_CONFIG.parent / name for name in config["rule_files"]]
        else:
            rule_files = list(self.rule_files)
        config["rule_files"] = [str(Path(path).resolve()) for path in rule_files]

        if self.alertmanager:
            target = _host_port(self.alertmanager)
            config["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": [target]}]}]}
        else:
            config.pop("alerting", None)

        targets = {EXPORTER_JOB: self.exporter_target, "prometheus": f"127.0.0.1:{self.port}"}
        for job in config["scrape_configs"]:
            job["static_configs"] = [{"targets": [targets[job["job_name"]]]}]
        return config

    def start(self) -> PrometheusServer:
        self.base_dir.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix="prometheus-", dir=self.base_dir))
        config_path = work / "prometheus.yml"
        config_path.write_text(yaml.safe_dump(self.render_config(), sort_keys=False))
        argv = [
            "prometheus",
            f"--config.file={config_path}",
            f"--storage.tsdb.path={work / 'data'}",
            f"--web.listen-address=127.0.0.1:{self.port}",
            "--storage.tsdb.retention.time=1d",
            "--log.level=warn",
        ]
        self.service = Service(f"prometheus-{self.port}", argv, self.log_dir).start()
        self.service.wait_ready(lambda: _answers(f"{self.url}/-/ready"), timeout=60)
        log.info("Prometheus ready on %s, scraping %s", self.url, self.exporter_target)
        return self

    def stop(self) -> None:
        if self.service is not None:
            self.service.stop()

    def query(self, expr: str) -> list[dict]:
        """Evaluate an instant query; the result list, or QueryError."""
        data = urllib.parse.urlencode({"query": expr}).encode()
        answer = http_json(f"{self.url}/api/v1/query", data=data)
        if answer.get("status") != "success":
            raise QueryError(expr, answer.get("errorType", "?"), answer.get("error", "?"))
        return answer["data"]["result"]

    def alerts(self) -> list[dict]:
        """Alerts that are pending or firing now."""
        return http_json(f"{self.url}/api/v1/alerts")["data"]["alerts"]

    def targets_up(self, job: str = EXPORTER_JOB) -> bool:
        return any(float(s["value"][1]) == 1 for s in self.query(f'up{{job="{job}"}}'))

    def __enter__(self) -> PrometheusServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class AlertmanagerServer:
    """An Alertmanager with the repository's routing, sending to one local webhook."""

    def __init__(
        self,
        base_dir: Path,
        log_dir: Path,
        webhook_url: str,
        port: int | None = None,
        timings: dict[str, str] | None = None,
    ) -> None:
        self.base_dir = Path(base_dir)
        self.log_dir = Path(log_dir)
        self.webhook_url = webhook_url
        self.port = port or free_port()
        # e.g. {"group_wait": "1s"} for tests; applied to the root route and its children.
        self.timings = timings or {}
        self.service: Service | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def render_config(self) -> dict:
        config = yaml.safe_load(ALERTMANAGER_CONFIG.read_text())
        for receiver in config["receivers"]:
            for webhook in receiver.get("webhook_configs", []):
                webhook["url"] = self.webhook_url
        routes = [config["route"], *config["route"].get("routes", [])]
        for route in routes:
            for key, value in self.timings.items():
                if route is config["route"] or key in route:
                    route[key] = value
        return config

    def start(self) -> AlertmanagerServer:
        self.base_dir.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix="alertmanager-", dir=self.base_dir))
        config_path = work / "alertmanager.yml"
        config_path.write_text(yaml.safe_dump(self.render_config(), sort_keys=False))
        argv = [
            "prometheus-alertmanager",
            f"--config.file={config_path}",
            f"--storage.path={work / 'data'}",
            f"--web.listen-address=127.0.0.1:{self.port}",
            # An empty address turns the gossip cluster off: one instance, no extra port.
            "--cluster.listen-address=",
            "--log.level=warn",
        ]
        self.service = Service(f"alertmanager-{self.port}", argv, self.log_dir).start()
        self.service.wait_ready(lambda: _answers(f"{self.url}/-/ready"), timeout=60)
        log.info("Alertmanager ready on %s", self.url)
        return self

    def stop(self) -> None:
        if self.service is not None:
            self.service.stop()

    def alerts(self) -> list[dict]:
        return http_json(f"{self.url}/api/v2/alerts")

    def __enter__(self) -> AlertmanagerServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
