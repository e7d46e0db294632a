"""The three-year targets page: a node (the user's own, or a unit below it) and a year."""
from __future__ import annotations

from flask import Blueprint, g, request
from flask_login import login_required

from portal.targets import service
from portal.web import render
from tenants import clock
from tenants.scope import get_covered_or_404
from tenants.service import ancestors

bp = Blueprint("targets", __name__, url_prefix="/targets")


@bp.get("/")
@login_required
def index():
    node = get_covered_or_404(request.args["within"]) if request.args.get("within") \
        else g.membership.tenant
    today = clock.today()
    year = request.args.get("year", type=int)
    if year not in service.YEARS:
        year = min(max(today.year, service.YEARS[0]), service.YEARS[-1])
    mine = service.progress(node, year, today)
    return render("targets/index.html", node=node, year=year, mine=mine, units=service.units_below(node, year, today),
                  warning=service.warning(mine, today), today=today, ancestors=ancestors(node),
                  YEARS=service.YEARS, TARGETS=service.TARGETS)
