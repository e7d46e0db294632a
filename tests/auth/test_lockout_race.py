"""Wrong passwords sent at once, each on its own connection, are all counted: a parallel guesser gets
no more tries than a patient one, and the first failure of a name never trips on its twin's row."""
from sqlalchemy import select

from portal.auth import service
from portal.auth.models import LoginThrottle
from portal.extensions import db
from tenants.models import Tenant
from tenants.paths import attach
from tenants.scope import unscoped
from tests.conftest import PASSWORD, at_once, unique


def test_concurrent_failures_are_all_counted_and_lock_once(committed_app):
    app = committed_app
    with app.app_context(), unscoped():
        user = service.create_user(attach(Tenant(kind="national", name=unique("并发登录")), None),
                                   username=unique("racer"), display_name="并发", password=PASSWORD, role="admin")
        db.session.commit()
        username = user.username
        db.session.remove()
    tries = service.MAX_FAILURES + 3
    answers = []

    def guess(n):
        with app.app_context(), service.from_source("10.5.5.5"):
            answers.append(service.authenticate(username, "Wrong-Passw0rd")[1])
            db.session.commit()
            db.session.remove()

    at_once(guess, tries)
    with app.app_context(), unscoped():
        rows = {r.source: r for r in db.session.execute(
            select(LoginThrottle).where(LoginThrottle.username == username)).scalars()}
        db.session.remove()
    # Five counted up to the lock; the rest found it locked and were not counted.
    assert rows["10.5.5.5"].failures == service.MAX_FAILURES and rows["10.5.5.5"].locked_until is not None
    assert sum("已锁定 15 分钟；" in a for a in answers) == 1
    assert sum("请 " in a and "分钟后再试" in a for a in answers) == tries - service.MAX_FAILURES
