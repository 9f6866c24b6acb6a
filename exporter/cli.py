"""The `hospital-exporter` command: serve, replay, and the database and connector tools."""

from __future__ import annotations

import argparse
import importlib
import logging
import signal
import sys
import threading

from prometheus_client import ProcessCollector
from prometheus_client.registry import CollectorRegistry

from exporter import __version__
from exporter.config import CLIENT_PREFIX, SETTINGS, Config, ConfigError, load

log = logging.getLogger("exporter")


# Modules that add their own subcommands through register(subparsers).
SUBCOMMAND_MODULES = ("exporter.simulate.cli", "exporter.connectors")


def _add_setting_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", help="YAML settings file")
    for setting in SETTINGS:
        if setting.name in ("reference", "kafka.client") or isinstance(setting.default, dict):
            continue
        default = setting.default
        if isinstance(default, list):
            default = ",".join(default)
        parser.add_argument(
            f"--{setting.name}",
            dest=setting.name,
            metavar="VALUE",
            default=None,
            help=f"{setting.help} (default: {default}; env: {setting.env})",
        )
    parser.epilog = (
        f"Kafka client settings: --{CLIENT_PREFIX}KEY=VALUE (e.g. "
        f"--{CLIENT_PREFIX}security_protocol=SASL_SSL) or HOSPITAL_EXPORTER_KAFKA_CLIENT_KEY. "
        "Maps (reference names, per-speciality thresholds) are set in the YAML file."
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hospital-exporter",
        description="Live hospital KPIs from Debezium change events.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = subparsers.add_parser("serve", help="consume Kafka and serve /metrics and /stats")
    _add_setting_flags(serve)
    serve.set_defaults(func=run_serve)

    replay = subparsers.add_parser(
        "replay", help="apply kcat -J dumps and print the /stats document"
    )
    replay.add_argument("dumps", nargs="+", metavar="DUMP", help="files of kcat -C -J output")
    replay.add_argument("--now", help="ISO-8601 time the KPIs are computed for (default: now)")
    replay.add_argument("--timezone", help="hospital time zone, overriding the settings")
    replay.add_argument("--config", metavar="FILE", help="YAML settings file")
    replay.set_defaults(func=run_replay)

    for module_name in SUBCOMMAND_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name != module_name:
                raise
            continue
        module.register(subparsers)
    return parser


def _split_client_flags(argv: list[str]) -> tuple[list[str], dict[str, str]]:
    """Pull out --kafka.client.KEY=VALUE flags, which argparse cannot declare up front."""
    rest, client = [], {}
    items = iter(argv)
    for item in items:
        if item.startswith("--" + CLIENT_PREFIX):
            name, has_value, value = item[2:].partition("=")
            if not has_value:
                value = next(items, "")
            client[name] = value
        else:
            rest.append(item)
    return rest, client


def _setup_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("kafka").setLevel(logging.ERROR)  # its reconnect chatter is ours to tell


def run_serve(args: argparse.Namespace, client_flags: dict[str, str]) -> int:
    flags = {
        s.name: getattr(args, s.name) for s in SETTINGS if getattr(args, s.name, None) is not None
    }
    config = load(args.config, {**flags, **client_flags})
    _setup_logging(config["log.level"])
    return serve(config)


def serve(config: Config) -> int:
    from exporter import confluent
    from exporter.collector import HospitalCollector
    from exporter.decode import COMPILED
    from exporter.pipeline import Pipeline
    from exporter.source import KafkaSource
    from exporter.state import HospitalState, collect_cycles_less_often
    from exporter.stats import utc_now
    from exporter.telemetry import Telemetry
    from exporter.web import Endpoints, WebServer

    if config["kafka.client-library"] == "confluent-kafka":
        try:
            confluent.require()
        except ImportError as error:
            raise ConfigError(str(error)) from None
    collect_cycles_less_often()
    state = HospitalState(config.reference, config["state.waiting-status"])
    telemetry = Telemetry()
    registry = CollectorRegistry()
    registry.register(HospitalCollector(config, state, telemetry, utc_now))
    registry.register(ProcessCollector(registry=None))
    endpoints = Endpoints(registry, state, telemetry, utc_now, config["timezone"])
    try:
        web = WebServer(config["web.listen-address"], endpoints)
    except OSError as error:
        host, port = config["web.listen-address"]
        raise ConfigError(f"cannot listen on {host or '*'}:{port}: {error.strerror}") from None
    source = KafkaSource(config, Pipeline(config, state, telemetry), telemetry, utc_now)

    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    web.start()
    source.start()
    host, _ = config["web.listen-address"]
    log.info(
        "hospital-exporter %s serving on %s:%d, reading %s from %s",
        __version__,
        host or "*",
        web.port,
        ", ".join(source.pipeline.topics),
        config["kafka.bootstrap-servers"],
    )
    if not COMPILED:
        log.warning(
            "the compiled decoder (exporter/_rowscan.c) was not built at install (no C "
            "compiler?); decoding in Python, which makes the start-up catch-up slower"
        )
    stopping.wait()
    log.info("stopping")
    source.stop()
    web.stop()
    return 0


def run_replay(args: argparse.Namespace, client_flags: dict[str, str]) -> int:
    from exporter.replay import parse_now, print_document, replay

    flags = {"timezone": args.timezone} if args.timezone else {}
    config = load(args.config, flags)
    _setup_logging(config["log.level"])
    try:
        now = parse_now(args.now, config["timezone"])
    except ValueError:
        raise ConfigError(f"--now {args.now!r} is not an ISO-8601 time") from None
    for path in args.dumps:
        try:
            open(path, "rb").close()
        except OSError as error:
            raise ConfigError(f"cannot read {path}: {error.strerror}") from None
    print_document(replay(config, args.dumps, now))
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    argv, client_flags = _split_client_flags(argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.func in (run_serve, run_replay):
            return args.func(args, client_flags)
        return args.func(args)
    except ConfigError as error:
        print(f"hospital-exporter: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
