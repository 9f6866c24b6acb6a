"""`hospital-exporter connector apply`: create or update a Debezium connector, wait for RUNNING.

The Kafka Connect REST API's `PUT /connectors/{name}/config` creates a connector or replaces
its configuration, so applying the same file twice is harmless. The command then polls
`/connectors/{name}/status` until the connector and every task run, and fails with the first
line of the task's trace when one of them fails.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

log = logging.getLogger(__name__)

POLL_INTERVAL = 1.0
# Answers that mean "the worker is not ready yet": a rebalance (409), a forward to a leader
# that is still starting (5xx), or a worker not yet listening.
RETRYABLE_STATUS = {404, 409, 500, 502, 503, 504}


class ConnectorError(Exception):
    """A connector that cannot be applied or does not reach RUNNING; one line for the user."""


def load_config(path: Path, name: str | None, overrides: list[str]) -> tuple[str, dict]:
    """Read a connector file ({"name", "config"} or a flat map) and apply KEY=VALUE overrides."""
    document = json.loads(Path(path).read_text())
    config = dict(document.get("config", document))
    name = name or document.get("name") or config.get("name")
    if not name:
        raise ConnectorError(f"{path}: no connector name (give --name)")
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConnectorError(f"--set expects KEY=VALUE, got {item!r}")
        config[key] = value
    config.pop("name", None)
    return name, {key: str(value) for key, value in config.items()}


def _request(method: str, url: str, body: dict | None = None) -> tuple[int, dict | list | None]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Accept", "application/json")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            payload = response.read()
            return response.status, json.loads(payload) if payload else None
    except urllib.error.HTTPError as error:
        payload = error.read()
        try:
            return error.code, json.loads(payload) if payload else None
        except ValueError:
            return error.code, {"message": payload.decode(errors="replace")[:200]}


def _put_config(connect_url: str, name: str, config: dict, deadline: float) -> bool:
    """PUT the configuration, retrying while the worker is busy; True when created."""
    url = f"{connect_url}/connectors/{urllib.parse.quote(name, safe='')}/config"
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            status, answer = _request("PUT", url, config)
        except OSError as error:  # not listening yet, connection reset
            last = str(error)
        else:
            if status in (200, 201):
                return status == 201
            message = (answer or {}).get("message", "") if isinstance(answer, dict) else ""
            if status not in RETRYABLE_STATUS:
                raise ConnectorError(f"Connect refused the configuration ({status}): {message}")
            last = f"HTTP {status} {message}".strip()
        time.sleep(POLL_INTERVAL)
    raise ConnectorError(f"could not apply connector {name!r} at {connect_url}: {last}")


def _first_failure(status: dict) -> str | None:
    """The first line of the trace of the connector or a task in FAILED state, if any."""
    parts = [("connector", status.get("connector", {}))]
    parts += [(f"task {t.get('id')}", t) for t in status.get("tasks", [])]
    for what, part in parts:
        if part.get("state") == "FAILED":
            trace = (part.get("trace") or "no trace").strip().splitlines()
            return f"{what} FAILED: {trace[0] if trace else 'no trace'}"
    return None


def _all_running(status: dict) -> bool:
    tasks = status.get("tasks", [])
    return (
        status.get("connector", {}).get("state") == "RUNNING"
        and bool(tasks)
        and all(task.get("state") == "RUNNING" for task in tasks)
    )


def wait_running(connect_url: str, name: str, deadline: float) -> dict:
    """Poll the status until connector and tasks run; raise on FAILED or at the deadline."""
    url = f"{connect_url}/connectors/{urllib.parse.quote(name, safe='')}/status"
    seen = "no status yet"
    while time.monotonic() < deadline:
        try:
            code, status = _request("GET", url)
        except OSError as error:
            seen = str(error)
        else:
            if code == 200 and isinstance(status, dict):
                failure = _first_failure(status)
                if failure:
                    raise ConnectorError(f"connector {name!r}: {failure}")
                if _all_running(status):
                    return status
                tasks = ",".join(t.get("state", "?") for t in status.get("tasks", [])) or "none"
                seen = f"connector {status.get('connector', {}).get('state')}, tasks {tasks}"
            else:
                seen = f"HTTP {code}"
        time.sleep(POLL_INTERVAL)
    raise ConnectorError(f"connector {name!r} not RUNNING in time ({seen})")


def apply(connect_url: str, name: str, config: dict, timeout: float) -> dict:
    """Create or update `name` with `config` and wait until it and its tasks are RUNNING."""
    connect_url = connect_url.rstrip("/")
    deadline = time.monotonic() + timeout
    created = _put_config(connect_url, name, config, deadline)
    log.info("connector %s %s", name, "created" if created else "updated")
    return wait_running(connect_url, name, deadline)


def _run_apply(args: argparse.Namespace) -> int:
    try:
        name, config = load_config(args.file, args.name, args.set)
        apply(args.connect_url, name, config, args.timeout)
    except ConnectorError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except (OSError, ValueError) as error:
        print(f"error: {args.file}: {error}", file=sys.stderr)
        return 1
    print(f"connector {name} RUNNING")
    return 0


def register(subparsers) -> None:
    """Add `connector apply` to the hospital-exporter command line."""
    connector = subparsers.add_parser("connector", help="manage the Debezium connector")
    actions = connector.add_subparsers(dest="connector_command", required=True)
    parser = actions.add_parser(
        "apply",
        help="create or update a connector and wait until it runs",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("file", type=Path, help="connector JSON ({name, config} or a flat map)")
    parser.add_argument("--connect-url", required=True, help="Kafka Connect REST URL")
    parser.add_argument("--name", help="connector name (default: the file's name)")
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="override a setting"
    )
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait")
    parser.set_defaults(func=_run_apply)


def main(argv: list[str] | None = None) -> int:
    """Run `connector ...` on its own, e.g. `python -m exporter.connectors apply ...`."""
    parser = argparse.ArgumentParser(prog="hospital-exporter")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["connector", *(argv if argv is not None else sys.argv[1:])])
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
