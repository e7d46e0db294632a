"""The audit trail of the current scope, for admins and discipline inspectors."""
from flask import Blueprint, request
from flask_login import login_required

from portal.audit import service
from portal.web import paginate, render, requires
from tenants.scope import current_scope

bp = Blueprint("audit", __name__, url_prefix="/audit")


@bp.get("/")
@login_required
@requires("audit.read")
def trail(verification=None):
    action = request.args.get("action", "")
    action = action if action in service.ACTIONS else ""
    page = paginate(service.trail(action or None), per_page=50)
    return render("audit/trail.html", "events", page=page, action=action, actions=service.ACTIONS,
                  verification=verification)


@bp.get("/verify")
@login_required
@requires("audit.read")
def verify():
    """Check every hash chain of the reader's subtree, as `flask audit verify` does for all."""
    return trail(verification=service.verify(within=current_scope().path))
