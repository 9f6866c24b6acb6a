"""`connector apply` against a small fake Connect REST server (our client, not Kafka)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from exporter import connectors


class FakeConnect:
    """Answers like Kafka Connect: PUT config, then a status that moves to a given state."""

    def __init__(self, final_state: str = "RUNNING", busy_puts: int = 0) -> None:
        self.configs: dict[str, dict] = {}
        self.puts = 0
        self.status_calls = 0
        self.final_state = final_state
        self.busy_puts = busy_puts
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, code, body):
                payload = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_PUT(self):
                name = self.path.split("/")[2]
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.puts += 1
                if fake.puts <= fake.busy_puts:
                    return self._answer(409, {"message": "rebalance in progress"})
                created = name not in fake.configs
                fake.configs[name] = body
                self._answer(201 if created else 200, {"name": name, "config": body})

            def do_GET(self):
                name = self.path.split("/")[2]
                if name not in fake.configs:
                    return self._answer(404, {"message": "not found"})
                fake.status_calls += 1
                state = "UNASSIGNED" if fake.status_calls < 2 else fake.final_state
                task = {"id": 0, "state": state}
                if state == "FAILED":
                    task["trace"] = "org.postgresql.util.PSQLException: auth failed\n\tat x.y"
                self._answer(
                    200, {"name": name, "connector": {"state": "RUNNING"}, "tasks": [task]}
                )

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def connector_file(tmp_path):
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"name": "demo", "config": {"a": "1", "tasks.max": 1}}))
    return path


@pytest.fixture(autouse=True)
def fast_poll(monkeypatch):
    monkeypatch.setattr(connectors, "POLL_INTERVAL", 0.05)


def run(*argv):
    return connectors.main(["apply", *argv])


def test_apply_twice_is_idempotent(connector_file, capsys):
    fake = FakeConnect(busy_puts=1)
    try:
        assert run(str(connector_file), "--connect-url", fake.url, "--set", "a=2") == 0
        assert run(str(connector_file), "--connect-url", fake.url, "--set", "a=2") == 0
        assert fake.configs == {"demo": {"a": "2", "tasks.max": "1"}}
    finally:
        fake.close()
    assert "connector demo RUNNING" in capsys.readouterr().out


def test_failed_task_reports_first_trace_line(connector_file, capsys):
    fake = FakeConnect(final_state="FAILED")
    try:
        assert run(str(connector_file), "--connect-url", fake.url, "--name", "other") == 1
    finally:
        fake.close()
    err = capsys.readouterr().err.strip()
    assert (
        err == "error: connector 'other': task 0 FAILED: org.postgresql.util.PSQLException: "
        "auth failed"
    )


def test_timeout_is_one_clear_line(connector_file, capsys):
    fake = FakeConnect(final_state="UNASSIGNED")
    try:
        code = run(str(connector_file), "--connect-url", fake.url, "--timeout", "0.5")
    finally:
        fake.close()
    assert code == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: connector 'demo' not RUNNING in time")
    assert "\n" not in err


def test_unreachable_worker(connector_file, capsys):
    assert run(str(connector_file), "--connect-url", "http://127.0.0.1:9", "--timeout", "0.3") == 1
    assert "could not apply connector 'demo'" in capsys.readouterr().err


def test_bad_override(connector_file, capsys):
    assert run(str(connector_file), "--connect-url", "http://x", "--set", "novalue") == 1
    assert "KEY=VALUE" in capsys.readouterr().err
