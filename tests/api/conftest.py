"""API fixtures shared with the access matrix."""
from portal.api import service
from tests.hazards.conftest import member


def sample_records(session, tree, make_user) -> dict:
    """A token of 甲街道 acting as its staff, made by 甲区's admin."""
    token, _ = service.create(tree["a_street"], member(make_user(tree["a"], role="admin")), name="甲区机密系统",
                              role="staff")
    session.flush()
    return {"token_id": [token.id]}
