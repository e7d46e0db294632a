"""A long ledger PDF is laid out in a process of its own (its memory goes back to the system when
it ends); the waiting page polls its progress. Needs real commits, so it runs on committed_app."""
import time
from types import SimpleNamespace
from datetime import date

from portal.extensions import db
from portal.hazards import service
from tenants.models import Tenant
from tenants.paths import attach
from tenants.scope import unscoped
from tests.conftest import PASSWORD, login, post, unique
from tests.hazards.conftest import member


def test_a_heavy_pdf_export_runs_in_a_separate_process(committed_app, monkeypatch):
    with committed_app.app_context(), unscoped():
        from portal.auth import service as auth
        root = attach(Tenant(kind="national", name=unique("根")), None)
        district = attach(Tenant(kind="district", name="进程区"), attach(Tenant(kind="province", name="某省"), root))
        street = attach(Tenant(kind="street", name="进程街道"), district)
        plant = attach(Tenant(kind="enterprise", name="进程化工厂", industry="hazchem"), street)
        principal = member(auth.create_user(plant, username=unique("p"), display_name="厂长", password=PASSWORD,
                                            role="principal"))
        admin = auth.create_user(district, username=unique("a"), display_name="区管理员", password=PASSWORD, role="admin")
        auth.accept_password(admin)
        for n in range(3):
            service.record(plant, principal, service.Finding(level="general", description=f"进程隐患{n}",
                                                             found_at=date(2024, 5, n + 1)), today=date(2024, 6, 1))
        db.session.commit()
        admin = SimpleNamespace(username=admin.username)
        db.session.expunge_all()
    # Three rows are "heavy" here, so the process path is taken without laying out 200 rows.
    monkeypatch.setattr(service, "PDF_INLINE_ROWS", 2)
    client = committed_app.test_client()
    login(client, admin)
    r = post(client, "/hazards/export", {"file_type": "pdf"})
    assert r.status_code == 303
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        html = client.get(r.headers["Location"], headers={"HX-Request": "true"}).get_data(as_text=True)
        if "下载 PDF" in html or "失败" in html:
            break
        assert "<progress" in html
        time.sleep(0.3)
    assert "下载 PDF" in html, html
    pdf = client.get(r.headers["Location"] + ".pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
