"""Shared fixtures: databases on both backends, and a real Mosquitto from broker/."""

pytest_plugins = ["tests.fixtures.database", "tests.fixtures.mosquitto"]
