"""Command-line entry points: `flask --app wsgi tenants|audit|demo …`. All run unscoped, as the
tables' owner (on PostgreSQL the app's role is for serving requests and export jobs)."""
import sys
import time
from pathlib import Path

import click
from flask.cli import AppGroup, with_appcontext

from portal.extensions import db
from tenants.rls import as_owner
from tenants.scope import unscoped


def _as_owner():
    click.get_current_context().with_resource(as_owner())


tenants_cli = AppGroup("tenants", help="租户树：导入行政区划等。", callback=_as_owner)
audit_cli = AppGroup("audit", help="审计链：校验、逐级锚定。", callback=_as_owner)
demo_cli = AppGroup("demo", help="演示数据。", callback=_as_owner)
hazards_cli = AppGroup("hazards", help="隐患台账：载入判定标准。", callback=_as_owner)
checklists_cli = AppGroup("checklists", help="责任清单：企业履职评估。", callback=_as_owner)
dispatch_cli = AppGroup("dispatch", help="调度表：汇总数据。", callback=_as_owner)
schedule_cli = AppGroup("schedule", help="定时任务：汇总、评估、提醒、校验。", callback=_as_owner)
setup_cli = AppGroup("setup", help="正式部署：在空数据库上建立根节点和第一个管理员。",
                     callback=_as_owner)


@setup_cli.command("init")
@click.option("--admin", "username", required=True, help="第一个管理员的用户名（3–64 位字母、数字、下划线、点或连字符）。")
@click.option("--admin-name", default="管理员", show_default=True, help="管理员姓名。")
@click.option("--root-name", default=None, help="根节点名称，默认“国务院安委会”。")
@click.option("--division", default=None,
              help="管理员所在的行政区划代码（如 141128 方山县）：建立从省到该区划的各级节点，管理员设在该区划；"
                   "不填则管理员设在根节点。该区划的乡镇街道由其管理员在单位页面导入。")
@click.option("--generate-password", is_flag=True, help="生成随机密码并只显示这一次；不加此项则提示输入密码。")
def setup_init_command(username, admin_name, root_name, division, generate_password):
    """在空数据库上初始化：建立根节点（及到指定区划的各级节点）和第一个管理员。已有任何单位或用户时拒绝执行。"""
    from portal.errors import Refused
    from portal.onboarding import service
    from tenants.divisions import ROOT_NAME
    if not service.is_empty():
        raise click.ClickException("数据库中已有单位或用户，初始化只能在空数据库上执行一次。")
    if generate_password:
        password = service.generate_password()
    else:
        password = click.prompt("管理员密码", hide_input=True, confirmation_prompt="再次输入密码")
    try:
        home, user = service.first_setup(admin_username=username, admin_name=admin_name, password=password,
                                         root_name=root_name or ROOT_NAME, division=division)
    except Refused as e:
        db.session.rollback()
        raise click.ClickException(str(e)) from None
    db.session.commit()
    click.echo(f"初始化完成：管理员 {user.username} 设在“{home.name}”。")
    if generate_password:
        click.echo(f"初始密码（只显示这一次，请妥善保管，登录后修改）：{password}")


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


@audit_cli.command("verify")
def audit_verify_command():
    """逐链校验审计事件的哈希链和对下级链头的锚定，列出全部断点。"""
    from portal.audit.service import verify
    with unscoped():
        checked, broken = verify()
    for link in broken:
        click.echo(f"审计链断裂：租户 {link.tenant_id} 第 {link.seq} 环（事件 {link.event_id}）：{link.reason}。", err=True)
    if broken:
        click.echo(f"共校验 {checked} 条事件，发现 {len(broken)} 处断点。", err=True)
        sys.exit(1)
    click.echo(f"审计链完整：共校验 {checked} 条事件。")


@audit_cli.command("anchor")
def audit_anchor_command():
    """把每个单位的审计链头（序号和哈希）记入上级单位的审计链，直到根节点（至少每天运行一次）。"""
    from portal.audit.service import anchor, roots_heads
    with unscoped():
        recorded = anchor()
        db.session.commit()
        heads = roots_heads()
    click.echo(f"已锚定 {recorded} 条下级链头。")
    # The roots are anchored nowhere inside the system: their heads are for the operator to keep
    # outside it (a printed log, another machine), so rewriting everything shows too.
    for tenant, seq, head in heads:
        click.echo(f"根节点 {tenant.name}（{tenant.id}）链头：第 {seq} 环 {head}")


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
            click.echo(f"{root.name}：评估 {stats['enterprises']} 家企业、{stats['units']} 个其他单位，"
                       f"未履职问题变动 {stats['changed']} 条。")
    click.echo(f"评估日期 {today}，用时 {time.perf_counter() - started:.1f} 秒。")


@dispatch_cli.command("rollup")
def dispatch_rollup_command():
    """更新区县及以上各级保存的调度表数据：重新统计有记录变动的区县并逐级汇总（定时任务每 30 秒运行一次）。"""
    from portal.dispatch.service import refresh_rollups
    started = time.perf_counter()
    with unscoped():
        count = refresh_rollups()
    click.echo(f"更新完成：{count} 个单位，用时 {time.perf_counter() - started:.1f} 秒。")


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
    _as_owner()
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
    _as_owner()
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
            for link in broken:
                click.echo(f"审计链断裂：租户 {link.tenant_id} 第 {link.seq} 环：{link.reason}。", err=True)
            click.echo(f"数据已恢复，但审计链校验发现 {len(broken)} 处断点。请勿投入使用，改用其他备份。", err=True)
            sys.exit(1)
        rows = sum(backup.row_counts().values())
    click.echo(f"恢复完成：审计链完整（校验 {checked} 条事件），共 {rows} 行，用时 {time.perf_counter() - started:.1f} 秒。")


def init_app(app) -> None:
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
    for group in (tenants_cli, audit_cli, demo_cli, hazards_cli, checklists_cli, dispatch_cli, schedule_cli, setup_cli):
        app.cli.add_command(group)
