"""Command-line entry points: `flask --app wsgi tenants|audit|demo …`. All run unscoped."""
import sys
import time
from pathlib import Path

import click
from flask.cli import AppGroup, with_appcontext

from portal.extensions import db
from tenants.scope import unscoped

tenants_cli = AppGroup("tenants", help="租户树：导入行政区划等。")
audit_cli = AppGroup("audit", help="审计链：校验。")
demo_cli = AppGroup("demo", help="演示数据。")
hazards_cli = AppGroup("hazards", help="隐患台账：载入判定标准。")
checklists_cli = AppGroup("checklists", help="责任清单：企业履职评估。")
dispatch_cli = AppGroup("dispatch", help="调度表：汇总数据。")
schedule_cli = AppGroup("schedule", help="定时任务：汇总、评估、提醒、校验。")


@tenants_cli.command("import-divisions")
@click.option("--province", "province", default=None, help="只导入该省级代码（如 12 天津市）。")
def import_divisions_command(province):
    """导入 2023 年统计用区划代码（省 → 乡镇街道），可重复执行。"""
    from tenants.divisions import import_divisions
    from tenants.paths import TreeError
    started = time.perf_counter()
    with unscoped():
        try:
            stats = import_divisions(province)
        except TreeError as e:
            raise click.ClickException(str(e)) from None
        db.session.commit()
    click.echo(f"导入完成：新增 {stats['created']} 个，已存在 {stats['existing']} 个，"
               f"用时 {time.perf_counter() - started:.1f} 秒。")


@tenants_cli.command("create-admin")
@click.argument("code")
@click.argument("username")
@click.option("--name", "display_name", required=True, help="姓名。")
@click.password_option("--password", prompt="密码", confirmation_prompt="再次输入密码", help="密码（不填则提示输入）。")
def create_admin_command(code, username, display_name, password):
    """为区划代码为 CODE 的单位建第一个管理员账号（正式部署时用它开始，再在页面中建其余账号）。"""
    from sqlalchemy import select

    from portal.errors import Refused
    from portal.auth.service import create_user
    from tenants.models import Tenant
    with unscoped():
        tenant = db.session.execute(select(Tenant).where(Tenant.code == code)).scalars().first()
        if tenant is None:
            raise click.ClickException(f"没有区划代码为 {code} 的单位，请先导入行政区划（flask tenants import-divisions）。")
        try:
            create_user(tenant, username=username, display_name=display_name, password=password, role="admin")
        except Refused as e:
            raise click.ClickException(str(e)) from None
        db.session.commit()
    click.echo(f"已为“{tenant.name}”建立管理员账号 {username}。")


@audit_cli.command("verify")
def audit_verify_command():
    """逐链校验审计事件的哈希链，指出第一个断点。"""
    from portal.audit.service import verify
    with unscoped():
        checked, broken = verify()
    if broken:
        click.echo(f"审计链断裂：租户 {broken.tenant_id} 第 {broken.seq} 环（事件 {broken.event_id}）："
                   f"{broken.reason}。此前已校验 {checked} 条。", err=True)
        sys.exit(1)
    click.echo(f"审计链完整：共校验 {checked} 条事件。")


@demo_cli.command("seed")
def demo_seed_command():
    """载入演示数据（已存在则跳过），并列出演示账号。"""
    from portal.demo import seed
    with unscoped():
        accounts = seed()
        db.session.commit()
    click.echo("演示账号（用户名 / 密码 / 单位 / 角色）：")
    for row in accounts:
        click.echo("  " + " / ".join(row))


@hazards_cli.command("load-standards")
def load_standards_command():
    """把随程序提供的国家重大事故隐患判定标准载入到国家级根节点（可重复执行）。"""
    from sqlalchemy import select

    from portal.hazards.service import load_national_standards
    from tenants.models import Tenant
    with unscoped():
        root = db.session.execute(select(Tenant).where(Tenant.parent_id.is_(None), Tenant.kind == "national")
                                  .order_by(Tenant.id)).scalars().first()
        if root is None:
            raise click.ClickException("还没有国家级根节点，请先导入行政区划（flask tenants import-divisions）。")
        created = load_national_standards(root)
        db.session.commit()
    click.echo(f"判定标准：新载入 {created} 项（已有的不重复载入）。")


@checklists_cli.command("evaluate")
@click.option("--date", "day", default=None, help="按哪一天评估（YYYY-MM-DD），默认今天。")
def checklists_evaluate_command(day):
    """按现行方案规则评估全部企业的履职情况，更新街道和部门可见的未履职问题（每日运行一次）。"""
    from datetime import date

    from sqlalchemy import select

    from portal.checklists.service import refresh_subtree
    from tenants import clock
    from tenants.models import Tenant
    try:
        today = date.fromisoformat(day) if day else clock.today()
    except ValueError:
        raise click.ClickException("日期格式应为 YYYY-MM-DD。") from None
    started = time.perf_counter()
    with unscoped():
        for root in db.session.execute(select(Tenant).where(Tenant.parent_id.is_(None))).scalars().all():
            stats = refresh_subtree(root, today)
            click.echo(f"{root.name}：评估 {stats['enterprises']} 家企业，未履职问题变动 {stats['changed']} 条。")
    click.echo(f"评估日期 {today}，用时 {time.perf_counter() - started:.1f} 秒。")


@dispatch_cli.command("rollup")
def dispatch_rollup_command():
    """重新汇总全国、省、市三级的调度表数据（页面只显示一小时内的汇总；请每半小时运行一次）。"""
    from portal.dispatch.service import refresh_rollups
    started = time.perf_counter()
    count = 0
    with unscoped():
        for _ in refresh_rollups():
            db.session.commit()
            count += 1
    click.echo(f"汇总完成：{count} 个单位，用时 {time.perf_counter() - started:.1f} 秒。")


def _report_runs(runs) -> bool:
    for run in runs:
        click.echo(f"{run.job}：{run.result_label}，用时 {run.seconds:.1f} 秒。{run.summary or ''}")
    return all(run.result == "ok" for run in runs)


@schedule_cli.command("run-due")
def schedule_run_due_command():
    """运行到期的定时任务（由 systemd 定时器每分钟调用；多台服务器同时调用时每项只运行一次）。"""
    from portal.schedule.service import run_due
    if not _report_runs(run_due()):
        sys.exit(1)


@schedule_cli.command("loop")
@click.option("--every", "seconds", default=60, show_default=True, help="检查间隔（秒）。")
def schedule_loop_command(seconds):
    """开发用：在前台每隔一段时间运行到期的定时任务，Ctrl-C 结束。"""
    from portal.schedule.service import run_due
    while True:
        _report_runs(run_due())
        db.session.remove()
        time.sleep(seconds)


@click.command("backup")
@with_appcontext
@click.argument("path", required=False, type=click.Path(dir_okay=False, path_type=Path))
def backup_command(path):
    """备份整个数据库（PostgreSQL：pg_dump 自定义格式；SQLite：在线备份），默认写入 instance/backups/。"""
    from flask import current_app

    from portal import backup
    from tenants import clock
    if path is None:
        suffix = "db" if db.engine.dialect.name == "sqlite" else "dump"
        stamp = clock.local(clock.now(), "%Y%m%d-%H%M%S")
        path = Path(current_app.instance_path) / "backups" / f"portal-{stamp}.{suffix}"
    started = time.perf_counter()
    try:
        backup.backup(path)
    except backup.BackupError as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"备份完成：{path}（{path.stat().st_size / 1024 / 1024:.1f} MB），用时 {time.perf_counter() - started:.1f} 秒。")


@click.command("restore")
@with_appcontext
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="不再确认（现有数据将被备份中的数据替换）。")
def restore_command(path, yes):
    """用备份替换整个数据库，并校验恢复出的审计链；校验通过才算完成。请先停止网站、生成进程和定时任务。"""
    from portal import backup
    from portal.audit.service import verify
    if not yes:
        click.confirm("现有数据将被备份中的数据替换，确定恢复吗？", abort=True)
    started = time.perf_counter()
    try:
        backup.restore(path)
    except backup.BackupError as e:
        raise click.ClickException(str(e)) from None
    with unscoped():
        checked, broken = verify()
        if broken:
            click.echo(f"数据已恢复，但审计链校验失败：租户 {broken.tenant_id} 第 {broken.seq} 环（{broken.reason}）。"
                       "请勿投入使用，改用其他备份。", err=True)
            sys.exit(1)
        rows = sum(backup.row_counts().values())
    click.echo(f"恢复完成：审计链完整（校验 {checked} 条事件），共 {rows} 行，用时 {time.perf_counter() - started:.1f} 秒。")


def init_app(app) -> None:
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
    for group in (tenants_cli, audit_cli, demo_cli, hazards_cli, checklists_cli, dispatch_cli, schedule_cli):
        app.cli.add_command(group)
