"""Plans, tasks, assignments and notifications: load through scope, check the role, call the service."""
from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, request, url_for
from flask_login import current_user, login_required
from jinja2_fragments.flask import render_block

from portal.audit.service import ACTIONS
from portal.exports import jobs
from portal.exports import service as exports
from portal.extensions import db
from portal.forms import choices
from portal.plans import rules, service
from portal.plans.forms import (CampaignForm, ClauseForm, DeadlineForm, PhaseForm, PlanForm, ReportForm, ReturnForm,
                                TaskForm, WithdrawForm)
from portal.plans.models import LADDER, STATES, Assignment, Clause, Notification, Phase, Plan, Task, TaskAttachment
from portal.uploads import service as uploads
from portal.web import attempt, can, form_status, is_htmx, kept_rows, paginate, passive, render, requires
from tenants import clock
from tenants.models import INDUSTRIES, KINDS
from tenants.scope import current_scope, get_scoped_or_404

bp = Blueprint("plans", __name__)


def _filters() -> dict:
    try:
        phase_id = int(request.args.get("phase") or 0) or None
    except ValueError:
        phase_id = None
    state = request.args.get("state", "")
    return {"phase_id": phase_id, "state": state if state in STATES else "",
            "overdue": request.args.get("overdue") == "1"}


def _files(field) -> list[tuple[str, bytes]]:
    return [(f.filename, uploads.read_limited(f.stream)) for f in (field.data or []) if f and f.filename]


# ---------------------------------------------------------------- plans

@bp.get("/plans/")
@login_required
def plans():
    campaigns = service.campaigns()
    try:
        campaign_id = int(request.args.get("campaign") or 0) or None
    except ValueError:
        campaign_id = None
    home = g.membership.tenant
    mine = {c.id: service.effective_plan(home, c.id) for c in campaigns}
    page = paginate(service.plans_in_scope(campaign_id))
    return render("plans/index.html", "rows", campaigns=campaigns, campaign_id=campaign_id, mine=mine, page=page,
                  home=home)


@bp.route("/plans/new", methods=["GET", "POST"])
@login_required
@requires("plans.manage")
def new_plan():
    home = g.membership.tenant
    campaigns = service.campaigns()
    form = PlanForm()
    form.campaign_id.choices = choices((c.id, c.name) for c in campaigns)
    if request.method == "GET":
        form.issuer.data = f"{home.name}安全生产委员会" if home.is_government else home.name
    error = None
    if form.validate_on_submit():
        campaign = next((c for c in campaigns if c.id == form.campaign_id.data), None)
        if campaign is None:
            error = "请选择专项行动。"
        else:
            plan, error = attempt(lambda: service.create_plan(
                home, campaign, title=form.title.data, issuer=form.issuer.data, doc_number=form.doc_number.data,
                issued_on=form.issued_on.data, recipients=form.recipients.data, preamble=form.preamble.data,
                actor=g.membership))
            if error is None:
                flash(f"已发布《{plan.title}》。它继承上级方案的全部条款，可在下面细化、从严或新增。", "success")
                return redirect(url_for("plans.plan", plan_id=plan.id), 303)
    return render("plans/new.html", form=form, home=home, error=error, status=form_status())


@bp.route("/campaigns/new", methods=["GET", "POST"])
@login_required
@requires("tenants.manage")
def new_campaign():
    home = g.membership.tenant
    if home.kind != "national":
        abort(403, "专项行动由国家层面部署，只有国务院安委会的管理员可以新建。")
    form = CampaignForm()
    error = None
    if form.validate_on_submit():
        campaign, error = attempt(lambda: service.create_campaign(
            home, name=form.name.data, starts_on=form.starts_on.data, ends_on=form.ends_on.data, actor=g.membership))
        if error is None:
            flash(f"已新建专项行动“{campaign.name}”。", "success")
            return redirect(url_for("plans.plans", campaign=campaign.id), 303)
    return render("plans/campaign_new.html", form=form, error=error, status=form_status())


def _own_plan(plan_id) -> Plan:
    """A plan the current user may change: its own node's, with a role that issues plans."""
    plan = get_scoped_or_404(Plan, plan_id)
    if plan.tenant_id != g.membership.tenant_id:
        abort(403, f"只能修改本单位的方案；《{plan.title}》由{plan.tenant.name}发布。")
    if not can("plans.manage"):
        abort(403)
    return plan


@bp.get("/plans/<int:plan_id>")
@login_required
def plan(plan_id):
    plan = get_scoped_or_404(Plan, plan_id)
    items = service.effective_clauses(plan)
    own = plan.tenant_id == g.membership.tenant_id and can("plans.manage")
    return render("plans/plan.html", plan=plan, sections=service.sections(items), own=own,
                  chain=service.chain_plans(plan.tenant, plan.campaign_id), rule_table=service.rule_table(plan.tenant, plan.campaign_id),
                  tightened=[i for i in items if i.owner.id == plan.id and i.tightened], RULES=rules.RULES,
                  describe=rules.describe)


def _clause_form(plan: Plan, clause: Clause | None, formdata=None) -> ClauseForm:
    form = ClauseForm(formdata=formdata) if formdata is not None else ClauseForm()
    used = {i.clause.rule for i in service.effective_clauses(plan) if i.clause.rule}
    form.rule.choices = choices([("", "不设规则")] + [(code, r.label) for code, r in rules.RULES.items()
                                                      if code not in used])
    return form


@bp.route("/plans/<int:plan_id>/clauses/new", methods=["GET", "POST"])
@login_required
def new_clause(plan_id):
    plan = _own_plan(plan_id)
    form = _clause_form(plan, None)
    sections = [s for s, _ in service.sections(service.effective_clauses(plan))]
    if request.method == "GET":
        form.section.data = sections[-1] if sections else ""
    error = None
    if form.validate_on_submit():
        code = form.rule.data or None
        value = form.rule_value(rules.RULES[code].shape) if code else None
        clause, error = attempt(lambda: service.save_clause(
            plan, title=form.title.data, body=form.body.data, section=form.section.data, rule=code, rule_value=value,
            actor=g.membership))
        if error is None:
            flash(f"已新增条款“{clause.title}”。", "success")
            return redirect(url_for("plans.plan", plan_id=plan.id) + f"#clause-{clause.id}", 303)
    return render("plans/clause.html", plan=plan, form=form, clause=None, sections=sections, error=error,
                  rule=None, status=form_status())


@bp.route("/plans/<int:plan_id>/clauses/<int:clause_id>", methods=["GET", "POST"])
@login_required
def clause(plan_id, clause_id):
    """Edit an own clause, or restate / tighten an inherited one."""
    plan = _own_plan(plan_id)
    target = get_scoped_or_404(Clause, clause_id)
    mine = target.plan_id == plan.id
    form = _clause_form(plan, target)
    rule = rules.RULES.get(target.rule)
    if request.method == "GET":
        form.title.data, form.body.data = target.title, target.body
        if rule:
            form.fill_rule(rule.shape, service.effective_rule(plan.tenant, plan.campaign_id, rule.code))
    error = None
    if form.validate_on_submit():
        value = form.rule_value(rule.shape) if rule else None
        saved, error = attempt(lambda: service.save_clause(
            plan, title=form.title.data, body=form.body.data, clause=target if mine else None,
            replaces=None if mine else target, rule_value=value, actor=g.membership))
        if error is None:
            flash(f"已保存“{saved.title}”。", "success")
            return redirect(url_for("plans.plan", plan_id=plan.id) + f"#clause-{saved.id}", 303)
    above = None
    if rule and plan.tenant.parent_id:
        above = rules.describe(rule.code, service.effective_rule(plan.tenant.parent, plan.campaign_id, rule.code))
    return render("plans/clause.html", plan=plan, form=form, clause=target, mine=mine, error=error, rule=rule,
                  above=above, status=form_status())


@bp.post("/plans/<int:plan_id>/clauses/<int:clause_id>/delete")
@login_required
def delete_clause(plan_id, clause_id):
    plan = _own_plan(plan_id)
    target = get_scoped_or_404(Clause, clause_id)
    _, error = attempt(lambda: service.delete_clause(plan, target, actor=g.membership))
    flash(error or f"已删除“{target.title}”，上级方案的相应条款重新生效。", "error" if error else "success")
    return redirect(url_for("plans.plan", plan_id=plan.id), 303)


@bp.route("/plans/<int:plan_id>/phases/<int:phase_id>", methods=["GET", "POST"])
@login_required
def phase(plan_id, phase_id):
    plan = _own_plan(plan_id)
    target = get_scoped_or_404(Phase, phase_id)
    form = PhaseForm(obj=target) if request.method == "GET" else PhaseForm()
    error = None
    if form.validate_on_submit():
        _, error = attempt(lambda: service.update_phase(plan, target, name=form.name.data,
                                                        starts_on=form.starts_on.data, ends_on=form.ends_on.data,
                                                        body=form.body.data, actor=g.membership))
        if error is None:
            flash(f"已调整“{target.name}”阶段。", "success")
            return redirect(url_for("plans.plan", plan_id=plan.id) + "#phases", 303)
    return render("plans/phase.html", plan=plan, phase=target, form=form, error=error, status=form_status())


@bp.post("/plans/<int:plan_id>/pdf")
@login_required
@requires("plans.export")
def plan_pdf(plan_id):
    plan = get_scoped_or_404(Plan, plan_id)
    # Owned by the reader's node, so the reader finds it in its own exports list.
    doc = exports.request_export(g.membership.tenant, kind="plan", title=plan.title, params={"plan_id": plan.id},
                                 actor=g.membership)
    db.session.commit()
    jobs.submit(doc.id, g.membership.id)
    return redirect(url_for("exports.show", doc_id=doc.id), 303)


# ---------------------------------------------------------------- tasks: boards

@bp.get("/tasks/")
@login_required
def assigned():
    home = g.membership.tenant
    filters = _filters()
    today = clock.today()

    def board(page):
        reached = service.from_departments(home)
        return dict(reached=reached, rollups=service.rollups([t.id for t in page.items + reached], today),
                    by_child=service.child_rollups(home, today))
    # Kept: the tasks are the unit's own, their assignments and the departments' tasks are under it,
    # so a write there shows at once; a phase renamed above shows within FIGURES_CACHE_SECONDS.
    page, rows = kept_rows("plans.assigned", lambda: service.assigned(home, today=today, **filters),
                           "plans/_board.html", prepare=board, home=home,
                           reached_shown=service.FROM_DEPARTMENTS_SHOWN)
    return render("plans/assigned.html", "board", home=home, page=page, board=rows, filters=filters,
                  phases=[] if is_htmx() else service.task_phases(home), STATES=STATES, LADDER=LADDER)


@bp.get("/tasks/received")
@login_required
def received():
    home = g.membership.tenant
    filters = _filters()
    today = clock.today()
    page = paginate(service.received(home, today=today, **filters))
    return render("plans/received.html", "rows", home=home, page=page, filters=filters, today=today,
                  phases=service.phase_choices(home), STATES=STATES, LADDER=LADDER, ladder=service.ladder)


def _whom(label: str, units) -> str:
    return f"全部{label}（{len(units)} 个：{'、'.join(t.name for t in units)}）"


def _task_form(home, parent: Assignment | None = None, formdata=None) -> TaskForm:
    form = TaskForm(formdata=formdata) if formdata is not None else TaskForm()
    units = service.candidates(home)
    form.receivers.choices = choices((t.id, t.name) for t in units)
    # 全部街道 says whom it sends to, so nobody has to guess who 全部 is.
    form.kinds.choices = choices((k, _whom(KINDS[k], [t for t in units if t.kind == k]))
                                 for k in dict.fromkeys(t.kind for t in units))
    # A department's other ways to choose, each offered only when it includes someone.
    department = home.kind == "department"
    form.industries.choices = choices(
        (code, _whom(f"{INDUSTRIES[code]}企业", found)) for code in (home.supervised_industries if department else [])
        if (found := [t for t in units if t.industry == code]))
    risky = [t for t in units if t.high_risk] if department else []
    form.high_risk.label.text = _whom("高危企业", risky) if risky else ""
    # A phase that has ended cannot take a task (its deadline would be past): it is not offered.
    today = clock.today()
    phases = [parent.task.phase] if parent else [p for p in service.phase_choices(home)
                                                 if service.phase_end(p) >= today]
    form.phase_id.choices = choices((p.id, f"{p.plan.campaign.name} · {p.name}（截至 {service.phase_end(p)}）")
                                    for p in phases)
    if parent:
        form.phase_id.data = parent.task.phase_id
    return form


def _task_form_valid(form: TaskForm, home, parent: Assignment | None) -> bool:
    """The form's own checks and, beside their fields, the service's rules for the receivers and
    the deadline, so a person sees every problem at once instead of one per submission (the
    service still judges what is sent)."""
    valid = form.validate()
    if not (form.receivers.data or form.kinds.data or form.industries.data or form.high_risk.data):
        form.receivers.errors.append(service.NO_RECEIVERS_SUPERVISED if home.kind == "department"
                                     else service.NO_RECEIVERS)
    phase = parent.task.phase if parent else next(
        (p for p in service.phase_choices(home) if p.id == form.phase_id.data), None)
    if phase is not None and form.deadline.data and not form.deadline.errors:
        refusal = service.deadline_refusal(form.deadline.data, phase, parent, clock.today())
        if refusal:
            form.deadline.errors.append(refusal)
    return valid and not form.receivers.errors and not form.deadline.errors


def _new_task(home, parent: Assignment | None):
    form = _task_form(home, parent)
    error = None
    if not form.receivers.choices:
        error = f"“{home.name}”没有监管的企业，无法交办任务。" if home.kind == "department" \
            else f"“{home.name}”没有下级单位，无法交办任务。"
    elif form.is_submitted() and _task_form_valid(form, home, parent):
        task, error = attempt(lambda: service.create_task(
            home, g.membership, title=form.title.data, body=form.body.data, deadline=form.deadline.data,
            phase_id=form.phase_id.data, receiver_ids=form.receivers.data, receiver_kinds=form.kinds.data,
            receiver_industries=form.industries.data, high_risk=bool(form.high_risk.data),
            files=_files(form.files), request_key=form.request_key.data, parent_assignment=parent))
        if error is None:
            flash(f"已交办《{task.title}》给 {service.rollups([task.id])[task.id].total} 个单位。", "success")
            return redirect(url_for("plans.task", task_id=task.id), 303)
    return render("plans/task_new.html", form=form, home=home, parent=parent, error=error, status=form_status())


@bp.route("/tasks/new", methods=["GET", "POST"])
@login_required
@requires("tasks.assign")
def new_task():
    return _new_task(g.membership.tenant, None)


def _open_task(task_id) -> Task:
    task = get_scoped_or_404(Task, task_id)
    if not service.can_open_task(task, current_scope()):
        abort(404)
    return task


def _task_page(task: Task, error=None, status=200, deadline_form=None, withdraw_form=None):
    filters = _filters()
    today = clock.today()
    page = paginate(service.receivers_of(task, state=filters["state"], overdue=filters["overdue"], today=today))
    assigner = service.is_assigner(task, g.membership)
    return render("plans/task.html", "board", status=status, task=task, phase=service.served(task), page=page,
                  filters=filters, today=today,
                  rollup=service.rollups([task.id], today)[task.id],
                  sub=service.sub_rollups([a.id for a in page.items], today),
                  assigner=assigner, STATES=STATES, LADDER=LADDER, ladder=service.ladder,
                  files=service.task_files(task, current_scope()), timeline=service.task_timeline(task),
                  ACTIONS=ACTIONS, error=error,
                  withdraw_refusal=service.withdraw_refusal(task) if assigner else None,
                  deadline_form=deadline_form or DeadlineForm(formdata=None, data={"deadline": task.deadline}),
                  withdraw_form=withdraw_form or WithdrawForm(formdata=None))


@bp.get("/tasks/<int:task_id>")
@login_required
def task(task_id):
    return _task_page(_open_task(task_id))


def _submit(forms: dict, action, page, success: str, to: str):
    """Validate the submitted `forms`, then run `action` (a service call) and go to `to`. Refused,
    `page(error, **forms)` shows the page again with the message and the forms with their input."""
    invalid = [f for f in forms.values() if not f.validate_on_submit()]
    if invalid:
        return page("；".join(e for errs in invalid[0].errors.values() for e in errs), **forms)
    _, error = attempt(action)
    if error:
        return page(error, **forms)
    flash(success, "success")
    return redirect(to, 303)


def _assigner_or_403(task: Task, verb: str) -> None:
    if not service.is_assigner(task, g.membership):
        abort(403, f"只有交办单位“{task.tenant.name}”的人员才能{verb}。")


def _change(task_id, verb: str, action, success: str, **forms):
    """Change a task once sent, from the assigner's side."""
    task = _open_task(task_id)
    _assigner_or_403(task, verb)
    return _submit(forms, lambda: action(task),
                   lambda error, **f: _task_page(db.session.get(Task, task.id), error, 422, **f),
                   success, url_for("plans.task", task_id=task.id))


@bp.post("/tasks/<int:task_id>/deadline")
@login_required
def task_deadline(task_id):
    form = DeadlineForm()
    return _change(task_id, "调整截止日期", lambda t: service.change_deadline(
        t, g.membership, deadline=form.deadline.data, reason=form.reason.data),
        "已调整截止日期，未办结的接收单位将收到通知。", deadline_form=form)


@bp.post("/tasks/<int:task_id>/withdraw")
@login_required
def withdraw_task(task_id):
    form = WithdrawForm()
    return _change(task_id, "撤回", lambda t: service.withdraw(t, g.membership, reason=form.reason.data),
                   "已撤回任务，接收单位将收到通知。", withdraw_form=form)


@bp.get("/tasks/<int:task_id>/files/<int:file_id>")
@login_required
def task_file(task_id, file_id):
    task = get_scoped_or_404(Task, task_id)
    attachment = get_scoped_or_404(TaskAttachment, file_id)
    if attachment.task_id != task.id or not service.can_read_task_files(task, current_scope()):
        abort(404)
    return uploads.send(attachment)


@bp.post("/tasks/<int:task_id>/remind")
@login_required
def remind_task(task_id):
    task = _open_task(task_id)
    _assigner_or_403(task, "催办")
    _remind(lambda: service.remind_overdue(task.tenant, g.membership, task))
    return redirect(url_for("plans.task", task_id=task.id), 303)


@bp.post("/tasks/remind")
@login_required
@requires("tasks.assign")
def remind_all():
    _remind(lambda: service.remind_overdue(g.membership.tenant, g.membership))
    return redirect(url_for("plans.assigned"), 303)


def _remind(action) -> None:
    counts, error = attempt(action)
    if error:
        flash(error, "error")
    elif counts[0] == 0 and counts[1] == 0:
        flash("没有逾期未办结的单位。", "success")
    else:
        flash(f"已向 {counts[0]} 个逾期单位发出催办" + (f"，{counts[1]} 个今天已催办过" if counts[1] else "") + "。",
              "success")


# ---------------------------------------------------------------- one assignment

def _assignment_page(assignment: Assignment, error=None, status=200, report_form=None, return_form=None):
    actor = g.membership
    return render("plans/assignment.html", a=assignment, task=assignment.task, phase=service.served(assignment.task),
                  error=error, status=status,
                  receiver=service.is_receiver(assignment, actor), assigner=service.is_assigner(assignment.task, actor),
                  report_form=report_form or ReportForm(formdata=None),
                  return_form=return_form or ReturnForm(formdata=None),
                  timeline=service.timeline(assignment), sub_tasks=service.sub_tasks(assignment),
                  sub=service.sub_rollups([assignment.id])[assignment.id],
                  files=service.task_files(assignment.task, current_scope()), ladder=service.ladder(assignment),
                  open_task=service.can_open_task(assignment.task, current_scope()), LADDER=LADDER, ACTIONS=ACTIONS,
                  can_pass_down=service.is_receiver(assignment, actor) and can("tasks.assign")
                  and bool(service.candidates(assignment.tenant)))


@bp.get("/assignments/<int:assignment_id>")
@login_required
def assignment(assignment_id):
    return _assignment_page(get_scoped_or_404(Assignment, assignment_id))


def _act(assignment_id, side: str, verb: str, action, success: str, **forms):
    """Run one step of the state machine from the receiver's or the assigner's side. `forms` (the
    report or return form) come back with their messages when refused."""
    a = get_scoped_or_404(Assignment, assignment_id)
    if side == "receiver" and not service.is_receiver(a, g.membership):
        abort(403, f"只有接收单位“{a.tenant.name}”的人员才能{verb}。")
    if side == "assigner":
        _assigner_or_403(a.task, verb)
    return _submit(forms, lambda: action(a),
                   lambda error, **f: _assignment_page(db.session.get(Assignment, a.id), error, 422, **f),
                   success, url_for("plans.assignment", assignment_id=a.id))


@bp.post("/assignments/<int:assignment_id>/sign")
@login_required
def sign(assignment_id):
    return _act(assignment_id, "receiver", "签收", lambda a: service.sign(a, g.membership), "已签收，请按要求办理。")


@bp.post("/assignments/<int:assignment_id>/report")
@login_required
def report(assignment_id):
    form = ReportForm()
    return _act(assignment_id, "receiver", "上报", lambda a: service.report(
        a, g.membership, body=form.body.data, files=_files(form.files)), "已上报，等待交办单位审核。", report_form=form)


@bp.post("/assignments/<int:assignment_id>/resume")
@login_required
def resume(assignment_id):
    return _act(assignment_id, "receiver", "重新办理", lambda a: service.resume(a, g.membership),
                "已重新办理，修改后请再次上报。")


@bp.post("/assignments/<int:assignment_id>/approve")
@login_required
def approve(assignment_id):
    return _act(assignment_id, "assigner", "审核", lambda a: service.approve(a, g.membership),
                "已审核通过，任务办结。")


@bp.post("/assignments/<int:assignment_id>/return")
@login_required
def return_(assignment_id):
    form = ReturnForm()
    return _act(assignment_id, "assigner", "退回", lambda a: service.return_(a, g.membership, reason=form.reason.data),
                "已退回，接收单位将收到退回理由。", return_form=form)


@bp.post("/assignments/<int:assignment_id>/remind")
@login_required
def remind(assignment_id):
    return _act(assignment_id, "assigner", "催办", lambda a: service.remind(a, g.membership),
                "已催办，接收单位将收到提醒。")


@bp.route("/assignments/<int:assignment_id>/pass-down", methods=["GET", "POST"])
@login_required
@requires("tasks.assign")
def pass_down(assignment_id):
    a = get_scoped_or_404(Assignment, assignment_id)
    if not service.is_receiver(a, g.membership):
        abort(403, f"只有接收单位“{a.tenant.name}”的人员才能向下交办。")
    return _new_task(a.tenant, a)


# ---------------------------------------------------------------- notifications

@bp.get("/notifications/")
@login_required
def notifications():
    unread_only = request.args.get("unread") == "1"
    page = paginate(service.notifications(g.membership, unread_only))
    return render("plans/notifications.html", "rows", page=page, unread_only=unread_only,
                  read=service.read_ids(g.membership, page.items), settled=service.settled)


@bp.get("/notifications/count")
@passive
def notification_count():
    if not current_user.is_authenticated or g.membership is None:
        return "", 286  # htmx stops polling
    # Only ever the bell's fragment: a poll has no page of its own.
    return render_block("plans/notifications.html", "bell", count=service.unread_count(g.membership))


@bp.post("/notifications/<int:notification_id>/read")
@login_required
def read_notification(notification_id):
    n = get_scoped_or_404(Notification, notification_id)
    if n.tenant_id != g.membership.tenant_id:
        abort(404)
    service.mark_read(g.membership, n)
    db.session.commit()
    return redirect(n.link or url_for("plans.assignment", assignment_id=n.assignment_id), 303)


@bp.post("/notifications/read")
@login_required
def read_all():
    count = service.mark_read(g.membership)
    db.session.commit()
    flash(f"已将 {count} 条通知标为已读。", "success")
    return redirect(url_for("plans.notifications"), 303)

