"""Prometheus and Alertmanager against the real exporter, fed a generated day through Kafka.

The `live_exporter` fixture (tests/conftest.py) runs the exporter with a waiting threshold of 2,
so that some speciality's queue is long and HospitalWaitingQueueLong can fire.
"""

from __future__ import annotations

import re
import urllib.request

import pytest
import yaml

from devstack.process import wait_until
from devstack.prometheus import AlertmanagerServer, PrometheusServer
from tests.monitoring.capture import WebhookCapture, write_fast_alert_rules
from tests.monitoring.queries import (
    ALERTS_FILE,
    PROMETHEUS_SYNTHETIC,
    RECORDING_FILE,
    metric_names,
    panel_queries,
    rule_queries,
    selectors,
)

pytestmark = pytest.mark.integration

FAST_ROUTING = {"group_wait": "1s", "group_interval": "1s", "repeat_interval": "1m"}
_SAMPLE_NAME = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)")


def recorded_names() -> set[str]:
    groups = yaml.safe_load(RECORDING_FILE.read_text())["groups"]
    return {rule["record"] for group in groups for rule in group["rules"]}


def alert_selectors() -> list[str]:
    found = {sel for q in rule_queries() if q.kind == "alert" for sel in selectors(q.expr)}
    return sorted(found)


@pytest.fixture(scope="module")
def exporter_metrics(live_exporter) -> set[str]:
    """Metric names in the exporter's /metrics, from TYPE lines and from samples."""
    with urllib.request.urlopen(live_exporter.metrics_url, timeout=10) as response:
        text = response.read().decode()
    names = set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            names.add(line.split()[2])
        elif line and not line.startswith("#"):
            names.add(_SAMPLE_NAME.match(line).group(1))
    return names


@pytest.fixture(scope="module")
def webhook():
    with WebhookCapture() as capture:
        yield capture


@pytest.fixture(scope="module")
def prometheus(live_exporter, webhook, tmp_path_factory):
    base = tmp_path_factory.mktemp("live-monitoring")
    rules = [RECORDING_FILE, write_fast_alert_rules(base)]
    target = f"{live_exporter.host}:{live_exporter.port}"
    with AlertmanagerServer(base, base / "logs", webhook.url, timings=FAST_ROUTING) as am:
        with PrometheusServer(
            base, base / "logs", target, alertmanager=am.url, rule_files=rules
        ) as prom:
            wait_until(prom.targets_up, timeout=30, what="exporter scraped")
            # rate() needs two scrapes inside its window; the recording rule shows when.
            wait_until(
                lambda: prom.query("hospital:events_applied:rate1m_by_table"),
                timeout=30,
                what="a rate over two scrapes",
            )
            yield prom


def test_every_metric_name_used_is_exported(exporter_metrics):
    used = set()
    for query in panel_queries() + rule_queries():
        used |= metric_names(query.expr)
    missing = used - recorded_names() - PROMETHEUS_SYNTHETIC
    missing = {name for name in missing if name not in exporter_metrics}
    # Counters appear in samples with _total and in TYPE lines without it.
    missing = {name for name in missing if name.removesuffix("_total") not in exporter_metrics}
    assert not missing, f"not in the exporter's /metrics: {sorted(missing)}"


@pytest.mark.parametrize("query", panel_queries(), ids=lambda query: query.origin)
def test_panel_query_returns_data(prometheus, query):
    assert prometheus.query(query.expr), f"no series for {query.expr}"


@pytest.mark.parametrize(
    "query", [q for q in rule_queries() if q.kind == "record"], ids=lambda q: q.origin
)
def test_recording_rule_returns_data(prometheus, query):
    assert prometheus.query(query.expr), f"no series for {query.expr}"
    name = query.origin.split(":", 1)[1].rsplit(":", 1)[0]
    assert prometheus.query(name), f"{name} was not recorded"


@pytest.mark.parametrize("selector", alert_selectors())
def test_alert_selector_returns_data(prometheus, selector):
    """An alert expression returns nothing while healthy; each series it reads must exist."""
    assert prometheus.query(selector), f"no series for {selector}"


@pytest.mark.parametrize("query", rule_queries(), ids=lambda query: query.origin)
def test_rule_expression_is_accepted_by_prometheus(prometheus, query):
    prometheus.query(query.expr)  # raises QueryError when it does not parse


def test_queue_over_the_exported_threshold_is_visible(prometheus):
    over = prometheus.query(
        "hospital:waiting_patients:by_speciality"
        " > on (speciality) hospital:waiting_threshold:by_speciality"
    )
    assert over, "the generated day should leave a queue above the threshold of 2"


def test_waiting_queue_alert_reaches_the_webhook(prometheus, webhook):
    wait_until(
        lambda: webhook.alerts("HospitalWaitingQueueLong"),
        timeout=90,
        what="HospitalWaitingQueueLong notification",
    )
    alert = webhook.alerts("HospitalWaitingQueueLong")[0]
    speciality = alert["labels"]["speciality"]
    assert alert["labels"]["severity"] == "warning"
    assert alert["annotations"]["summary"].startswith(f"{speciality}: ")
    assert "above the threshold of 2" in alert["annotations"]["description"]
    assert alert["annotations"]["runbook_url"].endswith("#hospitalwaitingqueuelong")


def test_production_rules_keep_their_delays():
    """The end-to-end test shortens `for:` in a copy only."""
    groups = yaml.safe_load(ALERTS_FILE.read_text())["groups"]
    delays = {rule["for"] for group in groups for rule in group["rules"]}
    assert "1s" not in delays
