"""Harambee: the application factory, read as a table of contents."""
from __future__ import annotations

import logging
import os
from pathlib import Path

from flask import Flask

from config import CONFIGS, ProductionConfig
from webapp.public_url import PublicURLFlask, init_public_url

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: str | type | None = None) -> Flask:
    config_class = _config_class(config)
    if config_class is ProductionConfig or issubclass(config_class, ProductionConfig):
        ProductionConfig.check()
    app = PublicURLFlask(  # url_for(..., _external=True) builds from PUBLIC_URL, never from the request
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "webapp" / "static"),
        instance_path=str(ROOT / "instance"),
    )
    app.config.from_object(config_class)
    Path(app.config["INSTANCE_DIR"]).mkdir(parents=True, exist_ok=True)
    init_public_url(app)
    configure_logging(app)
    if app.config["TRUSTED_PROXIES"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    register_extensions(app)
    register_url_converters(app)
    register_security(app)
    register_blueprints(app)
    register_payments(app)
    register_progress_reports(app)
    register_membership(app)
    register_governance(app)
    register_impact(app)
    register_privacy(app)
    register_errorhandlers(app)
    register_template_helpers(app)
    register_commands(app)
    register_page_cache(app)
    register_jobs(app)
    return app


def register_jobs(app: Flask) -> None:
    from webapp import jobs
    from webapp.campaigns import tasks as campaign_tasks  # noqa: F401  (registers the tasks)
    from webapp.membership import tasks as membership_tasks  # noqa: F401
    from webapp.mutual_aid import tasks as mutual_aid_tasks  # noqa: F401
    from webapp.payments import tasks as payment_tasks  # noqa: F401
    from webapp.governance import tasks as governance_tasks  # noqa: F401
    from webapp.privacy import tasks as privacy_tasks  # noqa: F401
    from webapp.progress_reports import tasks as progress_report_tasks  # noqa: F401
    from webapp.impact import tasks as impact_tasks  # noqa: F401

    jobs.init_celery(app)
    if app.config["IN_PROCESS_SCHEDULER"] and not app.config["CELERY_BROKER_URL"]:
        jobs.start_in_process_scheduler(app)


def _config_class(config: str | type | None) -> type:
    if isinstance(config, type):
        return config
    name = config or os.environ.get("HARAMBEE_ENV", "development")
    try:
        return CONFIGS[name]
    except KeyError:
        raise RuntimeError(f"Unknown HARAMBEE_ENV {name!r}; use one of {sorted(CONFIGS)}") from None


def configure_logging(app: Flask) -> None:
    if not app.testing:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def register_extensions(app: Flask) -> None:
    from webapp import i18n
    from webapp.extensions import babel, csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message_category = "info"
    from webapp.accounts.views import load_user  # noqa: F401  (registers the user loader)
    from webapp.mail import init_mail

    init_mail(app)


def register_url_converters(app: Flask) -> None:
    from webapp import ids

    ids.register(app)  # before any rule is added: `<int:...>` is bounded everywhere


def register_security(app: Flask) -> None:
    from webapp import security

    security.register(app)


def register_blueprints(app: Flask) -> None:
    from webapp import mutual_aid
    from webapp.accounts.views import blueprint as accounts
    from webapp.campaigns.views import blueprint as campaigns
    from webapp.campaigns.views import manage as campaign_manage
    from webapp.campaigns.views import moderation
    from webapp.organizations.views import blueprint as organizations
    from webapp.storage.views import blueprint as storage

    app.register_blueprint(campaigns)
    app.register_blueprint(campaign_manage)
    app.register_blueprint(moderation)
    app.register_blueprint(accounts)
    app.register_blueprint(organizations)
    app.register_blueprint(storage)
    mutual_aid.init_app(app)


def register_payments(app: Flask) -> None:
    from webapp import payments

    payments.init_app(app)


def register_progress_reports(app: Flask) -> None:
    from webapp import progress_reports

    progress_reports.init_app(app)


def register_membership(app: Flask) -> None:
    from webapp import membership

    membership.init_app(app)


def register_governance(app: Flask) -> None:
    from webapp import governance

    governance.init_app(app)
def register_impact(app: Flask) -> None:
    from webapp import impact

    impact.init_app(app)


def register_privacy(app: Flask) -> None:
    from webapp import privacy

    privacy.init_app(app)


def register_errorhandlers(app: Flask) -> None:
    from webapp.errorpages import register

    register(app)


def register_template_helpers(app: Flask) -> None:
    from webapp import i18n

    i18n.register_template_helpers(app)


def register_page_cache(app: Flask) -> None:
    from webapp import pagecache, static_files

    static_files.init_app(app)
    pagecache.init_app(app)  # last: it wraps the template globals the others registered


def register_commands(app: Flask) -> None:
    from webapp.accounts.commands import users
    from webapp.demo import demo

    app.cli.add_command(users)
    app.cli.add_command(demo)
