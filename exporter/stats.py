"""The KPIs of "now": the local day in the hospital's zone, and the `/stats` JSON document."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from exporter.decode import DAY_US, wall_us_from_datetime
from exporter.state import HospitalState, Kpis
from exporter.telemetry import Telemetry

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def local_day(now: datetime, tz: ZoneInfo) -> int:
    """The hospital's calendar day of `now`, as wall-clock days since the epoch."""
    return wall_us_from_datetime(now, tz) // DAY_US


def day_start(now: datetime, tz: ZoneInfo) -> datetime:
    """The local midnight that began the hospital's current day (an aware datetime)."""
    local = now.astimezone(tz)
    return datetime.combine(local.date(), time(0), tzinfo=tz)


def current_kpis(state: HospitalState, now: datetime, tz: ZoneInfo) -> Kpis:
    with state.lock:
        return state.kpis(local_day(now, tz))


def stats_document(kpis: Kpis, telemetry: Telemetry) -> dict:
    """The `/stats` JSON: the same keys and meanings as the original dashboard API."""
    last = telemetry.last_applied_at
    return {
        "visits_today_total": sum(kpis.visits_today.values()),
        "visits_today_by_classification": kpis.visits_today,
        "admissions_today": kpis.admissions_today,
        "inpatients_now": kpis.inpatients,
        "waiting_now_by_speciality": _without_empty_extras(kpis.waiting_by(1), kpis.specialities),
        "waiting_now_by_classification": kpis.waiting_by(0),
        "revenue_paid_today": float(kpis.revenue_paid_today),
        "last_update": None if last is None else datetime.fromtimestamp(last, UTC).isoformat(),
    }


def _without_empty_extras(counts: dict[str, int], known: list[str]) -> dict[str, int]:
    """Known names always appear; Unassigned and Unknown only while someone waits there."""
    return {name: count for name, count in counts.items() if name in known or count}
