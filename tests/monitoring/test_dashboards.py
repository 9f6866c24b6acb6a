"""Static checks of the provisioned Grafana dashboards and of every PromQL expression."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import yaml

from tests.monitoring.queries import (
    DASHBOARDS,
    DATASOURCE_UID,
    RECORDING_FILE,
    ROOT,
    load_dashboard,
    metric_names,
    panel_queries,
    panels,
    rule_queries,
)

PROVISIONING = ROOT / "grafana" / "provisioning"
EXPECTED_UIDS = {"hospital-live", "hospital-pipeline"}


def recorded_names() -> set[str]:
    groups = yaml.safe_load(RECORDING_FILE.read_text())["groups"]
    return {rule["record"] for group in groups for rule in group["rules"]}


def test_datasource_is_provisioned_with_the_fixed_uid():
    config = yaml.safe_load((PROVISIONING / "datasources" / "prometheus.yml").read_text())
    assert [source["uid"] for source in config["datasources"]] == [DATASOURCE_UID]


def test_dashboard_provider_is_a_file_provider():
    config = yaml.safe_load((PROVISIONING / "dashboards" / "hospital.yml").read_text())
    assert [provider["type"] for provider in config["providers"]] == ["file"]


def test_dashboards_have_stable_uids():
    assert {load_dashboard(path)["uid"] for path in DASHBOARDS} == EXPECTED_UIDS


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda path: path.stem)
def test_every_panel_uses_the_provisioned_datasource(path):
    assert "${DS_" not in path.read_text(), "file provisioning leaves ${DS_...} unresolved"
    for panel in panels(load_dashboard(path)):
        if panel["type"] == "row":
            continue
        assert panel["datasource"]["uid"] == DATASOURCE_UID, panel["title"]
        assert panel["targets"], f"{panel['title']} has no query"
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == DATASOURCE_UID, panel["title"]


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda path: path.stem)
def test_panels_do_not_overlap(path):
    taken = set()
    for panel in panels(load_dashboard(path)):
        pos = panel["gridPos"]
        cells = {
            (x, y)
            for x in range(pos["x"], pos["x"] + pos["w"])
            for y in range(pos["y"], pos["y"] + pos["h"])
        }
        assert pos["x"] + pos["w"] <= 24, panel["title"]
        assert not cells & taken, panel["title"]
        taken |= cells


def test_recording_rules_used_by_dashboards_exist():
    used = set().union(*(metric_names(query.expr) for query in panel_queries()))
    assert {name for name in used if ":" in name} <= recorded_names()


@pytest.mark.skipif(shutil.which("promtool") is None, reason="no promtool")
def test_every_expression_parses(tmp_path):
    """promtool parses each panel and rule expression as if it were a recording rule."""
    queries = panel_queries() + rule_queries()
    rules = [{"record": f"check:expr_{i}", "expr": q.expr} for i, q in enumerate(queries)]
    path = tmp_path / "expressions.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "expressions", "rules": rules}]}))

    done = subprocess.run(
        ["promtool", "check", "rules", str(path)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_waiting_bar_gauges_take_their_red_step_from_the_alert_thresholds():
    live = load_dashboard(next(path for path in DASHBOARDS if path.stem == "hospital-live"))
    gauges = [panel for panel in panels(live) if panel["type"] == "bargauge"]
    assert len(gauges) == 2
    for gauge in gauges:
        by_ref = {target["refId"]: target for target in gauge["targets"]}
        assert "hospital:waiting_threshold:" in by_ref["B"]["expr"], gauge["title"]
        assert all(target["format"] == "table" for target in by_ref.values())
        (rows_to_fields,) = [t for t in gauge["transformations"] if t["id"] == "rowsToFields"]
        handlers = {m["fieldName"]: m["handlerKey"] for m in rows_to_fields["options"]["mappings"]}
        assert handlers["Value #A"] == "field.value"
        assert handlers["Value #B"] == "threshold1"


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda path: path.stem)
def test_freshness_tile_takes_its_red_step_from_the_stall_conditions(path):
    tiles = [
        panel
        for panel in panels(load_dashboard(path))
        if any("last_event_age_seconds" in t["expr"] for t in panel["targets"])
        and panel["type"] == "stat"
    ]
    assert len(tiles) == 1
    (config,) = [t for t in tiles[0]["transformations"] if t["id"] == "configFromData"]
    config_query = next(
        t for t in tiles[0]["targets"] if t["refId"] == config["options"]["configRefId"]
    )
    assert "hospital_exporter_consumer_lag_messages" in config_query["expr"]
    assert "hospital_exporter_kafka_connected" in config_query["expr"]
