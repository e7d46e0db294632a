"""`flask backup` / `restore`: a database backed up, destroyed and restored comes back with the
same rows and the same audit chain heads, and the restore says so only after verifying them."""
import os

import pytest
from sqlalchemy import text

from portal import backup
from portal.audit import service as audit
from portal.extensions import db
from tenants import service as tenants_service
from tenants.models import Tenant
from tenants.paths import attach
from tenants.rls import as_owner
from tenants.scope import unscoped
from tests.conftest import fresh_app, unique


@pytest.fixture
def committed_app():
    """A database of its own, built by the migrations: these tests destroy and restore it, while
    the other committed tests of the run share one."""
    with fresh_app("backup") as application:
        yield application


def _destroy(app):
    """What a lost disk or a wrong DROP leaves: no tables at all."""
    with app.app_context(), as_owner():  # as an operator would: the app's role owns nothing
        if db.engine.dialect.name == "sqlite":
            db.engine.dispose()
            os.remove(db.engine.url.database)
        else:
            schema = app.config["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"]["options"].split("=", 1)[1]
            with db.engine.begin() as conn:
                conn.execute(text(f"DROP SCHEMA {schema} CASCADE; CREATE SCHEMA {schema}"))
            db.engine.dispose()


def test_backup_destroy_restore_gives_back_the_same_rows_and_chain_heads(committed_app, tmp_path):
    with committed_app.app_context(), unscoped():
        root = attach(Tenant(kind="national", name=unique("备份根")), None)
        district = attach(Tenant(kind="district", name="备份区"), attach(Tenant(kind="province", name="备份省"), root))
        for i in range(5):
            tenants_service.create_child(district, kind="street", name=f"备份街道{i}")
        audit.record(root, "setting.updated", data={"key": "x"})
        db.session.commit()
        counts, heads = backup.row_counts(), backup.chain_heads()
        db.session.remove()
    assert counts["tenants"] >= 8 and counts["audit_events"] >= 6 and len(heads) == 2
    runner = committed_app.test_cli_runner()
    saved = tmp_path / "portal.backup"
    result = runner.invoke(args=["backup", str(saved)])
    assert result.exit_code == 0 and "备份完成" in result.output, result.output

    _destroy(committed_app)
    with committed_app.app_context():
        assert "tenants" not in db.inspect(db.engine).get_table_names()
        db.engine.dispose()

    result = runner.invoke(args=["restore", str(saved), "--yes"])
    assert result.exit_code == 0, result.output
    assert f"审计链完整（校验 {counts['audit_events']} 条事件）" in result.output
    with committed_app.app_context(), unscoped():
        assert backup.row_counts() == counts and backup.chain_heads() == heads
        db.session.remove()


def test_restore_of_a_missing_file_says_so(committed_app, tmp_path):
    result = committed_app.test_cli_runner().invoke(args=["restore", str(tmp_path / "nope.dump"), "--yes"])
    assert result.exit_code != 0 and "找不到备份文件" in result.output
