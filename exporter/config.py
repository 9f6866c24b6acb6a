"""Settings: defaults, then a YAML file, then environment variables, then command-line flags.

Each setting has a dotted name (`kafka.bootstrap-servers`), a flag of the same name
(`--kafka.bootstrap-servers`) and an environment twin (`HOSPITAL_EXPORTER_KAFKA_BOOTSTRAP_SERVERS`).
`kafka.client` is a map handed to the Kafka client as it is (SASL, SSL...); single entries can
be set with `--kafka.client.KEY=VALUE` or `HOSPITAL_EXPORTER_KAFKA_CLIENT_KEY`. String values in
the YAML file may name environment variables as `${NAME}`, so secrets stay out of the file.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from exporter.state import Reference

ENV_PREFIX = "HOSPITAL_EXPORTER_"
CLIENT_PREFIX = "kafka.client."


class ConfigError(Exception):
    """A setting that cannot be used; the message is one line for the operator."""


@dataclass(frozen=True)
class Setting:
    name: str
    default: object
    parse: Callable[[object], object]
    help: str

    @property
    def env(self) -> str:
        return ENV_PREFIX + re.sub(r"[.\-]", "_", self.name).upper()


def _text(value: object) -> str:
    if isinstance(value, (dict, list)) or value is None:
        raise ValueError("expected a text value")
    return str(value)


def _integer(value: object) -> int:
    if isinstance(value, bool):
        raise ValueError("expected a whole number")
    return int(value)


def _positive_number(value: object) -> float:
    number = float(value)
    if number <= 0:
        raise ValueError("expected a number above zero")
    return number


def _mapping(value: object) -> dict:
    if isinstance(value, str):
        value = yaml.safe_load(value) or {}
    if not isinstance(value, dict):
        raise ValueError("expected a map")
    return value


def _names(value: object) -> list[str]:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if not isinstance(value, list):
        raise ValueError("expected a list of names")
    return [str(part) for part in value]


def _timezone(value: object) -> ZoneInfo:
    try:
        return ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown IANA time zone {value!r}") from None


def _choice(*choices: str) -> Callable[[object], str]:
    def parse(value: object) -> str:
        text = str(value).lower()
        if text not in choices:
            raise ValueError(f"expected one of {', '.join(choices)}")
        return text

    return parse


def _listen_address(value: object) -> tuple[str, int]:
    text = str(value)
    host, _, port = text.rpartition(":")
    if not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError("expected HOST:PORT or :PORT")
    return host.strip("[]"), int(port)


def _topic_pattern(value: object) -> str:
    text = str(value)
    if "{table}" not in text:
        raise ValueError("the pattern must contain {table}")
    try:
        text.format(prefix="p", database="d", schema="s", table="t")
    except (KeyError, IndexError, ValueError):
        raise ValueError("only {prefix}, {database}, {schema} and {table} may be used") from None
    return text


SETTINGS = [
    Setting("web.listen-address", ":9745", _listen_address, "HTTP address for all endpoints"),
    Setting("kafka.bootstrap-servers", "localhost:9092", _text, "Kafka brokers, comma-separated"),
    Setting(
        "kafka.client-library",
        "kafka-python",
        _choice("kafka-python", "confluent-kafka"),
        "the Kafka client; confluent-kafka (an extra) catches up in about 60% of the time",
    ),
    Setting("kafka.client", {}, _mapping, "extra settings of that client, in its names (map)"),
    Setting("kafka.poll-timeout", 0.5, _positive_number, "seconds one poll waits for messages"),
    Setting("kafka.health-interval", 5.0, _positive_number, "seconds between broker checks"),
    Setting("topics.prefix", "hospital", _text, "Debezium topic.prefix"),
    Setting("topics.database", "Hospital_Salam", _text, "source database name"),
    Setting("topics.schema", "dbo", _text, "source schema name"),
    Setting(
        "topics.pattern",
        "{prefix}.{database}.{schema}.{table}",
        _topic_pattern,
        "topic name of a table; PostgreSQL connectors use {prefix}.{schema}.{table}",
    ),
    Setting("topics.table-case", "preserve", _choice("preserve", "lower"), "table name case"),
    Setting("timezone", "UTC", _timezone, "the hospital's IANA time zone; 'today' is local"),
    Setting("currency", "EGP", _text, "currency of the amounts, a label on revenue"),
    Setting("state.retention-days", 2, _integer, "days a finished visit is kept"),
    Setting("state.prune-interval", 60.0, _positive_number, "seconds between prunes"),
    Setting("state.waiting-status", "Waiting", _text, "VisitStatus name counted as waiting"),
    Setting(
        "state.final-statuses",
        ["Finished", "Discharged", "Cancelled", "No-Show"],
        _names,
        "statuses after which a visit can be forgotten",
    ),
    Setting("alerts.waiting-threshold.default", 10, _integer, "waiting patients that alert"),
    Setting("alerts.waiting-threshold.speciality", {}, _mapping, "threshold per speciality"),
    Setting("alerts.waiting-threshold.classification", {}, _mapping, "per classification"),
    Setting("reference", {}, _mapping, "names for tables that are not streamed (map)"),
    Setting("log.level", "info", _choice("debug", "info", "warning", "error"), "log level"),
    Setting("log.progress-interval", 10.0, _positive_number, "seconds between catch-up logs"),
]
SETTINGS_BY_NAME = {setting.name: setting for setting in SETTINGS}


def _flatten(document: dict, prefix: str = "") -> dict[str, object]:
    """YAML nesting to dotted names; maps that are settings themselves stay whole."""
    flat: dict[str, object] = {}
    for key, value in document.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and name not in SETTINGS_BY_NAME:
            flat.update(_flatten(value, name + "."))
        else:
            flat[name] = value
    return flat


_ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _expand(value: object, environ: dict[str, str]) -> object:
    if isinstance(value, str):

        def lookup(match: re.Match) -> str:
            if match.group(1) not in environ:
                raise ConfigError(f"environment variable {match.group(1)} is not set")
            return environ[match.group(1)]

        return _ENV_REFERENCE.sub(lookup, value)
    if isinstance(value, dict):
        return {key: _expand(item, environ) for key, item in value.items()}
    if isinstance(value, list):
        return [_expand(item, environ) for item in value]
    return value


def load(
    config_file: str | None = None,
    flags: dict[str, str] | None = None,
    environ: dict[str, str] | None = None,
) -> Config:
    """Merge every source of settings; raises ConfigError with one line on a bad one."""
    environ = dict(os.environ if environ is None else environ)
    raw: dict[str, object] = {}
    client: dict[str, object] = {}

    if config_file:
        try:
            document = yaml.safe_load(Path(config_file).read_text()) or {}
        except OSError as error:
            raise ConfigError(f"cannot read {config_file}: {error.strerror}") from None
        except yaml.YAMLError as error:
            raise ConfigError(f"{config_file} is not valid YAML: {error}".splitlines()[0]) from None
        if not isinstance(document, dict):
            raise ConfigError(f"{config_file} must hold a map of settings")
        for name, value in _flatten(_expand(document, environ)).items():
            if name not in SETTINGS_BY_NAME:
                raise ConfigError(f"{config_file}: unknown setting {name!r}")
            raw[name] = value

    for setting in SETTINGS:
        if setting.env in environ:
            raw[setting.name] = environ[setting.env]
    client_env = ENV_PREFIX + "KAFKA_CLIENT_"
    setting_envs = {setting.env for setting in SETTINGS}  # KAFKA_CLIENT_LIBRARY is one
    for variable, value in environ.items():
        if variable.startswith(client_env) and variable not in setting_envs:
            client[variable[len(client_env) :].lower()] = value

    for name, value in (flags or {}).items():
        if name.startswith(CLIENT_PREFIX):
            client[name[len(CLIENT_PREFIX) :].replace("-", "_")] = value
        elif name in SETTINGS_BY_NAME:
            raw[name] = value
        else:
            raise ConfigError(f"unknown flag --{name}")

    values = {}
    for setting in SETTINGS:
        value = raw.get(setting.name, setting.default)
        try:
            values[setting.name] = setting.parse(value)
        except (ValueError, TypeError) as error:
            raise ConfigError(f"bad value for {setting.name}: {error}") from None
    values["kafka.client"] = {**values["kafka.client"], **client}
    return Config(values)


class Config:
    """Parsed settings, read by dotted name: `config["kafka.bootstrap-servers"]`."""

    def __init__(self, values: dict[str, object]) -> None:
        self._values = values
        self.reference = parse_reference(values["reference"])

    def __getitem__(self, name: str):
        return self._values[name]

    def topic(self, table: str) -> str:
        if self["topics.table-case"] == "lower":
            table = table.lower()
        return self["topics.pattern"].format(
            prefix=self["topics.prefix"],
            database=self["topics.database"],
            schema=self["topics.schema"],
            table=table,
        )

    def waiting_threshold(self, kind: str, name: str) -> int:
        overrides = self[f"alerts.waiting-threshold.{kind}"]
        return int(overrides.get(name, self["alerts.waiting-threshold.default"]))


def _id_names(block: object, what: str) -> dict[int, str]:
    if block is None:
        return {}
    if not isinstance(block, dict):
        raise ConfigError(f"reference.{what} must map IDs to names")
    try:
        return {int(key): str(value) for key, value in block.items()}
    except ValueError:
        raise ConfigError(f"reference.{what} must map whole-number IDs to names") from None


def parse_reference(block: dict) -> Reference:
    """The `reference:` block: classifications, statuses and specialities as {ID: name},
    doctor_specialities as a list of {doctor, speciality, primary}."""
    unknown = set(block) - {"classifications", "statuses", "specialities", "doctor_specialities"}
    if unknown:
        raise ConfigError(f"unknown reference block(s): {', '.join(sorted(unknown))}")
    doctors: dict[int, dict[int, bool]] = {}
    for entry in block.get("doctor_specialities") or []:
        try:
            doctor, speciality = int(entry["doctor"]), int(entry["speciality"])
        except (KeyError, TypeError, ValueError):
            raise ConfigError(
                "reference.doctor_specialities entries need whole-number doctor and speciality"
            ) from None
        doctors.setdefault(doctor, {})[speciality] = bool(entry.get("primary", False))
    return Reference(
        classifications=_id_names(block.get("classifications"), "classifications"),
        statuses=_id_names(block.get("statuses"), "statuses"),
        specialities=_id_names(block.get("specialities"), "specialities"),
        doctor_specialities=doctors,
    )
