"""The Prometheus/Alertmanager harness on its own: no exporter, so the exporter is down."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import yaml

from devstack.process import free_port, wait_until
from devstack.prometheus import AlertmanagerServer, PrometheusServer, QueryError
from tests.monitoring.capture import WebhookCapture, write_fast_alert_rules
from tests.monitoring.queries import RECORDING_FILE

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("prometheus") is None, reason="no prometheus binary"),
]

FAST_ROUTING = {"group_wait": "1s", "group_interval": "1s", "repeat_interval": "1m"}


@pytest.fixture(scope="module")
def webhook():
    with WebhookCapture() as capture:
        yield capture


@pytest.fixture(scope="module")
def servers(tmp_path_factory, webhook):
    base = tmp_path_factory.mktemp("harness")
    rules = [RECORDING_FILE, write_fast_alert_rules(base)]
    # Nothing listens on this port: the scrape fails as it would with a dead exporter.
    dead_exporter = f"127.0.0.1:{free_port()}"
    with AlertmanagerServer(base, base / "logs", webhook.url, timings=FAST_ROUTING) as am:
        with PrometheusServer(
            base, base / "logs", dead_exporter, alertmanager=am.url, rule_files=rules
        ) as prom:
            yield prom, am


def test_rendered_config_is_valid(tmp_path):
    server = PrometheusServer(tmp_path, tmp_path, "127.0.0.1:9745", alertmanager="127.0.0.1:1")
    path = tmp_path / "prometheus.yml"
    path.write_text(yaml.safe_dump(server.render_config()))
    done = subprocess.run(["promtool", "check", "config", str(path)], capture_output=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_bad_query_is_reported_as_a_parse_error(servers):
    prom, _ = servers
    with pytest.raises(QueryError) as raised:
        prom.query("sum(hospital_waiting_patients")
    assert raised.value.error_type == "bad_data"


def test_prometheus_scrapes_itself(servers):
    prom, _ = servers
    wait_until(lambda: prom.targets_up("prometheus"), timeout=30, what="self-scrape")


def test_exporter_down_alert_reaches_the_webhook(servers, webhook):
    wait_until(
        lambda: webhook.alerts("HospitalExporterDown"),
        timeout=60,
        what="HospitalExporterDown notification",
    )
    alert = webhook.alerts("HospitalExporterDown")[0]
    assert alert["labels"]["severity"] == "page"
    assert alert["annotations"]["runbook_url"].endswith("#hospitalexporterdown")
    assert "cannot be scraped" in alert["annotations"]["summary"]
