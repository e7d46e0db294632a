"""The tree browser, node pages and the forms that change the tree."""
from functools import lru_cache

from flask import Blueprint, abort, flash, g, get_template_attribute, redirect, request, url_for
from flask_login import login_required
from markupsafe import Markup

from portal.cache import kept
from portal.extensions import db
from portal.forms import choices
from portal.web import attempt, form_status, kept_rows, paginate, render, requires
from tenants import divisions, service
from tenants.forms import ChildForm, EditForm, EnterpriseForm, MoveForm
from tenants.models import CHILD_KINDS, KINDS, Tenant
from tenants.scope import current_scope, get_managed_or_404, get_scoped_or_404

bp = Blueprint("tenants", __name__, url_prefix="/tenants")


@bp.get("/")
@login_required
def tree():
    home = g.membership.tenant
    chain = service.ancestors(home) + [home]
    q = request.args.get("q", "").strip()
    results = paginate(service.search(q)) if q else None
    supervised = paginate(service.supervised_enterprises(home)) \
        if home.kind == "department" and home.supervised_industries and not q else None
    return render("tenants/tree.html", "search_results", chain=chain, home=home, q=q, results=results,
                  supervised=supervised, children=_children_of(home))


def _children_of(tenant):
    return db.session.execute(service.children(tenant)).scalars().all()


@bp.get("/<int:tenant_id>/children")
@login_required
def branch(tenant_id):
    tenant = get_scoped_or_404(Tenant, tenant_id)
    if not current_scope().contains(tenant):
        abort(404)
    return render("tenants/tree.html", "branch", children=_children_of(tenant), home=g.membership.tenant)


def node_counts(tenant: Tenant) -> dict[str, int]:
    """The units below `tenant` by kind: a count over a district's 10,000 nodes, kept (portal.cache)."""
    return kept("tenants.subtree_counts", (tenant.id,), lambda: service.subtree_counts(tenant))[0]


@bp.get("/<int:tenant_id>")
@login_required
def show(tenant_id):
    tenant = get_scoped_or_404(Tenant, tenant_id)
    inside = current_scope().contains(tenant)
    q = request.args.get("q", "").strip()
    page, rows = kept_rows("tenants.children", lambda: service.children(tenant, q), "tenants/_children_rows.html",
                           key=(tenant.id,), q=q) if inside else (None, None)
    return render("tenants/show.html", "children", tenant=tenant, inside=inside, page=page, rows=rows, q=q,
                  ancestors=service.ancestors(tenant), counts=node_counts(tenant) if inside else {},
                  members=service.members(tenant) if inside else [], child_form=_child_form(tenant),
                  child_fields=_blank_child_fields(tenant.kind),
                  can_add_enterprise="enterprise" in CHILD_KINDS[tenant.kind],
                  can_import_townships=tenant.kind == "district" and bool(tenant.code))


@bp.post("/<int:tenant_id>/divisions")
@login_required
@requires("tenants.manage")
def import_townships(tenant_id):
    county = get_managed_or_404(tenant_id)
    stats, error = attempt(lambda: divisions.import_townships(county, actor=g.membership))
    if error:
        flash(error, "error")
    elif stats["created"]:
        flash(f"已导入 {stats['created']} 个乡镇街道（2023 年统计用区划代码）"
              + (f"，另有 {stats['existing']} 个已存在" if stats["existing"] else "") + "。", "success")
    else:
        flash(f"{county.name}的 {stats['existing']} 个乡镇街道都已存在，没有新增。", "info")
    return redirect(url_for("tenants.show", tenant_id=county.id), code=303)


# A township's departments are its 站所 (应急站, 城建站 …): the same kind, called what it is there.
_CHILD_LABELS = {("street", "department"): "站所/部门", ("street", "village"): "村/社区"}


def _child_form(tenant, formdata=None):
    form = ChildForm(formdata=formdata) if formdata is not None else ChildForm()
    allowed = [k for k in CHILD_KINDS[tenant.kind] if k != "enterprise"]
    form.kind.choices = choices((k, _CHILD_LABELS.get((tenant.kind, k), KINDS[k])) for k in allowed)
    return form


@lru_cache(maxsize=None)
def _blank_child_fields(kind: str) -> Markup:
    """The empty fields of the node page's 新建下级单位 form: the same for every node of a kind, so
    rendered once per process (WTForms rendered them for a quarter of the page's time)."""
    form, field = _child_form(Tenant(kind=kind)), get_template_attribute("_macros/ui.html", "field")
    return Markup("".join(field(form[name]) for name in ("kind", "name", "code", "supervised_industries")))


@bp.post("/<int:tenant_id>/children")
@login_required
@requires("tenants.manage")
def create_child(tenant_id):
    parent = get_managed_or_404(tenant_id)
    form = _child_form(parent)
    error = None
    if form.validate_on_submit():
        child, error = attempt(lambda: service.create_child(
            parent, kind=form.kind.data, name=form.name.data, code=form.code.data,
            supervised_industries=form.supervised_industries.data, actor=g.membership))
        if error is None:
            flash(f"已新建“{child.name}”。", "success")
            return redirect(url_for("tenants.show", tenant_id=child.id))
    return render("tenants/child_new.html", tenant=parent, form=form, error=error, status=422)


@bp.route("/<int:tenant_id>/enterprises/new", methods=["GET", "POST"])
@login_required
@requires("tenants.manage")
def register_enterprise(tenant_id):
    parent = get_managed_or_404(tenant_id)
    if "enterprise" not in CHILD_KINDS[parent.kind]:
        flash(f"企业须登记在街道/乡镇或村/社区之下，“{parent.name}”不能直接登记企业。", "error")
        return redirect(url_for("tenants.show", tenant_id=parent.id))
    form = EnterpriseForm()
    error = None
    if form.validate_on_submit():
        ent, error = attempt(lambda: service.register_enterprise(
            parent, name=form.name.data, code=form.credit_code.data, industry=form.industry.data,
            high_risk=form.high_risk.data, address=form.address.data or "", actor=g.membership))
        if error is None:
            flash(f"已登记企业“{ent.name}”。", "success")
            return redirect(url_for("tenants.show", tenant_id=ent.id))
    return render("tenants/enterprise_new.html", tenant=parent, form=form, error=error, status=form_status())


@bp.route("/<int:tenant_id>/edit", methods=["GET", "POST"])
@login_required
@requires("tenants.manage")
def edit(tenant_id):
    tenant = get_managed_or_404(tenant_id)
    form = EditForm(obj=tenant)
    error = None
    if form.validate_on_submit():
        _, error = attempt(lambda: service.update(
            tenant, name=form.name.data, industry=form.industry.data, high_risk=form.high_risk.data,
            supervised_industries=form.supervised_industries.data, actor=g.membership))
        if error is None:
            flash("已保存。", "success")
            return redirect(url_for("tenants.show", tenant_id=tenant.id))
    return render("tenants/edit.html", tenant=tenant, form=form, error=error, status=form_status())


@bp.route("/<int:tenant_id>/move", methods=["GET", "POST"])
@login_required
@requires("tenants.manage")
def move(tenant_id):
    tenant = get_managed_or_404(tenant_id)
    if tenant.id == g.membership.tenant.id:
        abort(404)
    form = MoveForm()
    form.new_parent_id.choices = choices(
        (t.id, f"{t.name}（{t.kind_label}）")
        for t in db.session.execute(service.possible_parents(tenant, g.membership.tenant)).scalars())
    error = None
    if form.validate_on_submit():
        new_parent = get_managed_or_404(form.new_parent_id.data)
        _, error = attempt(lambda: service.relocate(tenant, new_parent, actor=g.membership))
        if error is None:
            flash(f"已将“{tenant.name}”调整到“{new_parent.name}”之下。", "success")
            return redirect(url_for("tenants.show", tenant_id=tenant.id))
    return render("tenants/move.html", tenant=tenant, form=form, error=error, status=form_status())

