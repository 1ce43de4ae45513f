"""Security headers on every answer: a strict Content Security Policy and its companions.

No page runs inline script or inline style: scripts and styles come from ``/static`` only, so an
injected ``<script>`` or ``onclick=`` would not run even if escaping ever failed. No site may
frame our pages (clickjacking), browsers must not guess content types, links leak no path to
other sites, and over TLS browsers are told to stay on TLS.
"""

from __future__ import annotations

from flask import Flask, Response, request

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",  # for browsers that predate frame-ancestors
}
HSTS = "max-age=31536000; includeSubDomains"


def init_app(app: Flask) -> None:
    """Add the security headers to every response of ``app``."""
    app.after_request(add_security_headers)


def add_security_headers(response: Response) -> Response:
    """Set the headers (a view may not weaken them); HSTS only when the request came over TLS."""
    for name, value in HEADERS.items():
        response.headers[name] = value
    if request.is_secure:  # behind a TLS proxy, TRUSTED_PROXIES makes X-Forwarded-Proto count
        response.headers["Strict-Transport-Security"] = HSTS
    return response
