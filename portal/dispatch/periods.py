"""Reporting periods of a dispatch table: where a period starts and ends, when it is due (a
moment in Beijing time), which one is current on a day, and lateness. Pure date arithmetic on a
definition's fields; no queries."""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from portal.errors import Refused
from tenants import clock

PERIOD_LABELS = {"week": "周报", "half_month": "半月报", "month": "月报", "quarter": "季报", "year": "年报"}
WEEKDAYS = {1: "周一", 2: "周二", 3: "周三", 4: "周四", 5: "周五", 6: "周六", 7: "周日"}


class DispatchError(Refused):
    """A step the dispatch rules refuse (a period the table does not have …); the message says
    what to do. Defined here, the lowest floor of the module, so every part of it raises one kind."""


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    due: date
    # Beijing time of day on `due` by which the table must be in; None: by the end of that day.
    due_at: time | None = None

    @property
    def key(self) -> str:
        return self.end.isoformat()

    @property
    def deadline(self) -> datetime:
        """The moment (naive UTC, as clock.now()) from which a submission is late."""
        if self.due_at is None:
            return clock.moment(self.due + timedelta(days=1), time())
        return clock.moment(self.due, self.due_at)

    def late(self, at: datetime) -> bool:
        return at >= self.deadline

    @property
    def due_label(self) -> str:
        return f"{self.due} {self.due_at:%H:%M}" if self.due_at else str(self.due)


def _month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def _day_in(year: int, month: int, day: int) -> date:
    """`day` of the month, or its last day when the month is shorter (a due day of 31 in June)."""
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def period_of(definition, day: date) -> Period:
    """The period of `definition` that contains `day`.

    - week: runs to its due weekday (河北区: Tuesday to Monday), due that day by `due_time`;
    - half_month: the 1st–15th and the 16th–month end, due the day after;
    - month: the calendar month, due on `due_day` of the next (全国: the 5th);
    - quarter: due on `due_day` of its own last month (东丽经开区: the 25th), else at its end;
    - year: due on `due_month`-`due_day` of the same year (东丽经开区: 12-25), else at its end.
    """
    p, due_day = definition.period, definition.due_day
    if p == "week":
        weekday = (due_day or 1) - 1
        end = day + timedelta(days=(weekday - day.weekday()) % 7)
        return Period(end - timedelta(days=6), end, end, definition.due_time)
    if p == "half_month":
        if day.day <= 15:
            start, end = day.replace(day=1), day.replace(day=15)
        else:
            start, end = day.replace(day=16), _month_end(day)
        return Period(start, end, end + timedelta(days=1), definition.due_time)
    if p == "month":
        start, end = day.replace(day=1), _month_end(day)
        following = end + timedelta(days=1)
        return Period(start, end, _day_in(following.year, following.month, due_day or 1), definition.due_time)
    if p == "quarter":
        first = (day.month - 1) // 3 * 3 + 1
        start = day.replace(month=first, day=1)
        end = _month_end(day.replace(month=first + 2, day=1))
        return Period(start, end, _day_in(end.year, end.month, due_day) if due_day else end, definition.due_time)
    start, end = day.replace(month=1, day=1), day.replace(month=12, day=31)
    due = _day_in(day.year, definition.due_month or 12, due_day or 31)
    return Period(start, end, due, definition.due_time)


def first_day(definition) -> date:
    return definition.starts_on or definition.campaign.starts_on


def last_day(definition) -> date:
    return definition.ends_on or definition.campaign.ends_on


def current_period(definition, today: date | None = None) -> Period:
    """The period a unit works on today: the one containing today, unless the one before is not
    yet due (a monthly table is last month's until its due day has passed); never one before the
    table's first period or after its last."""
    today = today or clock.today()
    period = period_of(definition, today)
    before = period_of(definition, period.start - timedelta(days=1))
    if today <= before.due:
        period = before
    if period.end < first_day(definition):
        period = period_of(definition, first_day(definition))
    if period.start > last_day(definition):
        period = period_of(definition, last_day(definition))
    return period


def parse_period(definition, key: str | None, today: date | None = None) -> Period:
    """The period whose end is `key` (YYYY-MM-DD); refused if no such period or not started."""
    today = today or clock.today()
    if not key:
        return current_period(definition, today)
    try:
        end = date.fromisoformat(key)
    except ValueError:
        raise DispatchError("报告期格式不正确。") from None
    period = period_of(definition, end)
    if period.end != end:
        raise DispatchError(f"{end:%Y-%m-%d} 不是本调度表的报告期截止日。")
    if period.start > today:
        raise DispatchError(f"报告期 {period.start:%Y-%m-%d} 至 {period.end:%Y-%m-%d} 尚未开始。")
    if period.end < first_day(definition):
        raise DispatchError(f"该报告期在本调度表开始上报（{first_day(definition)}）之前。")
    if period.start > last_day(definition):
        raise DispatchError(f"该报告期在本调度表停止上报（{last_day(definition)}）之后。")
    return period


def periods(definition, today: date | None = None) -> list[Period]:
    """Every period from the table's first to the current one, oldest first."""
    today = today or clock.today()
    last = current_period(definition, today)
    out, day = [], first_day(definition)
    while True:
        period = period_of(definition, day)
        out.append(period)
        if period.end >= last.end:
            return out
        day = period.end + timedelta(days=1)


def span(definition, period: Period) -> tuple[date, date]:
    """The days a figure counts: from the campaign start when cumulative (累计)."""
    start = definition.campaign.starts_on if definition.cumulative else period.start
    return max(start, definition.campaign.starts_on), period.end


def describe(definition) -> str:
    """The cadence in words: 每周一 12:00 前, 每月 5 日前, 每季度末月 25 日前, 每年 12 月 25 日前 …"""
    at = f" {definition.due_time:%H:%M}" if definition.due_time else ""
    p, d = definition.period, definition.due_day
    if p == "week":
        return f"每{WEEKDAYS[d or 1]}{at}前上报"
    if p == "half_month":
        return f"每半月上报（次日{at}前）" if at else "每半月上报（次日内）"
    if p == "month":
        return f"每月（次月 {d or 1} 日{at}前）上报"
    if p == "quarter":
        return f"每季度末月 {d} 日{at}前上报" if d else "每季度末上报"
    return f"每年 {definition.due_month or 12} 月 {d or 31} 日{at}前上报"
