"""The application factory: the one place that wires configuration, extensions, blueprints and commands.

    flask --app app run | db upgrade | demo load | scheduler run | mail send
"""

from __future__ import annotations

import logging
import signal
import tempfile
import threading
from pathlib import Path

import click
from flask import Flask, abort, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import generate_csrf
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from portal.accounts.services import load_session_user
from portal.audit import labels as audit_labels
from portal.config import load_settings
from portal.db import Database, close_db_session, db_session, end_request, roll_back_request
from portal.extensions import babel, limiter, login_manager
from portal.i18n import register_template_helpers, select_locale
from portal.navigation import navigation_for, section_menu
from portal.security import install_security_headers

ROOT = Path(__file__).resolve().parent
log = logging.getLogger("portal")


def create_app(overrides: dict | None = None, instance_path: str | Path | None = None) -> Flask:
    app = Flask(
        "portal",
        root_path=str(ROOT),
        instance_path=str(instance_path or ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.update(load_settings(Path(app.instance_path)).flask_config())
    app.config.update(overrides or {})
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    _trust_proxies(app)

    app.extensions["portal.db"] = Database(app.config["DATABASE_URL"])
    app.after_request(end_request)
    app.teardown_appcontext(close_db_session)

    babel.init_app(app, locale_selector=select_locale,
                   default_translation_directories=str(ROOT / "translations"))
    register_template_helpers(app)
    audit_labels.register_template_helpers(app)
    # Forms check their own token (FlaskForm), so a refused one re-renders with what was typed; templates
    # only need the token for hand-written forms such as the logout button.
    app.jinja_env.globals["csrf_token"] = generate_csrf
    _init_login(app)
    limiter.init_app(app)
    install_security_headers(app)
    _register_payables()
    _register_reminder_kinds()
    _register_blueprints(app)
    _register_error_pages(app)
    _register_commands(app)
    app.context_processor(lambda: {"navigation": navigation_for()})
    app.jinja_env.globals["section_menu"] = section_menu
    return app


def _trust_proxies(app: Flask) -> None:
    """Behind PROXY_COUNT proxies, request.remote_addr (what rate limits, the audit log and sessions record) is the
    client the outermost of them saw; without the setting the forwarded headers are ignored, since any client
    can send them."""
    count = app.config["PROXY_COUNT"]
    if count:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count)
    if app.config["PORTAL_ENV"] == "production" and app.config["RATELIMIT_ENABLED"] and not app.config["REDIS_URL"]:
        log.warning("REDIS_URL is not set: each worker counts rate limits on its own, so a client gets as many "
                    "attempts as there are workers")


def _init_login(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = None  # server-side sessions (AuthSession) do this job

    @login_manager.user_loader
    def _load_user(token: str):
        return load_session_user(db_session(), token)


def _register_payables() -> None:
    """What payments collect money for: each kind registers itself with portal.payments.payables."""
    import portal.booths.payable  # noqa: F401
    import portal.events.payable  # noqa: F401


def _register_reminder_kinds() -> None:
    """What reminders can be about: each domain registers its kinds with portal.reminders.kinds."""
    import portal.booths.reminders  # noqa: F401
    import portal.events.reminders  # noqa: F401
    import portal.incubation.reminders  # noqa: F401
    import portal.mentoring.reminders  # noqa: F401


def _register_blueprints(app: Flask) -> None:
    from portal.accounts.organisation_views import bp as orgs_bp
    from portal.accounts.views import bp as accounts_bp
    from portal.admin.styleguide import bp as styleguide_bp
    from portal.admin.views import bp as admin_bp
    from portal.booths.manage_views import bp as booth_manage_bp
    from portal.booths.views import bp as booths_bp
    from portal.core.views import bp as core_bp
    from portal.events.checkin_views import bp as checkin_bp
    from portal.events.dashboard_views import bp as event_dashboard_bp
    from portal.events.manage_views import bp as manage_bp
    from portal.events.views import bp as events_bp
    from portal.events.waitlist_views import bp as waitlist_bp
    from portal.events.waitlist_views import manage_bp as waitlist_manage_bp
    from portal.finance.views import bp as finance_bp
    from portal.finance.views import buyer_bp as receipts_bp
    from portal.incubation.manage_views import bp as incubator_bp
    from portal.incubation.review_views import bp as reviewing_bp
    from portal.incubation.views import bp as incubation_bp
    from portal.mentoring.manage_views import bp as mentoring_manage_bp
    from portal.mentoring.views import bp as mentoring_bp
    from portal.payments.reconciliation_views import bp as reconciliation_bp
    from portal.payments.views import bank_accounts_bp
    from portal.payments.views import bp as payments_bp
    from portal.reminders.pages import bp as reminders_bp

    for blueprint in (core_bp, accounts_bp, orgs_bp, admin_bp, event_dashboard_bp, waitlist_bp, waitlist_manage_bp,
                      checkin_bp, events_bp, manage_bp, payments_bp, bank_accounts_bp, reconciliation_bp, booths_bp,
                      booth_manage_bp, finance_bp, receipts_bp, incubation_bp, reviewing_bp, incubator_bp,
                      mentoring_bp, mentoring_manage_bp, reminders_bp, styleguide_bp):
        app.register_blueprint(blueprint)


ERROR_MESSAGES = {
    400: _l("The request could not be understood. Go back, check what you entered and try again."),
    403: _l("You do not have permission to open this page."),
    404: _l("This page does not exist. It may have moved, or the address is mistyped."),
    405: _l("This action is not allowed here."),
    413: _l("What you sent is too large. Files and forms may be at most 10 MB."),
    429: _l("Too many attempts. Wait a minute, then try again."),
    500: _l("Something went wrong on our side. We have been told; please try again later."),
}
ERROR_TITLES = {
    400: _l("Bad request"), 403: _l("Access denied"), 404: _l("Page not found"), 405: _l("Not allowed"),
    413: _l("Too large"), 429: _l("Too many attempts"), 500: _l("Server error"),
}


def _register_error_pages(app: Flask) -> None:
    def render_error(code: int):
        # the page loads the visitor and their menu, which a failed statement would otherwise refuse
        roll_back_request()
        return render_template("errors/error.html", code=code, title=ERROR_TITLES[code],
                               message=ERROR_MESSAGES[code]), code

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        code = error.code if error.code in ERROR_MESSAGES else None
        if code is None:
            return error
        return render_error(code)

    @app.errorhandler(500)
    def _server_error(_error):
        return render_error(500)

    @app.before_request
    def _reject_oversized():
        # Werkzeug only checks MAX_CONTENT_LENGTH when the body is read; checking up front answers 413 early. Raised,
        # not rendered, so that a blueprint may answer it its own way (the statement upload shows its form again).
        limit = app.config["MAX_CONTENT_LENGTH"]
        too_large = (request.content_length > limit if request.content_length is not None
                     else _chunked_body_too_large(request.environ, limit))
        if too_large:
            abort(413)
        return None


#: what a chunked body keeps in memory before it goes to a temporary file
_SPOOL_IN_MEMORY = 1024 * 1024


def _chunked_body_too_large(environ: dict, limit: int) -> bool:
    """Reads a body sent in chunks (no Content-Length) up to one byte past `limit`, because Werkzeug would stop
    reading it at the limit without an error and take a part for the whole. One within the limit is handed on as
    what was read."""
    chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
    # only a server that ends such a body itself says so (wsgi.input_terminated); Werkzeug reads none otherwise
    if not chunked or not environ.get("wsgi.input_terminated"):
        return False
    body = tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY)  # noqa: SIM115 - the request reads it later
    copied = 0
    while copied <= limit:
        piece = environ["wsgi.input"].read(min(64 * 1024, limit + 1 - copied))
        if not piece:
            break
        body.write(piece)
        copied += len(piece)
    if copied > limit:
        body.close()
        return True
    body.seek(0)
    environ["wsgi.input"] = body
    return False


def _register_commands(app: Flask) -> None:
    import portal.admin.tasks  # noqa: F401 - registers the scheduler's jobs
    import portal.booths.tasks  # noqa: F401 - registers the scheduler's jobs
    import portal.events.tasks  # noqa: F401 - registers the scheduler's jobs
    import portal.finance.tasks  # noqa: F401 - registers the scheduler's jobs
    import portal.mentoring.tasks  # noqa: F401 - registers the scheduler's jobs
    import portal.notifications.tasks  # noqa: F401 - registers the scheduler's jobs
    import portal.reminders.tasks  # noqa: F401 - registers the scheduler's jobs

    @app.cli.group("db")
    def db_group():
        """Database schema (Alembic)."""

    @db_group.command("upgrade")
    @click.option("--revision", default="head")
    def db_upgrade(revision: str):
        from portal.migrate import upgrade

        upgrade(app.config["DATABASE_URL"], revision)
        click.echo("database is at the newest schema")

    @db_group.command("revision")
    @click.option("-m", "--message", required=True)
    def db_revision(message: str):
        """Autogenerates a revision from the models (run against an up-to-date database)."""
        from alembic import command

        from portal.migrate import alembic_config

        command.revision(alembic_config(app.config["DATABASE_URL"]), message=message, autogenerate=True)

    @app.cli.group("demo")
    def demo_group():
        """Demo data for trying the portal."""

    @demo_group.command("load")
    def demo_load():
        from portal.demo import load_demo

        counts = load_demo(app)
        click.echo("demo data loaded: " + ", ".join(f"{k}={v}" for k, v in counts.items()))

    @app.cli.group("scheduler")
    def scheduler_group():
        """The single process that runs scheduled jobs."""

    @scheduler_group.command("run")
    def scheduler_run():
        """Leads, or stands by while another process on the same database leads (README: production layout)."""
        from portal.notifications.scheduler import run_scheduler

        click.echo("scheduler starting; Ctrl+C stops it")
        run_scheduler(app, _stop_on_signals())

    @app.cli.group("quotas")
    def quotas_group():
        """Ticket quotas' seat counters."""

    @quotas_group.command("repair")
    def quotas_repair():
        """Recounts every quota's seats held from its live tickets and open offers, and says which were wrong."""
        from portal.events.orders import repair_quotas

        with app.extensions["portal.db"].transaction() as session:
            wrong = repair_quotas(session)
            for quota, said in wrong:
                click.echo(f"quota {quota.id} ({quota.name}): held {said} -> {quota.held}")
        click.echo(f"{len(wrong)} quota(s) repaired")

    @app.cli.group("mail")
    def mail_group():
        """The outbox."""

    @mail_group.command("send")
    @click.option("--loop", is_flag=True, help="Keep sending what falls due until stopped (a delivery worker).")
    def mail_send(loop: bool):
        """Sends the mail that is due. Any number may run beside the scheduler: each message goes to one sender."""
        from portal.notifications.services import deliver_outbox

        if not loop:
            click.echo(deliver_outbox(app))
            return
        stop = _stop_on_signals()
        log.info("mail sender running until stopped")
        while not stop.is_set():
            counts = deliver_outbox(app, keep_going=lambda: not stop.is_set())
            if any(counts.values()):
                log.info("mail sent: %s", counts)
            else:
                stop.wait(1.0)


def _stop_on_signals() -> threading.Event:
    """Set by SIGTERM (systemd stopping the unit) or Ctrl+C: the process finishes the message it is sending."""
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    return stop


