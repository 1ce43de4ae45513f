"""hub.infra.settings: the site's time zone, from the environment, checked."""

from __future__ import annotations

import pytest

from hub.infra import settings


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
