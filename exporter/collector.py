"""Prometheus metrics read from the state and the telemetry at scrape time.

Domain metrics, e.g.::

    hospital_visits_today{classification="Emergency"} 16.0
    hospital_waiting_patients{classification="Outpatient",speciality="Cardiology"} 3.0
    hospital_revenue_paid_today{currency="EGP"} 6060.0

Self-metrics carry the prefix ``hospital_exporter_``. No label ever holds an identifier of a
patient, visit, bill or doctor: only table, operation, reason, topic and reference names.
"""

from __future__ import annotations

import math
import platform
import time
from itertools import product

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from exporter import __version__
from exporter.config import Config
from exporter.decode import COMPILED
from exporter.state import UNASSIGNED, HospitalState
from exporter.stats import Clock, current_kpis, day_start
from exporter.tables import TABLES
from exporter.telemetry import Telemetry

OPS = ("c", "u", "d", "r")


class HospitalCollector(Collector):
    def __init__(
        self, config: Config, state: HospitalState, telemetry: Telemetry, clock: Clock
    ) -> None:
        self.config = config
        self.state = state
        self.telemetry = telemetry
        self.clock = clock

    def collect(self):
        started = time.perf_counter()
        now = self.clock()
        kpis = current_kpis(self.state, now, self.config["timezone"])
        yield from self._domain(now, kpis)
        yield from self._thresholds(kpis.classifications, kpis.specialities)
        yield from self._self_metrics(now)
        self.telemetry.collect_duration = time.perf_counter() - started

    def describe(self):
        return []  # generated at scrape time; nothing to check at registration

    def _domain(self, now, kpis):

        visits = GaugeMetricFamily(
            "hospital_visits_today",
            "Visits whose VisitDate is today in the hospital's time zone.",
            labels=["classification"],
        )
        for name, count in sorted(kpis.visits_today.items()):
            visits.add_metric([name], count)
        yield visits

        yield GaugeMetricFamily(
            "hospital_admissions_today",
            "Admissions whose AdmissionDate is today.",
            value=kpis.admissions_today,
        )
        yield GaugeMetricFamily(
            "hospital_inpatients", "Open admissions (no DischargeDate).", value=kpis.inpatients
        )

        waiting = GaugeMetricFamily(
            "hospital_waiting_patients",
            "Visits whose latest status is Waiting, by classification and speciality.",
            labels=["classification", "speciality"],
        )
        pairs = dict.fromkeys(product(kpis.classifications, kpis.specialities + [UNASSIGNED]), 0)
        pairs.update(kpis.waiting)
        for (classification, speciality), count in sorted(pairs.items()):
            waiting.add_metric([classification, speciality], count)
        yield waiting

        revenue = GaugeMetricFamily(
            "hospital_revenue_paid_today",
            "Sum of TotalAmount of bills Paid with a PaymentDate of today.",
            labels=["currency"],
        )
        revenue.add_metric([self.config["currency"]], float(kpis.revenue_paid_today))
        yield revenue

        yield GaugeMetricFamily(
            "hospital_day_start_timestamp_seconds",
            "Unix time of the local midnight that began the hospital's current day.",
            value=day_start(now, self.config["timezone"]).timestamp(),
        )

    def _thresholds(self, classifications, specialities):
        by_speciality = GaugeMetricFamily(
            "hospital_waiting_threshold",
            "Waiting patients per speciality above which the queue alert fires.",
            labels=["speciality"],
        )
        for name in specialities + [UNASSIGNED]:
            by_speciality.add_metric([name], self.config.waiting_threshold("speciality", name))
        yield by_speciality
        by_classification = GaugeMetricFamily(
            "hospital_waiting_threshold_by_classification",
            "Waiting patients per classification above which the queue alert fires.",
            labels=["classification"],
        )
        for name in classifications:
            by_classification.add_metric(
                [name], self.config.waiting_threshold("classification", name)
            )
        yield by_classification

    def _self_metrics(self, now):
        telemetry = self.telemetry
        applied = CounterMetricFamily(
            "hospital_exporter_events_applied",
            "Change events applied to the state, by table and Debezium operation.",
            labels=["table", "op"],
        )
        counts = dict.fromkeys(product((t.name for t in TABLES), OPS), 0)
        counts.update(telemetry.applied)
        for (table, op), count in sorted(counts.items()):
            applied.add_metric([table, op], count)
        yield applied

        skipped = CounterMetricFamily(
            "hospital_exporter_events_skipped",
            "Messages not applied, by table and reason.",
            labels=["table", "reason"],
        )
        for (table, reason), count in sorted(telemetry.skipped.items()):
            skipped.add_metric([table, reason], count)
        yield skipped

        newest = telemetry.newest_source_ts_ms
        yield GaugeMetricFamily(
            "hospital_exporter_last_event_source_timestamp_seconds",
            "Source (database commit) time of the newest change applied.",
            value=0 if newest is None else newest / 1000,
        )
        yield GaugeMetricFamily(
            "hospital_exporter_last_event_age_seconds",
            "Seconds since the source time of the newest change applied.",
            value=math.nan if newest is None else max(0.0, now.timestamp() - newest / 1000),
        )
        yield GaugeMetricFamily(
            "hospital_exporter_last_applied_timestamp_seconds",
            "Unix time at which the last change was applied.",
            value=telemetry.last_applied_at or 0,
        )

        lag = GaugeMetricFamily(
            "hospital_exporter_consumer_lag_messages",
            "Messages between the exporter's position and the end of each partition.",
            labels=["topic", "partition"],
        )
        for (topic, partition), messages in sorted(telemetry.lag.items()):
            lag.add_metric([topic, str(partition)], messages)
        yield lag

        yield GaugeMetricFamily(
            "hospital_exporter_replay_progress_ratio",
            "Share of the start-up catch-up done (1 when caught up).",
            value=telemetry.replay_progress,
        )
        yield GaugeMetricFamily(
            "hospital_exporter_ready",
            "1 once the start-up catch-up reached the end offsets seen at start.",
            value=int(telemetry.ready),
        )
        yield GaugeMetricFamily(
            "hospital_exporter_kafka_connected",
            "1 while the Kafka brokers answer.",
            value=int(telemetry.kafka_connected),
        )
        yield CounterMetricFamily(
            "hospital_exporter_kafka_reconnects",
            "Times the Kafka consumer was rebuilt after losing the brokers.",
            value=telemetry.kafka_reconnects,
        )

        with self.state.lock:
            row_counts = self.state.row_counts()
        rows = GaugeMetricFamily(
            "hospital_exporter_rows", "Rows kept in memory, by table.", labels=["table"]
        )
        pruned = CounterMetricFamily(
            "hospital_exporter_rows_pruned",
            "Rows dropped because they can no longer change a KPI.",
            labels=["table"],
        )
        for table in TABLES:
            rows.add_metric([table.name], row_counts[table.name])
            pruned.add_metric([table.name], telemetry.pruned[table.name])
        yield rows
        yield pruned

        yield GaugeMetricFamily(
            "hospital_exporter_collect_duration_seconds",
            "Seconds the previous scrape's metric collection took.",
            value=telemetry.collect_duration,
        )
        build = GaugeMetricFamily(
            "hospital_exporter_build_info",
            "Version of the exporter and of Python, and whether the per-event decoder runs "
            "compiled or in Python; always 1.",
            labels=["version", "python_version", "decoder"],
        )
        decoder = "compiled" if COMPILED else "python"
        build.add_metric([__version__, platform.python_version(), decoder], 1)
        yield build
