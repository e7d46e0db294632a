"""The desk's panels: each counts what waits for the acting membership in one query (the dispatch
panel: one per table it reviews) and says which list page, with which filters, shows exactly the
records counted, so a count and the page it opens never disagree."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from flask import url_for
from sqlalchemy import and_, func, literal, or_, select

from portal.accountability.models import Letter
from portal.cache import kept
from portal.checklists.models import EnterpriseStatus
from portal.dispatch import periods
from portal.dispatch import service as dispatch
from portal.extensions import db
from portal.hazards import service as hazards
from portal.hazards.models import OPEN_STATUSES, Hazard
from portal.inspections.models import Accident
from portal.permissions import allows
from portal.plans.models import Assignment, Task
from portal.plans.service import CLOSED, YELLOW_DAYS
from portal.targets import service as targets
from portal.tips.models import Tip
from tenants import clock
from tenants.models import Membership

# Accidents recorded this many days back are "new" on the discipline desk.
NEW_ACCIDENT_DAYS = 30
# A table whose reporting has ended keeps its last period on the desk this long after that
# period's due day (for the late reports to come in); then its campaign is over.
ENDED_TABLE_DAYS = 30


@dataclass
class Count:
    label: str
    value: int
    url: str
    # "danger" for what is already late, "warn" for what is due soon, "" otherwise.
    tone: str = ""


@dataclass
class Panel:
    name: str
    title: str
    counts: list[Count] = field(default_factory=list)
    # Rows a count cannot say on its own (new accidents with their traces, an enterprise's to-dos).
    items: list = field(default_factory=list)
    note: str = ""
    # When its counts were counted, if kept from an earlier request (portal.cache).
    as_of: datetime | None = None


def panels_for(membership: Membership) -> list[str]:
    """The panels this membership's desk shows, in order: only those whose records it may act on
    or, for discipline and leaders, read to press on."""
    kind, government = membership.tenant.kind, membership.tenant.kind != "enterprise"
    names = []
    if kind == "enterprise":
        names.append("todo")
    if allows(membership, "tasks.handle") or allows(membership, "tasks.assign"):
        names.append("tasks")
    if government and (allows(membership, "dispatch.fill") or allows(membership, "dispatch.review")):
        names.append("dispatch")
    names.append("hazards")
    if government:
        names += ["targets", "duties"]
    if allows(membership, "tips.verify") and government:
        names.append("tips")
    if government and allows(membership, "accountability.trace"):
        names.append("accidents")
    if allows(membership, "letters.reply") or (government and allows(membership, "accountability.write")):
        names.append("letters")
    return names


def panel(name: str, membership: Membership, today: date | None = None) -> Panel:
    today = today or clock.today()
    if name not in KEPT:
        return PANELS[name](membership, today)
    value, as_of = kept(f"desk.{name}", (membership.id, today), lambda: PANELS[name](membership, today))
    return replace(value, as_of=as_of)


def _counted(*clauses):
    return func.count().filter(and_(*clauses))


def _tasks(m: Membership, today: date) -> Panel:
    """Assignments the unit received (to sign, to report, returned, overdue) and, for the office
    that assigns, tasks with a report waiting for its review or a unit past the deadline."""
    home = m.tenant
    received, given = Assignment.tenant_id == home.id, Task.tenant_id == home.id
    open_ = Assignment.state.not_in(CLOSED)
    row = db.session.execute(
        select(_counted(received, Assignment.state == "pending"),
               _counted(received, Assignment.state == "in_progress"),
               _counted(received, Assignment.state == "returned"),
               _counted(received, open_, Assignment.deadline < today),
               # The board lists tasks, so these count tasks, each once however many units it has.
               func.count(func.distinct(Task.id)).filter(given, Assignment.state == "reported"),
               func.count(func.distinct(Task.id)).filter(given, open_, Assignment.deadline < today))
        .select_from(Assignment).join(Task, Task.id == Assignment.task_id).where(or_(received, given))).one()
    panel = Panel("tasks", "交办任务")
    if allows(m, "tasks.handle"):
        panel.counts += [
            Count("待签收", row[0], url_for("plans.received", state="pending"), "warn" if row[0] else ""),
            Count("办理中待上报", row[1], url_for("plans.received", state="in_progress")),
            Count("被退回待重报", row[2], url_for("plans.received", state="returned"), "warn" if row[2] else ""),
            Count("本单位逾期未办结", row[3], url_for("plans.received", overdue=1), "danger" if row[3] else "")]
    if allows(m, "tasks.assign") and home.kind != "enterprise":
        panel.counts += [
            Count("下级已上报待审核的任务", row[4], url_for("plans.assigned", state="reported"), "warn" if row[4] else ""),
            Count("有下级逾期的任务", row[5], url_for("plans.assigned", overdue=1), "danger" if row[5] else "")]
    return panel


def _dispatch(m: Membership, today: date) -> Panel:
    """The unit's own tables not yet filed for the current period, and for each table the units
    below it send, how many have not reported and how many are late. One query for the tables,
    then two per table (its units and their submissions, as its board counts them)."""
    home = m.tenant
    panel = Panel("dispatch", "调度表")
    in_force = dispatch.definitions_for(home)
    extended = {d.parent_id for d in in_force}
    if allows(m, "dispatch.fill"):
        for d in dispatch.reporting_definitions(home, in_force):
            period = periods.current_period(d, today)
            if _ended(d, period, today):
                continue
            sub = dispatch.submission(d, home, period)
            if sub is None or not sub.locked:
                late = clock.now() >= period.deadline
                panel.counts.append(Count(
                    f"本单位《{d.name}》{period.end:%Y-%m-%d} 期{'逾期未报' if late else f'未报（{period.due:%m-%d} 前）'}",
                    1, dispatch.table_link(d, home, period), "danger" if late else "warn"))
    if allows(m, "dispatch.review"):
        for d in in_force:
            if d.id in extended or not d.fillers:
                continue  # units below fill the table that extends it, counted there
            period = periods.current_period(d, today)
            if _ended(d, period, today):
                continue
            board = dispatch.board(d, home, period)
            if not board:
                continue
            for state in ("overdue", "pending"):
                n = sum(1 for r in board if r.state == state)
                if n or state == "overdue":
                    panel.counts.append(Count(
                        f"《{d.name}》{period.end:%Y-%m-%d} 期下级{dispatch.BOARD[state]}", n,
                        url_for("dispatch.table", definition_id=d.id, tenant_id=home.id, period=period.key,
                                board=state, _anchor="board"),
                        "danger" if state == "overdue" and n else ""))
    if not panel.counts:
        panel.note = "当前没有需要本单位填报或催报的调度表。"
    return panel


def _ended(definition, period: periods.Period, today: date) -> bool:
    return period.end >= periods.last_day(definition) and period.due + timedelta(days=ENDED_TABLE_DAYS) < today


def _hazards(m: Membership, today: date) -> Panel:
    """Hazards in scope: fixes waiting for acceptance or close-out (for those who review them),
    past their rectification deadline, and listed ones whose listing deadline is near."""
    soon = today + timedelta(days=YELLOW_DAYS)
    listed = and_(Hazard.listed_by_id.is_not(None), Hazard.delisted_on.is_(None))
    row = db.session.execute(select(
        _counted(Hazard.status == "rectified"), _counted(Hazard.status == "accepted"),
        _counted(Hazard.status.in_(OPEN_STATUSES), Hazard.fix_deadline < today),
        _counted(listed, Hazard.listed_deadline >= today, Hazard.listed_deadline <= soon),
        _counted(Hazard.status == "pending"), _counted(Hazard.status == "rectifying")).select_from(Hazard)).one()
    panel = Panel("hazards", "隐患")
    if m.tenant.kind == "enterprise":
        panel.counts += [Count("待整改", row[4], url_for("hazards.index", status="pending"), "warn" if row[4] else ""),
                         Count("整改中", row[5], url_for("hazards.index", status="rectifying"))]
    elif allows(m, "hazards.review"):
        panel.counts += [Count("已整改待验收", row[0], url_for("hazards.index", status="rectified"),
                               "warn" if row[0] else ""),
                         Count("已验收待销号", row[1], url_for("hazards.index", status="accepted"))]
    panel.counts += [
        Count("逾期未整改", row[2], url_for("hazards.index", overdue=1), "danger" if row[2] else ""),
        Count(f"挂牌督办 {YELLOW_DAYS} 日内到期", row[3], url_for("hazards.listed", near=1), "warn" if row[3] else "")]
    return panel


def _targets(m: Membership, today: date) -> Panel:
    """The three-year action's stock left today, with the deadline's warning. One query."""
    home = m.tenant
    figures = hazards.dispatch_figures(home, date(today.year, 1, 1), today)
    mine = targets.Progress(home, today.year, today, figures["stock.open"], figures["stock.cleared"],
                            figures["increment.found"], 0, figures["zero.overdue"])
    warning = targets.warning(mine, today)
    return Panel("targets", "三年行动目标", [
        Count("2023 年及以前存量未销号", mine.stock_open, url_for("hazards.index", **mine.drill("stock.open")),
              warning[0] if warning else "")],
        note=warning[1] if warning else ("已实现动态清零。" if mine.dynamic_zero else ""))


def _duties(m: Membership, today: date) -> Panel:
    n = db.session.execute(select(func.count()).select_from(EnterpriseStatus)
                           .where(EnterpriseStatus.open_findings > 0)).scalar_one()
    return Panel("duties", "责任清单", [Count("未履职企业", n, url_for("checklists.noncompliant"), "danger" if n else "")])


def _tips(m: Membership, today: date) -> Panel:
    n = db.session.execute(select(func.count()).select_from(Tip).where(Tip.status == "received")).scalar_one()
    return Panel("tips", "群众举报", [Count("待核查答复", n, url_for("tips.received", status="received"),
                                          "warn" if n else "")])


def _accidents(m: Membership, today: date) -> Panel:
    """Accidents of the last NEW_ACCIDENT_DAYS days, each with its accountability trace."""
    since = today - timedelta(days=NEW_ACCIDENT_DAYS)
    rows = db.session.execute(select(Accident).where(Accident.occurred_on >= since)
                              .order_by(Accident.occurred_on.desc(), Accident.id.desc())
                              .options(db.joinedload(Accident.tenant))).scalars().all()
    return Panel("accidents", "新发事故", [Count(f"近 {NEW_ACCIDENT_DAYS} 日事故", len(rows),
                                                 url_for("inspections.accidents", since=since.isoformat()),
                                                 "danger" if rows else "")], items=rows)


def _letters(m: Membership, today: date) -> Panel:
    """Letters awaiting a reply: for the unit that answers them, those to reply to with their
    dates; for the level that sent them, those awaiting, late (逾期未回复) and replied but not yet
    办结. One query."""
    home = m.tenant
    to_me, from_me = Letter.tenant_id == home.id, Letter.issuer_id == home.id
    rows = db.session.execute(select(Letter).where(
        or_(and_(to_me, Letter.state == "sent"), and_(from_me, Letter.state != "closed")))
        .order_by(Letter.reply_by.is_(None), Letter.reply_by, Letter.id)).scalars().all()
    mine = [x for x in rows if x.tenant_id == home.id]
    sent = [x for x in rows if x.issuer_id == home.id]
    panel = Panel("letters", "提醒函 · 督办函")
    if allows(m, "letters.reply"):
        n_late = sum(1 for x in mine if x.late)
        n_waiting = sum(1 for x in mine if x.reply_by is not None)
        panel.counts += [
            Count("收到待回复", n_waiting, url_for("accountability.letters_index", box="received", state="awaiting"),
                  "warn" if n_waiting else ""),
            Count("本单位逾期未回复", n_late, url_for("accountability.letters_index", box="received", state="late"),
                  "danger" if n_late else "")]
        panel.items = mine
    if allows(m, "accountability.write") and home.kind != "enterprise":
        n_waiting = sum(1 for x in sent if x.state == "sent" and x.reply_by is not None)
        n_late = sum(1 for x in sent if x.late)
        n_replied = sum(1 for x in sent if x.state == "replied")
        panel.counts += [
            Count("发出待回复", n_waiting, url_for("accountability.letters_index", box="issued", state="awaiting")),
            Count("下级逾期未回复", n_late, url_for("accountability.letters_index", box="issued", state="late"),
                  "danger" if n_late else ""),
            Count("已回复待办结", n_replied, url_for("accountability.letters_index", box="issued", state="replied"),
                  "warn" if n_replied else "")]
    return panel


@dataclass
class Todo:
    kind: str  # task, hazard
    id: int
    title: str
    deadline: date | None

    @property
    def url(self) -> str:
        if self.kind == "task":
            return url_for("plans.assignment", assignment_id=self.id)
        return url_for("hazards.show", hazard_id=self.id)


def _todo(m: Membership, today: date) -> Panel:
    """An enterprise's own to-dos, earliest deadline first: tasks to finish and hazards to fix.
    One query (a UNION of both)."""
    home = m.tenant
    tasks = (select(literal("task").label("kind"), Assignment.id, Task.title, Assignment.deadline)
             .join(Task, Task.id == Assignment.task_id)
             .where(Assignment.tenant_id == home.id, Assignment.state.not_in(CLOSED), Assignment.state != "reported"))
    fixes = (select(literal("hazard"), Hazard.id, Hazard.description, Hazard.fix_deadline)
             .where(Hazard.tenant_id == home.id, Hazard.status.in_(OPEN_STATUSES)))
    both = tasks.union_all(fixes).subquery()
    rows = db.session.execute(select(both).order_by(both.c.deadline.is_(None), both.c.deadline, both.c.id)).all()
    items = [Todo(*r) for r in rows]
    return Panel("todo", "本企业待办", [
        Count("待办事项", len(items), ""),
        Count("已逾期", sum(1 for t in items if t.deadline and t.deadline < today), "",
              "danger" if any(t.deadline and t.deadline < today for t in items) else "")], items=items)


# Counts over the whole subtree's hazards and enterprises (a district's 200,000 hazards): kept as
# figures, dropped by any write under the unit. The others count few rows, or rows the levels
# above write (tasks, tables), and are counted every time.
KEPT = {"hazards", "targets", "duties"}
PANELS = {"todo": _todo, "tasks": _tasks, "dispatch": _dispatch, "hazards": _hazards, "targets": _targets,
          "duties": _duties,
          "tips": _tips, "accidents": _accidents, "letters": _letters}
