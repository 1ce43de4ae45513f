"""Settings read from the environment: the SMTP server and the public address used in mail,
and the site's time zone, checked."""

from __future__ import annotations

import pytest

from hub.infra import settings


def test_no_smtp_host_means_mail_waits(monkeypatch):
    monkeypatch.delenv(settings.SMTP_HOST_ENV, raising=False)
    assert settings.smtp_settings() is None


def test_smtp_settings_come_from_the_environment_with_a_port_for_each_tls_mode(monkeypatch):
    monkeypatch.setenv(settings.SMTP_HOST_ENV, "mail.example.org")
    monkeypatch.setenv(settings.SMTP_TLS_ENV, "ssl")
    monkeypatch.setenv(settings.SMTP_USER_ENV, "shed")
    monkeypatch.setenv(settings.SMTP_PASSWORD_ENV, "secret")
    monkeypatch.delenv(settings.SMTP_PORT_ENV, raising=False)
    chosen = settings.smtp_settings()
    assert chosen is not None
    assert (chosen.host, chosen.port, chosen.tls, chosen.user) == (
        "mail.example.org",
        465,
        "ssl",
        "shed",
    )
    assert "secret" not in repr(chosen)
    monkeypatch.setenv(settings.SMTP_TLS_ENV, "none")
    monkeypatch.setenv(settings.SMTP_PORT_ENV, "2525")
    assert settings.smtp_settings().port == 2525


@pytest.mark.parametrize(
    ("name", "value"), [("_TLS", "maybe"), ("_PORT", "smtp"), ("_PORT", "70000")]
)
def test_a_wrong_smtp_setting_is_refused_by_name(monkeypatch, name, value):
    monkeypatch.setenv(settings.SMTP_HOST_ENV, "mail.example.org")
    monkeypatch.setenv(f"COMMONSHED_SMTP{name}", value)
    with pytest.raises(ValueError, match=f"COMMONSHED_SMTP{name}"):
        settings.smtp_settings()


def test_the_public_address_has_no_trailing_slash(monkeypatch):
    monkeypatch.setenv(settings.PUBLIC_URL_ENV, "https://shed.example.org/")
    assert settings.public_url() == "https://shed.example.org"


def test_the_site_time_zone_defaults_to_london_and_follows_the_environment(monkeypatch):
    monkeypatch.delenv(settings.TIMEZONE_ENV, raising=False)
    assert settings.site_timezone().key == "Europe/London"
    monkeypatch.setenv(settings.TIMEZONE_ENV, "America/Chicago")
    assert settings.site_timezone().key == "America/Chicago"
    assert settings.site_timezone("Asia/Kolkata").key == "Asia/Kolkata"


@pytest.mark.parametrize("name", ["Mars/Olympus", "../etc/passwd", "Europe/"])
def test_an_unknown_time_zone_is_refused_naming_the_setting(name):
    with pytest.raises(ValueError, match="COMMONSHED_TIMEZONE must be a time zone"):
        settings.site_timezone(name)
