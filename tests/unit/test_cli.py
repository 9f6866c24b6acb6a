"""The command line: settings from file, environment and flags; replay of kcat dumps."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from exporter import confluent
from exporter.cli import main
from exporter.config import ConfigError, load
from tests.support.debezium import Encoder
from tests.support.model import reference_rows

ROOT = Path(__file__).resolve().parents[2]


def test_flags_beat_environment_which_beats_the_file(tmp_path):
    config_file = tmp_path / "exporter.yml"
    config_file.write_text("kafka:\n  bootstrap-servers: from-file:9092\ntimezone: Africa/Cairo\n")
    environ = {"HOSPITAL_EXPORTER_KAFKA_BOOTSTRAP_SERVERS": "from-env:9092"}
    assert load(str(config_file), {}, environ)["kafka.bootstrap-servers"] == "from-env:9092"
    flags = {"kafka.bootstrap-servers": "from-flag:9092"}
    config = load(str(config_file), flags, environ)
    assert config["kafka.bootstrap-servers"] == "from-flag:9092"
    assert str(config["timezone"]) == "Africa/Cairo"


def test_kafka_client_settings_pass_through_and_secrets_come_from_the_environment(tmp_path):
    config_file = tmp_path / "exporter.yml"
    config_file.write_text(
        "kafka:\n  client:\n    security_protocol: SASL_SSL\n"
        "    sasl_plain_password: ${KAFKA_PASSWORD}\n"
    )
    environ = {
        "KAFKA_PASSWORD": "s3cret-from-env",
        "HOSPITAL_EXPORTER_KAFKA_CLIENT_SASL_MECHANISM": "SCRAM-SHA-512",
    }
    config = load(str(config_file), {"kafka.client.sasl_plain_username": "exporter"}, environ)
    assert config["kafka.client"] == {
        "security_protocol": "SASL_SSL",
        "sasl_plain_password": "s3cret-from-env",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "exporter",
    }


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        ({"timezone": "Mars/Olympus"}, "unknown IANA time zone"),
        ({"web.listen-address": "nowhere"}, "web.listen-address"),
        ({"topics.pattern": "{prefix}.{tabel}"}, "topics.pattern"),
        ({"topics.table-case": "upper"}, "topics.table-case"),
        ({"no.such-setting": "1"}, "unknown flag"),
    ],
)
def test_bad_settings_are_one_clear_line(flags, message):
    with pytest.raises(ConfigError) as error:
        load(None, flags, {})
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_a_bad_setting_ends_the_command_with_one_line_and_exit_code_2():
    result = subprocess.run(
        [sys.executable, "-m", "exporter.cli", "serve", "--timezone", "Nowhere/Town"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "hospital-exporter: error: bad value for timezone: unknown IANA time zone 'Nowhere/Town'"
    ]


def test_a_missing_config_file_is_reported_plainly(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "exporter.cli", "serve", "--config", str(tmp_path / "x.yml")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert result.returncode == 2
    assert "cannot read" in result.stderr and "Traceback" not in result.stderr


def write_dump(path: Path, encoder: Encoder, events) -> None:
    with path.open("w") as dump:
        for offset, (table, op, before, after) in enumerate(events):
            row = after or before
            record = {
                "topic": encoder.topic(table),
                "partition": 0,
                "offset": offset,
                "key": encoder.key(table, row).decode(),
                "payload": encoder.value(table, op, before, after).decode(),
            }
            dump.write(json.dumps(record) + "\n")
        dump.write("this line is not a kcat record\n")


def test_replay_prints_the_stats_document_as_of_now(tmp_path, capsys):
    from datetime import datetime

    encoder = Encoder(flavor="sqlserver")
    visit_time = datetime(2026, 12, 3, 8, 15)
    events = [(table, "r", None, row) for table, row in reference_rows()]
    events.append(
        (
            "Visits",
            "c",
            None,
            {
                "VisitID": 1,
                "PatientID": 1,
                "DoctorID": 5,
                "ClassificationID": 3,
                "TypeID": 1,
                "VisitDate": visit_time,
            },
        )
    )
    events.append(
        (
            "VisitStatusHistory",
            "c",
            None,
            {"HistoryID": 1, "VisitID": 1, "StatusID": 2, "StatusTime": visit_time},
        )
    )
    dump = tmp_path / "dump.jsonl"
    write_dump(dump, encoder, events)

    code = main(["replay", "--now", "2026-12-03T12:00:00", "--timezone", "Africa/Cairo", str(dump)])
    document = json.loads(capsys.readouterr().out)
    assert code == 0
    assert document["visits_today_total"] == 1
    assert document["waiting_now_by_classification"]["Emergency"] == 1
    assert document["waiting_now_by_speciality"]["Unassigned"] == 1
    assert set(document) == {
        "visits_today_total",
        "visits_today_by_classification",
        "admissions_today",
        "inpatients_now",
        "waiting_now_by_speciality",
        "waiting_now_by_classification",
        "revenue_paid_today",
        "last_update",
    }

    main(["replay", "--now", "2026-12-04T00:00:01", "--timezone", "Africa/Cairo", str(dump)])
    next_day = json.loads(capsys.readouterr().out)
    assert next_day["visits_today_total"] == 0
    assert next_day["waiting_now_by_classification"]["Emergency"] == 1


def test_the_client_library_is_a_setting_not_a_client_entry():
    environ = {
        "HOSPITAL_EXPORTER_KAFKA_CLIENT_LIBRARY": "confluent-kafka",
        "HOSPITAL_EXPORTER_KAFKA_CLIENT_SECURITY_PROTOCOL": "SASL_SSL",
    }
    config = load(None, {"kafka.client.ssl.ca.location": "/etc/ca.pem"}, environ)
    assert config["kafka.client-library"] == "confluent-kafka"
    assert config["kafka.client"] == {
        "security_protocol": "SASL_SSL",
        "ssl.ca.location": "/etc/ca.pem",
    }
    # librdkafka's names have dots; the environment's underscores become them.
    assert confluent.setting_names(config["kafka.client"]) == {
        "security.protocol": "SASL_SSL",
        "ssl.ca.location": "/etc/ca.pem",
    }


def test_an_unknown_client_library_is_refused():
    with pytest.raises(ConfigError, match="kafka.client-library"):
        load(None, {"kafka.client-library": "librdkafka"}, {})
