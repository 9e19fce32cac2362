import pytest

from app import create_app
from portal.config import ConfigError, load_settings


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_settings(tmp_path, {"PORTAL_ENV": "production", "DATABASE_URL": "postgresql+psycopg://x@h/db"})


def test_production_refuses_to_start_without_a_database(tmp_path):
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        load_settings(tmp_path, {"PORTAL_ENV": "production", "SECRET_KEY": "s" * 40})


def test_an_unknown_environment_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="PORTAL_ENV"):
        load_settings(tmp_path, {"PORTAL_ENV": "staging"})


def test_development_generates_a_secret_key_once_and_keeps_it(tmp_path):
    first = load_settings(tmp_path, {})
    second = load_settings(tmp_path, {})
    assert len(first.secret_key) >= 40
    assert first.secret_key == second.secret_key
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    assert first.database_url == f"sqlite:///{tmp_path / 'portal.sqlite3'}"
    assert first.mail_transport == "sink"


def test_production_cookies_are_secure_and_rate_limits_use_redis(tmp_path):
    settings = load_settings(tmp_path, {
        "PORTAL_ENV": "production", "SECRET_KEY": "s" * 40, "DATABASE_URL": "sqlite:///x.db",
        "REDIS_URL": "redis://127.0.0.1:6379/0", "SMTP_HOST": "mail.example.vn",
    })
    config = settings.flask_config()
    assert config["SESSION_COOKIE_SECURE"] and config["REMEMBER_COOKIE_SECURE"]
    assert config["SESSION_COOKIE_HTTPONLY"] and config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert config["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/0"
    assert settings.mail_transport == "smtp"


def test_production_app_sends_hsts(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'p.db'}")
    app = create_app(instance_path=tmp_path)
    response = app.test_client().get("/healthz", base_url="https://portal.example.vn")
    assert "max-age=31536000" in response.headers["Strict-Transport-Security"]


def test_forwarded_headers_are_trusted_only_for_the_configured_number_of_proxies(tmp_path):
    assert load_settings(tmp_path, {}).flask_config()["PROXY_COUNT"] == 0
    assert load_settings(tmp_path, {"PROXY_COUNT": "2"}).flask_config()["PROXY_COUNT"] == 2
    for nonsense in ("-1", "yes"):
        with pytest.raises(ConfigError, match="PROXY_COUNT"):
            load_settings(tmp_path, {"PROXY_COUNT": nonsense})


def _production_app(tmp_path, monkeypatch, **environ):
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'p.db'}")
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    app = create_app(instance_path=tmp_path)
    app.extensions["portal.db"].dispose()


def test_production_warns_at_start_when_rate_limits_are_counted_per_worker(tmp_path, monkeypatch, caplog):
    _production_app(tmp_path, monkeypatch)
    assert any(r.levelname == "WARNING" and "REDIS_URL" in r.getMessage() for r in caplog.records)

    caplog.clear()
    _production_app(tmp_path, monkeypatch, REDIS_URL="redis://127.0.0.1:6379/0")
    assert not any("REDIS_URL" in r.getMessage() for r in caplog.records)
