"""One clock for the whole system: naive UTC in the database, Beijing time on screen and paper."""
from datetime import date, datetime, time, timedelta, timezone

BEIJING = timezone(timedelta(hours=8), "CST")


def now() -> datetime:
    # Naive UTC: SQLite drops tz info, so storing naive UTC everywhere keeps both databases equal.
    return datetime.now(timezone.utc).replace(tzinfo=None)


def today() -> date:
    """The calendar day in Beijing: deadlines and the dispatch table count by it."""
    return day_of(now())


def day_of(moment: datetime) -> date:
    """The Beijing calendar day of a naive UTC moment."""
    return (moment + timedelta(hours=8)).date()


def moment(day: date, at: time) -> datetime:
    """The naive UTC moment of Beijing wall-clock time `at` on `day`, to compare with now()."""
    return datetime.combine(day, at, BEIJING).astimezone(timezone.utc).replace(tzinfo=None)


def local(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return ""
    return value.replace(tzinfo=timezone.utc).astimezone(BEIJING).strftime(fmt)
