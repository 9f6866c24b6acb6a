"""Static checks of the Prometheus and Alertmanager configuration, with promtool and amtool."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.monitoring.queries import (
    ALERTMANAGER_CONFIG,
    ALERTS_FILE,
    PROMETHEUS_DIR,
    RULE_FILES,
    RUNBOOK,
    UNIT_TESTS,
)

ALERT_NAMES = {
    "HospitalWaitingQueueLong",
    "HospitalEmergencyWaitingLong",
    "HospitalPipelineStalled",
    "HospitalExporterDown",
    "HospitalConsumerLagHigh",
    "HospitalReplayNotFinished",
}
SEVERITIES = {"page", "ticket", "warning"}

needs_promtool = pytest.mark.skipif(shutil.which("promtool") is None, reason="no promtool")


def run(argv: list[str], cwd: Path | None = None) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, cwd=cwd, timeout=120)
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"{' '.join(argv)} failed:\n{output}"
    return output


def alert_rules() -> list[dict]:
    groups = yaml.safe_load(ALERTS_FILE.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


@needs_promtool
def test_prometheus_config_is_valid():
    run(["promtool", "check", "config", "prometheus.yml"], cwd=PROMETHEUS_DIR)


@needs_promtool
def test_rule_files_are_valid():
    run(["promtool", "check", "rules", *map(str, RULE_FILES)])


@needs_promtool
def test_alert_unit_tests_pass():
    output = run(["promtool", "test", "rules", str(UNIT_TESTS)])
    assert "SUCCESS" in output


@pytest.mark.skipif(shutil.which("amtool") is None, reason="no amtool")
def test_alertmanager_config_is_valid():
    run(["amtool", "check-config", str(ALERTMANAGER_CONFIG)])


def test_alertmanager_groups_by_alert_and_speciality():
    route = yaml.safe_load(ALERTMANAGER_CONFIG.read_text())["route"]
    assert set(route["group_by"]) == {"alertname", "speciality"}


def test_every_expected_alert_is_defined():
    assert {rule["alert"] for rule in alert_rules()} == ALERT_NAMES


@pytest.mark.parametrize("rule", alert_rules(), ids=lambda rule: rule["alert"])
def test_alert_has_severity_delay_and_annotations(rule):
    assert rule["labels"]["severity"] in SEVERITIES
    assert re.fullmatch(r"\d+[smh]", rule["for"]), "every alert waits before it fires"
    annotations = rule["annotations"]
    assert {"summary", "description", "runbook_url"} <= set(annotations)
    # Plain words with the numbers or the instance concerned, not a bare alert name.
    assert "{{" in annotations["summary"] and "{{" in annotations["description"]


@pytest.mark.parametrize("rule", alert_rules(), ids=lambda rule: rule["alert"])
def test_runbook_url_points_at_a_section_of_the_runbook(rule):
    path, anchor = rule["annotations"]["runbook_url"].split("#")
    assert path == "docs/monitoring.md"
    headings = re.findall(r"^#+\s+(.+)$", RUNBOOK.read_text(), flags=re.MULTILINE)
    assert anchor in {_github_anchor(heading) for heading in headings}


def test_unit_tests_cover_a_firing_and_a_quiet_case_per_alert():
    firing, quiet = set(), set()
    for case in yaml.safe_load(UNIT_TESTS.read_text())["tests"]:
        for check in case.get("alert_rule_test", []):
            (firing if check["exp_alerts"] else quiet).add(check["alertname"])
    assert firing == ALERT_NAMES
    assert quiet == ALERT_NAMES


def _github_anchor(heading: str) -> str:
    """The anchor GitHub and most Markdown renderers give a heading."""
    anchor = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return anchor.replace(" ", "-")
