"""Response headers that make the browser our ally: no inline script, no framing, no sniffing."""

from __future__ import annotations

import hashlib
import secrets

from flask import Flask, request
from flask_login import current_user

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    # paying by card posts a form whose answer redirects to Stripe's Checkout page; browsers hold redirects after a
    # form to form-action too
    "form-action 'self' https://checkout.stripe.com",
    "base-uri 'self'",
    "object-src 'none'",
    "frame-ancestors 'none'",
])


def install_security_headers(app: Flask) -> None:
    production = app.config["PORTAL_ENV"] == "production"

    @app.after_request
    def _headers(response):
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
        response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
        response.headers["Permissions-Policy"] = "camera=(self), microphone=(), geolocation=()"
        if production:
            response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        if current_user.is_authenticated and not request.path.startswith("/static/"):
            # Personal pages must not be kept by shared browsers or proxies.
            response.headers["Cache-Control"] = "no-store"
        response.vary.add("Cookie")
        return response


def new_token() -> str:
    """A random token for a link or a cookie (256 bits)."""
    return secrets.token_urlsafe(32)


def token_digest(raw: str) -> str:
    """What we store of a token: its SHA-256, so a copy of the database opens no session and no link."""
    return hashlib.sha256(raw.encode()).hexdigest()
