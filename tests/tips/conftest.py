"""Tip fixtures shared with the access matrix."""
from portal.tips import service
from tests.hazards.conftest import PNG


def sample_records(session, tree) -> dict:
    """A tip sent to 甲街道 with a photo, as the public page sends it. Returns its URL parameters."""
    service.submit(district_id=tree["a"].id, street_id=tree["a_street"].id, enterprise_name="甲区机密举报单位",
                   address="甲街道", description="甲区机密举报内容：仓库违规储存液化气钢瓶", anonymous=True,
                   photos=[("举报.png", PNG)], sender="192.0.2.1", limit=5)
    session.flush()
    from portal.tips.models import Tip
    tip = session.query(Tip).filter_by(enterprise_name="甲区机密举报单位").one()
    return {"tip_id": [tip.id]}
