"""Test helpers: a local webhook that records Alertmanager's notifications, fast alert rules."""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.monitoring.queries import ALERTS_FILE


class WebhookCapture:
    """An HTTP server on 127.0.0.1 keeping every JSON body POSTed to it."""

    def __init__(self) -> None:
        self.payloads: list[dict] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/alerts"

    def alerts(self, alertname: str, status: str = "firing") -> list[dict]:
        """Alerts of that name and status received so far, across all notifications."""
        with self._lock:
            payloads = list(self.payloads)
        return [
            alert
            for payload in payloads
            for alert in payload["alerts"]
            if alert["labels"]["alertname"] == alertname and alert["status"] == status
        ]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        capture = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with capture._lock:
                    capture.payloads.append(json.loads(body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args) -> None:  # keep pytest's output quiet
                pass

        return Handler

    def __enter__(self) -> WebhookCapture:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()


def write_fast_alert_rules(directory: Path) -> Path:
    """A copy of the production alerts with every `for:` cut to 1s, for end-to-end tests.

    Only the delays change; expressions, labels and annotations are the production ones.
    """
    text = re.sub(r"(?m)^(\s+for:\s*)\S+$", r"\g<1>1s", ALERTS_FILE.read_text())
    path = Path(directory) / "alerts-fast.yml"
    path.write_text(text)
    return path
