"""Progress against the targets of the 2024–2026 three-year action (seed 004): clear the stock of
major hazards found in 2023 and before by the end of 2024, curb the increment in 2025 (no more found
than the year before), and dynamic zero (no stock, nothing open past its deadline) from 2026. The
figures are the dispatch rows' (portal.hazards.service.dispatch_conditions), so every figure opens
in the ledger as exactly the hazards it counts."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import String, and_, case, func, select

from portal.extensions import db
from portal.hazards import service as hazards
from portal.hazards.models import Hazard
from tenants import clock
from tenants.models import Tenant

YEARS = (2024, 2025, 2026)
STOCK_DEADLINE = date(2024, 12, 31)
# The stock deadline is "near" this many days before it: the desk and the page warn from then on.
WARN_DAYS = 90
TARGETS = {
    2024: "2024年底前全面消除2023年及以前排查发现的重大事故隐患存量",
    2025: "2025年底前有效遏制重大事故隐患增量",
    2026: "2026年底前形成重大事故隐患动态清零的常态化机制",
}
ROWS = ("stock.open", "stock.cleared", "increment.found", "zero.overdue")
# Units whose hazards are their subtree's (a department answers for industries, not ground).
TERRITORIAL = ("province", "city", "district", "street", "village", "enterprise")


@dataclass
class Progress:
    unit: Tenant
    year: int
    end: date
    stock_open: int
    stock_cleared: int
    increment: int
    increment_before: int
    overdue: int

    @property
    def stock(self) -> int:
        return self.stock_open + self.stock_cleared

    @property
    def stock_done_percent(self) -> int:
        return 100 if self.stock == 0 else round(100 * self.stock_cleared / self.stock)

    @property
    def increment_curbed(self) -> bool:
        return self.increment <= self.increment_before

    @property
    def dynamic_zero(self) -> bool:
        return self.stock_open == 0 and self.overdue == 0

    @property
    def distance(self) -> tuple:
        """How far the unit is from the year's target, largest first when sorted descending: the
        stock left until it is cleared, then the increment's growth, then what is overdue."""
        growth = max(0, self.increment - self.increment_before)
        if self.year <= 2024:
            return (self.stock_open, self.overdue, growth)
        if self.year == 2025:
            return (self.stock_open, growth, self.overdue)
        return (self.stock_open + self.overdue, growth)

    @property
    def on_target(self) -> bool:
        if self.year <= 2024:
            return self.stock_open == 0
        if self.year == 2025:
            return self.stock_open == 0 and self.increment_curbed
        return self.dynamic_zero

    def drill(self, code: str) -> dict:
        """The ledger's parameters listing exactly the hazards of figure `code`."""
        end = self.end if code != "increment.before" else date(self.year - 1, 12, 31)
        return {"within": self.unit.id, "row": "increment.found" if code == "increment.before" else code,
                "start": date(end.year, 1, 1).isoformat(), "end": end.isoformat()}


def year_end(year: int, today: date) -> date:
    return min(date(year, 12, 31), today)


def warning(progress: Progress, today: date) -> tuple[str, str] | None:
    """(tone, message) when the stock deadline is near or past with stock left."""
    if progress.stock_open == 0:
        return None
    if today > STOCK_DEADLINE:
        return "danger", (f"2024年底存量清零期限已过，仍有 {progress.stock_open} 项2023年及以前的重大事故隐患未销号。")
    if today >= STOCK_DEADLINE - timedelta(days=WARN_DAYS):
        return "warn", (f"距 2024-12-31 存量清零期限还有 {(STOCK_DEADLINE - today).days} 天，"
                        f"仍有 {progress.stock_open} 项存量重大事故隐患未销号。")
    return None


def progress(node: Tenant, year: int, today: date | None = None) -> Progress:
    """The node's own figures for `year` (as of its end, or today): two grouped queries."""
    today = today or clock.today()
    end = year_end(year, today)
    now = hazards.dispatch_figures(node, date(year, 1, 1), end)
    before = hazards.dispatch_figures(node, date(year - 1, 1, 1), date(year - 1, 12, 31))
    return Progress(node, year, end, now["stock.open"], now["stock.cleared"], now["increment.found"],
                    before["increment.found"], now["zero.overdue"])


def units_below(node: Tenant, year: int, today: date | None = None) -> list[Progress]:
    """Each territorial unit directly below `node` with its figures, furthest from the year's
    target first. One query (by_unit)."""
    today = today or clock.today()
    end = year_end(year, today)
    now = hazards.dispatch_conditions(node, date(year, 1, 1), end)
    before = hazards.dispatch_conditions(node, date(year - 1, 1, 1), date(year - 1, 12, 31))
    rows = by_unit(node, {**{code: now[code] for code in ROWS}, "before": before["increment.found"]}, end)
    out = [Progress(unit, year, end, n["stock.open"], n["stock.cleared"], n["increment.found"], n["before"],
                    n["zero.overdue"]) for unit, n in rows]
    out.sort(key=lambda p: (tuple(-x for x in p.distance), p.unit.path))
    return out


def by_unit(node: Tenant, conditions: dict, until: date) -> list[tuple[Tenant, dict[str, int]]]:
    """For each territorial unit directly below `node` (in tree order), how many of the major
    hazards of its subtree found by `until` meet each of `conditions` (a name → a condition on a
    hazard, e.g. a dispatch row's). One query: the units joined to their subtrees' hazards, grouped."""
    unit = Tenant.__table__.alias("unit")
    # tenants.paths.upper_bound in SQL: the subtree of each unit as a range of paths.
    upper = func.substr(unit.c.path, 1, func.length(unit.c.path) - 1, type_=String).concat("0")

    def n(condition):
        return func.coalesce(func.sum(case((and_(Hazard.id.is_not(None), condition), 1), else_=0)), 0)
    names = list(conditions)
    rows = db.session.execute(
        select(unit.c.id, *[n(conditions[name]) for name in names])
        .select_from(unit.outerjoin(Hazard, and_(Hazard.tenant_path >= unit.c.path, Hazard.tenant_path < upper,
                                                 Hazard.level == "major", Hazard.found_at <= until)))
        .where(unit.c.parent_id == node.id, unit.c.kind.in_(TERRITORIAL))
        .group_by(unit.c.id)).all()
    units = {t.id: t for t in db.session.execute(select(Tenant).where(Tenant.id.in_([r[0] for r in rows])))
             .scalars()}
    return sorted(((units[r[0]], dict(zip(names, (int(v) for v in r[1:])))) for r in rows if r[0] in units),
                  key=lambda pair: pair[0].path)
