"""Settings from the environment, with defaults that are safe for development."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path


class ConfigError(RuntimeError):
    """The environment does not describe a runnable portal."""


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _development_secret(instance_path: Path) -> str:
    # Generated once and kept, so restarts keep users logged in.
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


@dataclass(frozen=True)
class Settings:
    env: str
    database_url: str
    secret_key: str
    redis_url: str | None
    smtp_host: str | None
    smtp_port: int
    smtp_user: str | None
    smtp_password: str | None
    smtp_starttls: bool
    #: seconds one step of an SMTP exchange may take before the sender gives up on the server for now
    smtp_timeout: float
    #: days kept: delivered (or cancelled) mail, scheduler job runs, ended sessions and used or expired links
    retention_days: int
    mail_sender: str
    mail_transport: str
    base_url: str
    rate_limits: bool
    #: how many proxies in front of the portal append to X-Forwarded-For/-Proto; 0 trusts no such header
    proxy_count: int
    stripe_secret_key: str | None
    stripe_webhook_secret: str | None
    #: the offline "demo card" payment provider (development only)
    demo_card: bool

    def flask_config(self) -> dict:
        production = self.env == "production"
        return {
            "PORTAL_ENV": self.env,
            "SECRET_KEY": self.secret_key,
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            "SMTP_HOST": self.smtp_host,
            "SMTP_PORT": self.smtp_port,
            "SMTP_USER": self.smtp_user,
            "SMTP_PASSWORD": self.smtp_password,
            "SMTP_STARTTLS": self.smtp_starttls,
            "SMTP_TIMEOUT": self.smtp_timeout,
            "RETENTION_DAYS": self.retention_days,
            "MAIL_SENDER": self.mail_sender,
            "MAIL_TRANSPORT": self.mail_transport,
            "BASE_URL": self.base_url,
            "MAX_CONTENT_LENGTH": 10 * 1024 * 1024,
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            "SESSION_COOKIE_SECURE": production,
            "REMEMBER_COOKIE_HTTPONLY": True,
            "REMEMBER_COOKIE_SAMESITE": "Lax",
            "REMEMBER_COOKIE_SECURE": production,
            "REMEMBER_COOKIE_DURATION": 30 * 24 * 3600,
            "PREFERRED_URL_SCHEME": "https" if production else "http",
            "BABEL_DEFAULT_LOCALE": "vi",
            "BABEL_DEFAULT_TIMEZONE": "Asia/Ho_Chi_Minh",
            "RATELIMIT_STORAGE_URI": self.redis_url if (production and self.redis_url) else "memory://",
            "RATELIMIT_HEADERS_ENABLED": False,
            "RATELIMIT_ENABLED": self.rate_limits,
            "PROXY_COUNT": self.proxy_count,
            "STRIPE_SECRET_KEY": self.stripe_secret_key,
            "STRIPE_WEBHOOK_SECRET": self.stripe_webhook_secret,
            "DEMO_CARD": self.demo_card,
            "WTF_CSRF_TIME_LIMIT": None,
        }


def _proxy_count(value: str | None) -> int:
    try:
        count = int(value or "0")
    except ValueError:
        count = -1
    if count < 0:
        raise ConfigError(f"PROXY_COUNT must be how many proxies are in front of the portal (0 or more), not {value!r}")
    return count


def load_settings(instance_path: Path, environ: dict[str, str] | None = None) -> Settings:
    environ = dict(os.environ if environ is None else environ)
    env = environ.get("PORTAL_ENV", "development")
    if env not in {"development", "production"}:
        raise ConfigError(f"PORTAL_ENV must be 'development' or 'production', not {env!r}")
    production = env == "production"

    database_url = environ.get("DATABASE_URL")
    if not database_url:
        if production:
            raise ConfigError("DATABASE_URL is required in production")
        database_url = f"sqlite:///{instance_path / 'portal.sqlite3'}"
    secret_key = environ.get("SECRET_KEY")
    if not secret_key:
        if production:
            raise ConfigError("SECRET_KEY is required in production")
        secret_key = _development_secret(instance_path)

    demo_card = _bool(environ.get("DEMO_CARD"), default=not production)
    if demo_card and production:
        # it marks orders paid without any money moving
        raise ConfigError("DEMO_CARD cannot be enabled in production")

    smtp_host = environ.get("SMTP_HOST") or None
    default_transport = "smtp" if (smtp_host or production) else "sink"
    return Settings(
        env=env,
        database_url=database_url,
        secret_key=secret_key,
        redis_url=environ.get("REDIS_URL") or None,
        smtp_host=smtp_host or ("localhost" if production else None),
        smtp_port=int(environ.get("SMTP_PORT", "25")),
        smtp_user=environ.get("SMTP_USER") or None,
        smtp_password=environ.get("SMTP_PASSWORD") or None,
        smtp_starttls=_bool(environ.get("SMTP_STARTTLS")),
        smtp_timeout=float(environ.get("SMTP_TIMEOUT", "20")),
        retention_days=int(environ.get("RETENTION_DAYS", "90")),
        mail_sender=environ.get("MAIL_SENDER", "Cổng ĐMST Hà Nội <no-reply@innovation.hanoi.example>"),
        mail_transport=environ.get("MAIL_TRANSPORT", default_transport),
        base_url=environ.get("BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
        # only a load test from one address turns this off
        rate_limits=_bool(environ.get("RATE_LIMITS"), default=True),
        # off by default: without a proxy that sets them, the headers are whatever a client chose to send
        proxy_count=_proxy_count(environ.get("PROXY_COUNT")),
        # card payment is offered only when both are set
        stripe_secret_key=environ.get("STRIPE_SECRET_KEY") or None,
        stripe_webhook_secret=environ.get("STRIPE_WEBHOOK_SECRET") or None,
        demo_card=demo_card,
    )
