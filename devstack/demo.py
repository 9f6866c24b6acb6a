"""`make demo`: the whole pipeline on 127.0.0.1, in the foreground until Ctrl-C.

    python -m devstack.demo up      # start everything, print the URLs, wait
    python -m devstack.demo down    # stop a running demo (from another terminal)

PostgreSQL (schema and a generated week) -> Debezium in Kafka Connect -> Kafka -> exporter ->
Prometheus -> Alertmanager, with the live simulator writing new activity. State lives in
run/ and is discarded at the next `up`; every service logs to run/logs/.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import shutil
import signal
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from devstack import stack

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parent.parent
RUN_DIR = REPO / "run"
LOG_DIR = RUN_DIR / "logs"
PID_FILE = RUN_DIR / "demo.pid"
GROUPS_FILE = RUN_DIR / "demo-services.json"
SIM_SPEED = os.environ.get("HOSPITAL_DEMO_SPEED", "60")


class AlertLog:
    """A local webhook for Alertmanager that appends each notification to alerts.log."""

    def __init__(self, path: Path) -> None:
        target = path

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with open(target, "ab") as out:
                    out.write(body + b"\n")
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/alerts"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _record_groups(running: stack.Stack) -> None:
    """Remember every child's process group, so `down` can clean up after a crashed `up`."""
    GROUPS_FILE.write_text(json.dumps(running.process_groups()))


def _print_urls(running: stack.Stack) -> None:
    lines = [
        "",
        "Hospital pipeline demo is running (Ctrl-C or `make demo-stop` stops it):",
        f"  exporter      {running.exporter_url}/  (/stats, /metrics, /ready)",
        f"  prometheus    {running.prometheus.url}/alerts",
        f"  alertmanager  {running.alertmanager.url}/",
        f"  kafka connect {running.connect.url}/connectors?expand=status",
        f"  kafka         {running.kafka.bootstrap}",
        f"  postgresql    127.0.0.1:{running.postgres.port} (database hospital_salam)",
        f"  logs          {LOG_DIR}/",
        "",
    ]
    print("\n".join(lines), flush=True)


def up() -> int:
    if PID_FILE.exists() and _alive(int(PID_FILE.read_text())):
        print(f"a demo is already running (pid {PID_FILE.read_text().strip()})", file=sys.stderr)
        return 1
    _discard_state()
    PID_FILE.write_text(str(os.getpid()))
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())

    with contextlib.ExitStack() as cleanup:
        cleanup.callback(_forget_pid)
        alerts = AlertLog(LOG_DIR / "alerts.log")
        cleanup.callback(alerts.close)
        settings = stack.Settings(
            run_dir=RUN_DIR,
            log_dir=LOG_DIR,
            preferred_ports=stack.WELL_KNOWN_PORTS,
            webhook_url=alerts.url,
            scrape_interval="5s",
        )
        running = cleanup.enter_context(stack.Stack(settings, on_start=_record_groups))
        running.start_simulator(speed=SIM_SPEED)
        _record_groups(running)
        _print_urls(running)
        while not stop.is_set():
            running.check_alive()
            stop.wait(2)
        print("stopping the demo ...", flush=True)
    print("demo stopped", flush=True)
    return 0


def down(timeout: float = 90) -> int:
    """Ask the running `up` to stop; kill what a crashed `up` left behind."""
    if PID_FILE.exists():
        pid = int(PID_FILE.read_text())
        if _alive(pid):
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while _alive(pid) and time.monotonic() < deadline:
                time.sleep(0.5)
    leftovers = _kill_leftover_groups()
    _forget_pid()
    print("demo stopped" + (f" ({leftovers} leftover services killed)" if leftovers else ""))
    return 0


def _kill_leftover_groups() -> int:
    if not GROUPS_FILE.exists():
        return 0
    killed = 0
    for name, pgid in json.loads(GROUPS_FILE.read_text()).items():
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)
            log.warning("killed leftover %s (process group %d)", name, pgid)
            killed += 1
    GROUPS_FILE.unlink(missing_ok=True)
    return killed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of our own shell still "exists"; /proc tells the state.
    with contextlib.suppress(OSError):
        return " Z " not in Path(f"/proc/{pid}/stat").read_text()
    return True


def _forget_pid() -> None:
    PID_FILE.unlink(missing_ok=True)
    GROUPS_FILE.unlink(missing_ok=True)


def _discard_state() -> None:
    """A demo starts from a fresh database and empty topics; old logs go too."""
    if RUN_DIR.exists():
        _kill_leftover_groups()
        shutil.rmtree(RUN_DIR)
    LOG_DIR.mkdir(parents=True)


def status_url(url: str) -> int:
    with urllib.request.urlopen(url, timeout=3) as response:
        return response.status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.demo")
    parser.add_argument("action", choices=("up", "down"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    return up() if args.action == "up" else down()


if __name__ == "__main__":
    sys.exit(main())
