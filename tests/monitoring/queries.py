"""Collect the PromQL of the rule files and dashboards, and the metric names it uses."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS_DIR = ROOT / "prometheus"
RULES_DIR = PROMETHEUS_DIR / "rules"
RULE_FILES = sorted(RULES_DIR.glob("*.yml"))
ALERTS_FILE = RULES_DIR / "alerts.yml"
RECORDING_FILE = RULES_DIR / "recording.yml"
UNIT_TESTS = PROMETHEUS_DIR / "tests" / "alerts.test.yml"
ALERTMANAGER_CONFIG = ROOT / "alertmanager" / "alertmanager.yml"
DASHBOARDS_DIR = ROOT / "grafana" / "dashboards"
DASHBOARDS = sorted(DASHBOARDS_DIR.glob("*.json"))
RUNBOOK = ROOT / "docs" / "monitoring.md"
DATASOURCE_UID = "hospital-prometheus"

# Series that Prometheus makes itself rather than scraping them from the exporter.
PROMETHEUS_SYNTHETIC = {"up", "scrape_duration_seconds", "ALERTS", "ALERTS_FOR_STATE"}

_METRIC_RE = re.compile(r"(?<![\w:\"'.])([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\{[^}]*\})?")
_STRING_RE = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'")
_LABEL_LIST_RE = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_KEYWORDS = {
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "and",
    "or",
    "unless",
    "bool",
    "offset",
    "inf",
    "nan",
}


@dataclass(frozen=True)
class Query:
    """One PromQL expression and where it comes from, for readable test ids."""

    origin: str
    expr: str
    kind: str  # "record", "alert" or "panel"


def rule_queries() -> list[Query]:
    queries = []
    for path in RULE_FILES:
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                kind = "alert" if "alert" in rule else "record"
                name = rule.get("alert") or rule["record"]
                origin = f"{path.name}:{name}:{len(queries)}"
                queries.append(Query(origin, rule["expr"].strip(), kind))
    return queries


def load_dashboard(path: Path) -> dict:
    return json.loads(path.read_text())


def panels(dashboard: dict) -> list[dict]:
    """Every panel, including those nested in collapsed rows."""
    found = []
    for panel in dashboard.get("panels", []):
        found.append(panel)
        found.extend(panel.get("panels", []))
    return found


def panel_queries() -> list[Query]:
    queries = []
    for path in DASHBOARDS:
        for panel in panels(load_dashboard(path)):
            for target in panel.get("targets", []):
                origin = f"{path.stem}:{panel['title']}:{target['refId']}"
                queries.append(Query(origin, target["expr"], "panel"))
    return queries


def selectors(expr: str) -> list[str]:
    """The vector selectors of an expression, e.g. 'up{job="x"}', in order of appearance."""
    # Label lists such as by (speciality) name labels, not metrics; strings are not names.
    without_lists = _LABEL_LIST_RE.sub(" ", _strip_strings_outside_braces(expr))
    found = []
    for match in _METRIC_RE.finditer(without_lists):
        name, braces = match.group(1), match.group(2) or ""
        rest = without_lists[match.end() :].lstrip()
        if name.lower() in _KEYWORDS or (rest.startswith("(") and not braces):
            continue  # a keyword or a function call
        if name.isdigit():
            continue
        found.append(name + braces)
    return found


def metric_names(expr: str) -> set[str]:
    return {selector.split("{", 1)[0] for selector in selectors(expr)}


def _strip_strings_outside_braces(expr: str) -> str:
    """Blank out string literals that are not label matchers (e.g. in label_replace)."""
    out, depth, pos = [], 0, 0
    for match in _STRING_RE.finditer(expr):
        chunk = expr[pos : match.start()]
        depth += chunk.count("{") - chunk.count("}")
        out.append(chunk)
        out.append(match.group(0) if depth > 0 else '""')
        pos = match.end()
    out.append(expr[pos:])
    return "".join(out)
