"""The real exporter as a child process (`python -m exporter.cli serve`), for integration tests."""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from pathlib import Path

import yaml

from devstack.process import Service, free_port

POSTGRES_TOPICS = {"pattern": "{prefix}.{schema}.{table}", "table-case": "lower"}


def http_get(url: str, timeout: float = 10) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


class ExporterProcess:
    def __init__(self, base_dir: Path, bootstrap: str, settings: dict | None = None) -> None:
        self.base_dir = Path(base_dir)
        self.base_dir.mkdir(parents=True, exist_ok=True)
        self.host = "127.0.0.1"
        self.port = free_port()
        document = {
            "web": {"listen-address": f"{self.host}:{self.port}"},
            "kafka": {"bootstrap-servers": bootstrap, "health-interval": 1},
            "topics": dict(POSTGRES_TOPICS),
            "timezone": "Africa/Cairo",
            "log": {"progress-interval": 2},
        }
        for name, value in (settings or {}).items():
            _set_dotted(document, name, value)
        self.config_path = self.base_dir / "exporter.yml"
        self.config_path.write_text(yaml.safe_dump(document))
        self.service = Service(
            "exporter",
            [sys.executable, "-m", "exporter.cli", "serve", "--config", str(self.config_path)],
            self.base_dir / "logs",
            cwd=Path(__file__).resolve().parents[2],
        )

    @property
    def metrics_url(self) -> str:
        return self.url("/metrics")

    @property
    def stats_url(self) -> str:
        return self.url("/stats")

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"

    def start(self, wait_ready: bool = True, timeout: float = 120) -> ExporterProcess:
        self.service.start()
        self.service.wait_ready(lambda: http_get(self.url("/healthz"))[0] == 200, 30)
        if wait_ready:
            self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float = 120) -> None:
        self.service.wait_ready(lambda: http_get(self.url("/ready"))[0] == 200, timeout)

    def stop(self) -> None:
        self.service.stop()

    def kill(self) -> None:
        self.service.kill()

    def get_json(self, path: str):
        status, body = http_get(self.url(path))
        assert status == 200, f"{path} answered {status}"
        return json.loads(body)

    def metrics_text(self) -> str:
        status, body = http_get(self.metrics_url)
        assert status == 200
        return body.decode()

    def __enter__(self) -> ExporterProcess:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _set_dotted(document: dict, name: str, value) -> None:
    parts = name.split(".")
    for part in parts[:-1]:
        document = document.setdefault(part, {})
    document[parts[-1]] = value
