"""One clock for the whole system: naive UTC in the database, Beijing time on screen and paper."""
from datetime import date, datetime, timedelta, timezone

BEIJING = timezone(timedelta(hours=8), "CST")


def now() -> datetime:
    # Naive UTC: SQLite drops tz info, so storing naive UTC everywhere keeps both databases equal.
    return datetime.now(timezone.utc).replace(tzinfo=None)


def today() -> date:
    """The calendar day in Beijing: deadlines and the dispatch table count by it."""
    return (now() + timedelta(hours=8)).date()


def local(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return ""
    return value.replace(tzinfo=timezone.utc).astimezone(BEIJING).strftime(fmt)
