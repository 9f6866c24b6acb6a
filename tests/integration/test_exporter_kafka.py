"""The exporter against a real Kafka broker: a simulated day in, the KPIs of its rows out."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import HOSPITAL_TZ
from tests.support.exporter_process import http_get
from tests.support.model import expected_kpis

pytestmark = pytest.mark.integration


def today() -> datetime:
    return datetime.now(ZoneInfo(HOSPITAL_TZ)).date()


def stats_without_time(process) -> dict:
    stats = process.get_json("/stats")
    assert stats.pop("last_update") is not None
    return stats


def samples(text: str) -> dict[str, list]:
    return {family.name: family.samples for family in text_string_to_metric_families(text)}


def test_stats_equal_the_kpis_of_the_rows(live_exporter):
    stats = stats_without_time(live_exporter.process)
    expected = expected_kpis(live_exporter.activity.tables, today())
    assert stats == expected
    # The simulated day is busy enough for the numbers to mean something.
    assert stats["visits_today_total"] > 50
    assert sum(stats["waiting_now_by_classification"].values()) > 0
    assert stats["revenue_paid_today"] > 0


def test_metrics_agree_with_stats_and_name_every_label(live_exporter):
    stats = live_exporter.process.get_json("/stats")
    families = samples(live_exporter.process.metrics_text())

    visits = {s.labels["classification"]: s.value for s in families["hospital_visits_today"]}
    assert visits == {k: float(v) for k, v in stats["visits_today_by_classification"].items()}
    waiting = families["hospital_waiting_patients"]
    by_speciality: dict[str, float] = {}
    for sample in waiting:
        name = sample.labels["speciality"]
        by_speciality[name] = by_speciality.get(name, 0) + sample.value
    for name, count in stats["waiting_now_by_speciality"].items():
        assert by_speciality[name] == count
    assert families["hospital_inpatients"][0].value == stats["inpatients_now"]
    revenue = families["hospital_revenue_paid_today"][0]
    assert revenue.labels == {"currency": "EGP"}
    assert revenue.value == pytest.approx(stats["revenue_paid_today"])
    assert families["hospital_exporter_ready"][0].value == 1
    assert families["hospital_exporter_kafka_connected"][0].value == 1
    assert families["hospital_exporter_replay_progress_ratio"][0].value == 1
    assert all(s.value == 2 for s in families["hospital_waiting_threshold"])
    lag = families["hospital_exporter_consumer_lag_messages"]
    assert len(lag) == 8 * 3 and all(s.value == 0 for s in lag)
    allowed = {
        "classification",
        "speciality",
        "currency",
        "table",
        "op",
        "reason",
        "topic",
        "partition",
        "version",
        "python_version",
        "decoder",
    }
    for family_samples in families.values():
        for sample in family_samples:
            assert set(sample.labels) <= allowed


def test_endpoints_answer_as_documented(live_exporter):
    process = live_exporter.process
    status, body = http_get(process.url("/"))
    assert status == 200 and b"/metrics" in body
    assert http_get(process.url("/healthz"))[0] == 200
    assert http_get(process.url("/nowhere"))[0] == 404
    import urllib.request

    with urllib.request.urlopen(process.stats_url) as response:
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert response.headers["Content-Type"] == "application/json"


def test_a_restarted_exporter_rebuilds_the_same_numbers(live_exporter):
    first = stats_without_time(live_exporter.process)
    live_exporter.process.stop()
    live_exporter.process.start()  # reads every partition from the beginning again
    assert stats_without_time(live_exporter.process) == first
