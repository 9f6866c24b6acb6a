"""The current rows of the source tables, and the KPIs derived from them.

Every change replaces the stored row of its primary key, so duplicates, re-deliveries and
updates cannot make a KPI drift: the KPIs are always a function of the rows. A few indexes
(visits per day, latest status per visit, paid bills per day...) are kept beside the rows so a
scrape does not walk every row; each index entry is recomputed from the row it belongs to.

Not thread-safe by itself: the consumer applies changes and the HTTP handlers read KPIs under
`lock`.
"""

from __future__ import annotations

import gc
import threading
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial

from exporter.decode import DAY_US
from exporter.tables import (
    ADMISSIONS,
    BILLS,
    CLASSIFICATIONS,
    DOCTOR_SPECIALITIES,
    SPECIALITIES,
    STATUS_HISTORY,
    STATUSES,
    TABLES,
    VISITS,
)

try:
    from exporter import _rowscan
except ImportError:  # built without a C compiler: every table's store is the Python one
    _rowscan = None

UNASSIGNED = "Unassigned"
UNKNOWN = "Unknown"
_NO_TIME = -(1 << 62)  # sorts a status row without a time before every timed one
# Deleted keys whose source position is remembered, per table, to refuse an older version of
# the row that a re-delivery brings back; the oldest are forgotten first.
DELETED_POSITIONS_KEPT = 100_000


@dataclass
class Reference:
    """Names from the settings' `reference:` block, for tables that are not streamed."""

    classifications: dict[int, str] = field(default_factory=dict)
    statuses: dict[int, str] = field(default_factory=dict)
    specialities: dict[int, str] = field(default_factory=dict)
    doctor_specialities: dict[int, dict[int, bool]] = field(default_factory=dict)


@dataclass
class Kpis:
    visits_today: dict[str, int]
    admissions_today: int
    inpatients: int
    waiting: dict[tuple[str, str], int]  # (classification, speciality) -> patients
    revenue_paid_today: Decimal
    classifications: list[str]
    specialities: list[str]

    def waiting_by(self, position: int) -> dict[str, int]:
        names = self.classifications if position == 0 else self.specialities
        totals = dict.fromkeys(names, 0)
        for pair, count in self.waiting.items():
            totals[pair[position]] = totals.get(pair[position], 0) + count
        return totals


def collect_cycles_less_often() -> None:
    """Tune the cyclic garbage collector for a process that holds a state.

    The state is millions of small tuples, sets and dicts without reference cycles, which the
    collector would otherwise walk again and again while a replay allocates; collecting young
    objects less often keeps it out of the per-event path (reference counting still frees
    everything at once)."""
    gc.set_threshold(50_000, 50, 100)


def _day(wall_us: int | None) -> int | None:
    return None if wall_us is None else wall_us // DAY_US


class HospitalState:
    def __init__(
        self,
        reference: Reference | None = None,
        waiting_status: str = "Waiting",
        compiled: bool = True,
    ):
        self.lock = threading.Lock()
        # Whether each table's store runs compiled (exporter._rowscan.TableStore) when it can.
        self.compiled = compiled and _rowscan is not None
        self.reference = reference or Reference()
        self.waiting_status = waiting_status
        # table name -> {primary key: (row tuple, source position)}
        self.rows: dict[str, dict] = {table.name: {} for table in TABLES}
        self._deleted: dict[str, dict] = {table.name: {} for table in TABLES}
        self._visits_by_day: dict[int, set] = defaultdict(set)
        self._admissions_by_day: dict[int, set] = defaultdict(set)
        self._open_admissions: set = set()
        self._paid_by_day: dict[int, dict] = defaultdict(dict)
        self._history_by_visit: dict[int, list] = {}  # a few rows a visit: a list is smaller
        # visit -> (StatusTime, HistoryID, StatusID) of its latest existing status row
        self._latest: dict[int, tuple] = {}
        self._visits_by_latest_status: dict[int, set] = defaultdict(set)
        self._specialities_by_doctor: dict[int, dict[int, bool]] = defaultdict(dict)
        # Visits forgotten by prune(); their late rows are not kept either.
        self._pruned_visits: set = set()
        # The indexes are Python, called once per event even from the compiled store: with
        # the catch-up's prunes they are most of what a replay spends beyond the Kafka client,
        # which keeps it under 80% of the client's raw rate (README, limits).
        self._indexers = {
            VISITS.name: (self._index_visit, self._unindex_visit),
            STATUS_HISTORY.name: (self._status_index(), self._unindex_status),
            ADMISSIONS.name: (self._index_admission, self._unindex_admission),
            BILLS.name: (self._index_bill, self._unindex_bill),
            DOCTOR_SPECIALITIES.name: (self._index_doctor, self._unindex_doctor),
        }
        self._stores = {table.name: self._table_store(table.name) for table in TABLES}

    # -- applying changes -------------------------------------------------------------------

    def store(self, name: str, key, row: tuple | None, position: tuple | None) -> bool:
        """The row of `key` in table `name` is now `row` (None: deleted), unless `position`
        shows it is older than the version held."""
        return self._stores[name](key, row, position)

    def store_of(self, name: str):
        """`store` for one table, as a function of (key, row, position): the per-event path
        resolves the table once per batch instead of once per event."""
        return self._stores[name]

    def _table_store(self, name: str):
        rows = self.rows[name]
        deleted = self._deleted[name]
        index, unindex = self._indexers.get(name, (None, None))
        pruned_visits = self._pruned_visits
        # The column that names a row's visit, for the rows a prune has forgotten.
        visit_column = {VISITS.name: 0, STATUS_HISTORY.name: 1}.get(name)

        def store(key, row: tuple | None, position: tuple | None) -> bool:
            old = rows.get(key)
            if position is not None:
                if old is not None:
                    known = old[1]
                else:
                    known = deleted.get(key) if deleted else None
                if known is not None:
                    try:
                        if position < known:
                            return False
                    except TypeError:  # positions of two connectors cannot be compared
                        pass
            if old is not None:
                del rows[key]
                if unindex is not None:
                    unindex(key, old[0])
            if row is None:
                if position is not None:
                    self._remember_delete(name, key, position)
                return True
            if pruned_visits and visit_column is not None and row[visit_column] in pruned_visits:
                return True
            rows[key] = (row, position)
            if index is not None:
                index(key, row)
            return True

        if self.compiled:  # the same steps on the same dicts, in C
            return _rowscan.TableStore(
                rows,
                deleted,
                index,
                unindex,
                pruned_visits,
                -1 if visit_column is None else visit_column,
                partial(self._remember_delete, name),
            )
        return store

    def _remember_delete(self, name: str, key, position: tuple) -> None:
        deleted = self._deleted[name]
        deleted[key] = position
        if len(deleted) > DELETED_POSITIONS_KEPT:
            del deleted[next(iter(deleted))]

    def _index_visit(self, key, row: tuple) -> None:
        if row[3] is not None:
            self._visits_by_day[row[3] // DAY_US].add(key)

    def _unindex_visit(self, key, row: tuple) -> None:
        _discard(self._visits_by_day, _day(row[3]), key)

    def _status_index(self):
        """Indexes a status row: its visit's history, and the visit's latest status.

        A status row comes with nearly every other change event, so the indexes are bound
        here once and the latest status is moved inline rather than through _set_latest."""
        history_by_visit = self._history_by_visit
        latest_by_visit = self._latest
        visits_by_status = self._visits_by_latest_status

        def index(key, row: tuple) -> None:
            visit = row[1]
            history = history_by_visit.get(visit)
            if history is None:
                history_by_visit[visit] = [key]
            else:
                history.append(key)
            time = _NO_TIME if row[3] is None else row[3]
            latest = latest_by_visit.get(visit)
            if latest is not None:
                if time < latest[0] or (time == latest[0] and key <= latest[1]):
                    return  # not later than the latest status
                visits = visits_by_status.get(latest[2])
                if visits is not None:
                    visits.discard(visit)
                    if not visits:
                        del visits_by_status[latest[2]]
            latest_by_visit[visit] = (time, key, row[2])
            visits_by_status[row[2]].add(visit)

        return index

    def _unindex_status(self, key, row: tuple) -> None:
        visit = row[1]
        history = self._history_by_visit.get(visit)
        if history is None or key not in history:
            return
        history.remove(key)
        latest = self._latest.get(visit)
        if latest is None or latest[1] != key:
            return
        # The latest status row changed or went away: the one before it applies now.
        rows = self.rows[STATUS_HISTORY.name]
        best = None
        for history_id in history:
            other = rows[history_id][0]
            candidate = (_NO_TIME if other[3] is None else other[3], history_id, other[2])
            if best is None or candidate[:2] > best[:2]:
                best = candidate
        self._set_latest(visit, best, latest)
        if not history:
            del self._history_by_visit[visit]

    def _set_latest(self, visit, latest: tuple | None, previous: tuple | None) -> None:
        if previous is not None:
            _discard(self._visits_by_latest_status, previous[2], visit)
        if latest is None:
            self._latest.pop(visit, None)
            return
        self._latest[visit] = latest
        self._visits_by_latest_status[latest[2]].add(visit)

    def _index_admission(self, key, row: tuple) -> None:
        day = _day(row[1])
        if day is not None:
            self._admissions_by_day[day].add(key)
        if row[2] is None:
            self._open_admissions.add(key)

    def _unindex_admission(self, key, row: tuple) -> None:
        _discard(self._admissions_by_day, _day(row[1]), key)
        self._open_admissions.discard(key)

    def _index_bill(self, key, row: tuple) -> None:
        if row[2] == "Paid" and row[3] is not None and row[1] is not None:
            self._paid_by_day[_day(row[3])][key] = row[1]

    def _unindex_bill(self, key, row: tuple) -> None:
        if row[3] is not None:
            paid = self._paid_by_day.get(_day(row[3]))
            if paid is not None:
                paid.pop(key, None)
                if not paid:
                    del self._paid_by_day[_day(row[3])]

    def _index_doctor(self, key, row: tuple) -> None:
        self._specialities_by_doctor[row[0]][row[1]] = bool(row[2])

    def _unindex_doctor(self, key, row: tuple) -> None:
        specialities = self._specialities_by_doctor.get(row[0])
        if specialities is not None:
            specialities.pop(row[1], None)
            if not specialities:
                del self._specialities_by_doctor[row[0]]

    # -- names ------------------------------------------------------------------------------

    def _names(self, table, configured: dict[int, str]) -> dict[int, str]:
        names = dict(configured)
        for key, (row, _) in self.rows[table.name].items():
            if row[1] is not None:
                names[key] = row[1]
        return names

    def speciality_of(self, doctor, speciality_names: dict[int, str]) -> str:
        """The doctor's primary speciality; else the lowest SpecialityID; else Unassigned."""
        specialities = self._specialities_by_doctor.get(doctor)
        if not specialities:
            specialities = self.reference.doctor_specialities.get(doctor)
        if not specialities:
            return UNASSIGNED
        primary = [sid for sid, is_primary in specialities.items() if is_primary]
        chosen = min(primary) if primary else min(specialities)
        return speciality_names.get(chosen, UNKNOWN)

    # -- KPIs -------------------------------------------------------------------------------

    def kpis(self, today: int) -> Kpis:
        """The KPIs for the local day number `today` (wall-clock days since the epoch)."""
        classification_names = self._names(CLASSIFICATIONS, self.reference.classifications)
        speciality_names = self._names(SPECIALITIES, self.reference.specialities)
        status_names = self._names(STATUSES, self.reference.statuses)
        visits = self.rows[VISITS.name]

        visits_today = Counter(dict.fromkeys(classification_names.values(), 0))
        for visit in self._visits_by_day.get(today, ()):
            classification = visits[visit][0][2]
            visits_today[classification_names.get(classification, UNKNOWN)] += 1

        waiting: Counter = Counter()
        for status_id, name in status_names.items():
            if name != self.waiting_status:
                continue
            for visit in self._visits_by_latest_status.get(status_id, ()):
                row = visits.get(visit)
                if row is None:  # its Visits row has not arrived yet
                    continue
                classification = classification_names.get(row[0][2], UNKNOWN)
                waiting[(classification, self.speciality_of(row[0][1], speciality_names))] += 1

        paid = self._paid_by_day.get(today, {})
        return Kpis(
            visits_today=dict(visits_today),
            admissions_today=len(self._admissions_by_day.get(today, ())),
            inpatients=len(self._open_admissions),
            waiting=dict(waiting),
            revenue_paid_today=sum(paid.values(), Decimal(0)),
            classifications=sorted(set(classification_names.values())),
            specialities=sorted(set(speciality_names.values())),
        )

    # -- bounding memory --------------------------------------------------------------------

    def prune(self, today: int, keep_days: int, final_statuses: set[str]) -> dict[str, int]:
        """Drop rows that can no longer change a KPI; returns how many per table.

        Kept always: today's and open admissions, paid-today bills, every visit whose latest
        status is not final, and every visit of the last `keep_days` days. A forgotten visit
        stays forgotten: its late rows are not kept. Status rows of one visit travel on
        different partitions, but an older row arriving after the final one changes nothing,
        so this holds during the start-up catch-up too. What it cannot see is a visit
        re-opened after its final status (a newer, non-final status row): if that row comes
        after the prune, the visit is not counted (README, limits).
        """
        horizon = today - keep_days
        status_names = self._names(STATUSES, self.reference.statuses)
        final_ids = {sid for sid, name in status_names.items() if name in final_statuses}
        dropped: Counter = Counter()
        self._forget_finished_visits(final_ids, horizon * DAY_US, dropped)
        for key, (row, _) in list(self.rows[ADMISSIONS.name].items()):
            if row[2] is not None and (row[1] is None or _day(row[1]) < today):
                self._drop(ADMISSIONS, key)
                dropped[ADMISSIONS.name] += 1
        # Nearly every bill read in a catch-up goes here, so the loop does the unindexing
        # itself; only a paid bill with a date is in an index.
        bill_rows = self.rows[BILLS.name]
        today_us = today * DAY_US
        unpaid = [
            key
            for key, (row, _) in bill_rows.items()
            if not (row[2] == "Paid" and row[3] is not None and row[3] >= today_us)
        ]
        for key in unpaid:
            row = bill_rows.pop(key)[0]
            if row[3] is not None:
                self._unindex_bill(key, row)
        if unpaid:
            dropped[BILLS.name] += len(unpaid)
        return dict(dropped)

    def _forget_finished_visits(self, final_ids: set, horizon_us: int, dropped: Counter) -> None:
        """Forgets each visit whose latest status is final and which has neither that status
        nor its start on or after the horizon, with its status rows, all in one loop: in a
        catch-up that is most visits read, each with a few status rows."""
        history_by_visit = self._history_by_visit
        latest_by_visit = self._latest
        visits_by_status = self._visits_by_latest_status
        status_rows = self.rows[STATUS_HISTORY.name]
        visit_rows = self.rows[VISITS.name]
        pruned_visits = self._pruned_visits
        visits_dropped = statuses_dropped = 0
        for status_id in final_ids:
            finished = visits_by_status.get(status_id)
            if not finished:
                continue
            for visit in list(finished):
                if latest_by_visit[visit][0] >= horizon_us:
                    continue
                row = visit_rows.get(visit)
                if row is not None and row[0][3] is not None and row[0][3] >= horizon_us:
                    continue
                finished.discard(visit)
                del latest_by_visit[visit]
                history = history_by_visit.pop(visit, None)
                if history:
                    for history_id in history:
                        del status_rows[history_id]
                    statuses_dropped += len(history)
                if row is not None:
                    del visit_rows[visit]
                    self._unindex_visit(visit, row[0])
                    visits_dropped += 1
                pruned_visits.add(visit)
            if not finished:
                del visits_by_status[status_id]
        if statuses_dropped:
            dropped[STATUS_HISTORY.name] += statuses_dropped
        if visits_dropped:
            dropped[VISITS.name] += visits_dropped

    def _drop(self, table, key) -> None:
        row, _ = self.rows[table.name].pop(key)
        self._indexers[table.name][1](key, row)

    def row_counts(self) -> dict[str, int]:
        return {name: len(rows) for name, rows in self.rows.items()}


def _discard(index: dict, bucket, key) -> None:
    members = index.get(bucket)
    if members is not None:
        members.discard(key)
        if not members:
            del index[bucket]
