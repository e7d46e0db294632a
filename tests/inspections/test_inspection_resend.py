"""On a phone the same form is sent twice (a dropped connection, a second tap): the inspection and
each hazard found on it are recorded once, by the key the form carries; a new form, a new record.
The page offers the camera and keeps a draft (static/js/app.js; the phone journey runs them)."""
import io
import re

from sqlalchemy import func, select

from portal.hazards.models import Hazard, HazardPhoto
from portal.inspections import service
from portal.inspections.models import Inspection
from tests.conftest import csrf_token, login
from tests.hazards.conftest import PNG
from tests.inspections.conftest import TODAY


def test_the_same_create_form_twice_makes_one_inspection(session, field):
    wang, plant = field["wang"], field["tree"]["a_plant"]
    args = dict(kind="enforcement", inspected_on=TODAY, inspector_ids=[wang.user_id, field["zhao"].user_id], today=TODAY)
    first = service.create(wang, plant, request_key="k-create", **args)
    assert service.create(wang, plant, request_key="k-create", **args) is first
    assert service.create(wang, plant, request_key="k-other", **args) is not first
    assert session.execute(select(func.count()).select_from(Inspection)).scalar() == 2


def _hazard_form(client, inspection, key, description="储罐区防火堤破损"):
    page = client.get(f"/inspections/{inspection.id}").get_data(as_text=True)
    return {"csrf_token": csrf_token(client), "level": "general", "description": description,
            "location": "储罐区", "request_key": key}, page


def test_the_same_hazard_form_sent_twice_records_one_hazard_with_its_photo(client, session, field):
    wang, plant = field["wang"], field["tree"]["a_plant"]
    inspection = service.create(wang, plant, kind="enforcement", inspected_on=TODAY,
                                inspector_ids=[wang.user_id, field["zhao"].user_id],
                                today=TODAY)
    session.commit()
    login(client, wang.user)
    data, page = _hazard_form(client, inspection, "k-hazard")
    # The phone's camera, the photos made small before sending, the draft kept in the browser.
    assert re.search(r'<input[^>]*capture="environment"[^>]*data-compress="1600"', page) \
        or re.search(r'<input[^>]*data-compress="1600"[^>]*capture="environment"', page)
    assert f'data-draft="inspection-{inspection.id}-hazard"' in page
    for _ in range(2):
        r = client.post(f"/inspections/{inspection.id}/hazards", data={**data, "photos": (io.BytesIO(PNG), "现场.png")},
                        content_type="multipart/form-data")
        assert r.status_code == 302
    hazards = session.execute(select(Hazard).where(Hazard.tenant_id == plant.id)).scalars().all()
    assert len(hazards) == 1
    assert session.execute(select(func.count()).select_from(HazardPhoto)
                           .where(HazardPhoto.hazard_id == hazards[0].id)).scalar() == 1
    # The record page names the key as recorded, so the phone discards its draft.
    page = client.get(f"/inspections/{inspection.id}").get_data(as_text=True)
    assert re.search(r'data-recorded="[^"]*k-hazard', page)
    # A new form (a new key) is a new hazard.
    data, _ = _hazard_form(client, inspection, "k-second", "装卸区静电接地断开")
    assert client.post(f"/inspections/{inspection.id}/hazards", data=data).status_code == 302
    assert session.execute(select(func.count()).select_from(Hazard).where(Hazard.tenant_id == plant.id)).scalar() == 2
