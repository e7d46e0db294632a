"""The landing page after login: the desk (工作台). One URL per panel serves the panel alone to
HTMX (its refresh) and the whole desk otherwise, from the blocks of one template."""
from flask import Blueprint, abort, g, redirect, request, url_for
from flask_login import current_user, login_required

from portal.desk import service as desk
from portal.web import is_htmx, render
from tenants import clock, service
from tenants.views import node_counts

bp = Blueprint("home", __name__)


@bp.get("/")
def index():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return _desk()


@bp.get("/desk")
@login_required
def panel():
    """?panel=NAME: one panel of the user's desk (a query string, not a path: it names no record)."""
    name = request.args.get("panel", "")
    if g.membership is None or name not in desk.panels_for(g.membership):
        abort(404)
    return _desk(only=name)


def _desk(only: str | None = None):
    home = g.membership.tenant if g.membership else None
    if home is None:
        return render("home.html", home=None)
    names = desk.panels_for(g.membership)
    if only and is_htmx():
        return render("home.html", f"panel_{only}", panels={only: desk.panel(only, g.membership)}, today=clock.today())
    return render("home.html", home=home, panels={name: desk.panel(name, g.membership) for name in names},
                  counts=node_counts(home), ancestors=service.ancestors(home), today=clock.today())
