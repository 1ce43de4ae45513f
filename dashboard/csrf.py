"""CSRF protection for every form (Flask-WTF), shared by all blueprints."""

from flask import Flask
from flask_wtf.csrf import CSRFProtect

protect = CSRFProtect()


def init_app(app: Flask) -> None:
    """Require a valid CSRF token on every unsafe request to ``app``."""
    protect.init_app(app)
