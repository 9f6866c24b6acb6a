"""The HTTP endpoints: /metrics, /stats, /ready, /healthz and a landing page."""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import CollectorRegistry

from exporter import __version__
from exporter.state import HospitalState
from exporter.stats import Clock, current_kpis, stats_document
from exporter.telemetry import Telemetry

log = logging.getLogger(__name__)

LANDING_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Hospital activity exporter</title></head>
<body><h1>Hospital activity exporter {version}</h1>
<ul>
<li><a href="/metrics">/metrics</a> Prometheus metrics</li>
<li><a href="/stats">/stats</a> the live KPIs as JSON</li>
<li><a href="/ready">/ready</a> 200 once caught up with Kafka and connected</li>
<li><a href="/healthz">/healthz</a> 200 while the process runs</li>
</ul></body></html>
"""


class Endpoints:
    """What the handler serves; kept apart from the HTTP plumbing so tests can call it."""

    def __init__(
        self,
        registry: CollectorRegistry,
        state: HospitalState,
        telemetry: Telemetry,
        clock: Clock,
        tz,
    ) -> None:
        self.registry = registry
        self.state = state
        self.telemetry = telemetry
        self.clock = clock
        self.tz = tz

    def stats(self) -> dict:
        kpis = current_kpis(self.state, self.clock(), self.tz)
        return stats_document(kpis, self.telemetry)

    def readiness(self) -> tuple[bool, dict]:
        telemetry = self.telemetry
        body = {
            "caught_up": telemetry.ready,
            "kafka_connected": telemetry.kafka_connected,
            "replay_progress": round(telemetry.replay_progress, 4),
        }
        return telemetry.ready and telemetry.kafka_connected, body


def make_handler(endpoints: Endpoints) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = f"hospital-exporter/{__version__}"

        def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
            path = self.path.split("?", 1)[0]
            try:
                if path == "/metrics":
                    encoder, content_type = choose_encoder(self.headers.get("Accept"))
                    self._send(200, content_type, encoder(endpoints.registry))
                elif path == "/stats":
                    self._send_json(200, endpoints.stats())
                elif path == "/ready":
                    ready, body = endpoints.readiness()
                    self._send_json(200 if ready else 503, body)
                elif path == "/healthz":
                    self._send(200, "text/plain; charset=utf-8", b"ok\n")
                elif path == "/":
                    page = LANDING_PAGE.format(version=__version__).encode()
                    self._send(200, "text/html; charset=utf-8", page)
                else:
                    self._send(404, "text/plain; charset=utf-8", b"not found\n")
            except Exception:  # one bad scrape must not take the server down
                log.exception("error while serving %s", path)
                self._send(500, "text/plain; charset=utf-8", b"internal error\n")

        def _send_json(self, status: int, document: dict) -> None:
            self._send(status, "application/json", json.dumps(document).encode())

        def _send(self, status: int, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            # The original dashboard is opened from disk and fetches /stats from this port.
            self.send_header("Access-Control-Allow-Origin", "*")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args) -> None:  # noqa: A002 - base signature
            log.debug("%s " + format, self.address_string(), *args)

    return Handler


class WebServer:
    def __init__(self, address: tuple[str, int], endpoints: Endpoints) -> None:
        self.httpd = ThreadingHTTPServer(address, make_handler(endpoints))
        self.httpd.daemon_threads = True
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="http", daemon=True)

    @property
    def port(self) -> int:
        return self.httpd.server_address[1]

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
