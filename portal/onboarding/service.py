"""First setup of an empty database, initial passwords of new accounts, and the account letters."""
from __future__ import annotations

import secrets

from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from portal.audit import service as audit
from portal.auth import service as auth
from portal.auth.models import User
from portal.errors import Refused
from portal.exports import access, service as exports
from portal.extensions import db
from tenants.clock import now
from tenants.divisions import ROOT_NAME, import_chain
from tenants.models import Tenant
from tenants.paths import attach, lock_tenants
from tenants.scope import unscoped
from tenants.service import clean_name

# Generated passwords avoid characters read alike on paper (0/O, 1/l/I).
_UPPER, _LOWER, _DIGITS, _SYMBOLS = "ABCDEFGHJKLMNPQRSTUVWXYZ", "abcdefghijkmnpqrstuvwxyz", "23456789", "@#%+="
PASSWORD_LENGTH = 12
# An initial password is random (12 characters from 61: ~71 bits), so a slow hash adds nothing an
# attacker would feel, while scrypt would cost ~20 minutes for the 20,000 accounts of 10,000
# enterprises. The person must replace it at first login; the replacement gets the full hash.
INITIAL_HASH = "pbkdf2:sha256:1000"


def generate_password() -> str:
    """A random password meeting the policy (upper, lower, digit, symbol), easy to copy from paper."""
    alphabet = _UPPER + _LOWER + _DIGITS + _SYMBOLS
    while True:
        chars = [secrets.choice(pool) for pool in (_UPPER, _LOWER, _DIGITS, _SYMBOLS)]
        chars += [secrets.choice(alphabet) for _ in range(PASSWORD_LENGTH - len(chars))]
        secrets.SystemRandom().shuffle(chars)
        password = "".join(chars)
        if auth.password_problem(password) is None:
            return password


def is_empty() -> bool:
    with unscoped():
        return not (db.session.execute(select(func.count()).select_from(Tenant)).scalar_one()
                    or db.session.execute(select(func.count()).select_from(User)).scalar_one())


def first_setup(*, admin_username: str, admin_name: str, password: str, root_name: str = ROOT_NAME,
                division: str | None = None) -> tuple[Tenant, User]:
    """The production path on an empty database: the national root (named `root_name`), and when
    `division` is given the levels down to that division (its own townships are imported later by
    its admin, from its node page); the first admin at that node. Refused once anything exists,
    so it can never hand out a second way into a live system. Not committed here."""
    with unscoped():
        lock_tenants()
        if not is_empty():
            raise Refused("数据库中已有单位或用户，初始化只能在空数据库上执行一次；"
                          "新增管理员请由现有管理员在“用户”页面建立。")
        problem = auth.password_problem(password)
        if problem:
            raise Refused(problem)
        root = attach(Tenant(kind="national", name=clean_name(root_name), supervised_industries=[]), None)
        home = import_chain(division) if division else root
        user = auth.create_user(home, username=admin_username, display_name=(admin_name or "").strip() or "管理员",
                                password=password, role="admin")
        chain = [t.name for t in db.session.execute(
            select(Tenant).where(Tenant.id != root.id).order_by(Tenant.depth)).scalars()]
        audit.record(root, "setup.initialized", root, {"root": root.name, "division": division, "created": chain,
                                                       "admin": user.username, "admin_unit": home.name},
                     actor=user)
    return home, user


def create_account(*, username: str, display_name: str, phone: str, password: str, post: str = "") -> dict:
    """The users-table row of a new account holding `password` as its one-time initial password
    (the letters print it): the one place bulk onboarding sets an initial password."""
    return {"username": username, "display_name": display_name, "post": post, "phone": phone,
            "password_hash": generate_password_hash(password, method=INITIAL_HASH), "active": True,
            # One-time: the user must choose their own at first login (as auth.set_initial_password).
            "must_change_password": True, "password_changed_at": now(), "created_at": now()}


LETTERS = "onboarding.letters"


@exports.builder(LETTERS, readers=access.readers("admin", own_unit=True))
def build_letters(tenant: Tenant, params: dict) -> exports.Built:
    """One page per account: who, which unit and role, the username and the initial password.
    The digest covers everything but the passwords; once the file exists the stored request
    forgets them, so the printed letters are their only copy."""
    letters = params["letters"]
    content = [{k: v for k, v in letter.items() if k != "password"} for letter in letters]
    return exports.Built("onboarding/letters_document.html", {"letters": content},
                         {"letters": letters, "login_url": params.get("login_url", "")}, forget=("letters",))
