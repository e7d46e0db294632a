"""The Flask application: `create_app()` wires extensions, scoping, blueprints and CLI commands."""
from pathlib import Path

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    from portal import config

    config.load(app)
    if test_config:
        app.config.update(test_config)
    config.apply_https(app)

    from portal import cache, database  # noqa: F401  (register the figures' write hooks and SQLite's connection hooks)
    from portal.extensions import csrf, db, login_manager, migrate

    db.init_app(app)
    from tenants import rls

    rls.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    login_manager.init_app(app)

    from portal import serving, web

    web.init_app(app)
    serving.init_app(app)

    from portal.audit.views import bp as audit_bp
    from portal.auth.views import bp as auth_bp
    from portal.checklists.views import bp as checklists_bp
    from portal.exports.views import bp as exports_bp
    from portal.hazards.views import bp as hazards_bp
    from portal.home import bp as home_bp
    from portal.plans.views import bp as plans_bp
    from portal.tips.views import bp as tips_bp
    from portal.uploads.views import bp as uploads_bp
    from tenants.views import bp as tenants_bp

    from portal.accountability.views import bp as accountability_bp
    from portal.inspections.views import bp as inspections_bp
    from portal.dispatch.views import bp as dispatch_bp
    from portal.onboarding.views import bp as onboarding_bp
    from portal.schedule.views import bp as schedule_bp
    from portal.summaries.views import bp as summaries_bp
    from portal.targets.views import bp as targets_bp
    from portal.codes.views import bp as codes_bp
    from portal.api.views import bp as api_bp, pages as api_tokens_bp

    for bp in (home_bp, auth_bp, tenants_bp, audit_bp, exports_bp, plans_bp, uploads_bp, hazards_bp, tips_bp,
               checklists_bp, inspections_bp, accountability_bp, dispatch_bp, onboarding_bp, schedule_bp, targets_bp,
               summaries_bp, codes_bp, api_bp, api_tokens_bp):
        app.register_blueprint(bp)

    from portal import cli

    cli.init_app(app)
    return app
