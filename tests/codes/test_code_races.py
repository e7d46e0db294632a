"""Two admins issuing an enterprise's code at the same moment, on real concurrent connections: one code."""
import pytest
from sqlalchemy import select

from portal.codes import service
from portal.codes.models import EnterpriseCode
from tests.conftest import audited, race, refused
from tests.hazards.conftest import member


@pytest.fixture
def session(committed_session):
    return committed_session


def test_two_admins_issuing_at_once_make_one_code(session, tree, make_user):
    shop = tree["a_shop"]
    one, two = (member(make_user(tree["a"], role="admin")) for _ in range(2))
    outcomes = race((lambda s, m: service.issue(s, m), shop, one), (lambda s, m: service.issue(s, m), shop, two))
    assert refused(outcomes) == ["该企业已有在用的二维码；如需更换，请点“作废并重新生成”。"]
    (code,) = session.execute(select(EnterpriseCode).where(EnterpriseCode.tenant_id == shop.id)).scalars()
    assert audited(code, "code.issued") == ["code.issued"]


def test_reissuing_twice_at_once_leaves_one_code_in_force(session, tree, make_user):
    shop = tree["a_shop"]
    one, two = (member(make_user(tree["a"], role="admin")) for _ in range(2))
    service.issue(shop, one)
    outcomes = race((lambda s, m: service.revoke(s, m, reissue=True), shop, one),
                    (lambda s, m: service.revoke(s, m, reissue=True), shop, two))
    assert len(refused(outcomes)) <= 1
    in_force = session.execute(select(EnterpriseCode).where(EnterpriseCode.tenant_id == shop.id,
                                                            EnterpriseCode.revoked_at.is_(None))).scalars().all()
    assert len(in_force) == 1
