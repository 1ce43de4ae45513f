"""The one console script, ``commonshed``, with a sub-command group per role.

Each role's commands are imported only when used, so a kiosk never needs the hub's database
libraries and the hub never needs GPIO.
"""

from __future__ import annotations

import importlib

import click

ROLES = {
    "hub": ("hub.cli", "hub", "Administer the hub: members, cards, tools, imports."),
    "broker": ("broker.cli", "broker", "Run Mosquitto and provision kiosk credentials."),
    "kiosk": ("kiosk.cli", "kiosk", "Run a kiosk, on a Pi or simulated."),
    "up": ("commonshed.up", "up", "Start the whole system on its embedded defaults."),
}


class RoleGroup(click.Group):
    """A group whose sub-commands are loaded from their role's package on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(ROLES)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in ROLES:
            return None
        module_name, attribute, _ = ROLES[name]
        try:
            module = importlib.import_module(module_name)
        except ImportError as error:
            raise click.ClickException(
                f"`commonshed {name}` needs {error.name}, which is not installed here. "
                f"Install the matching extra, e.g. pip install 'commonshed[{_extra(name)}]'."
            ) from None
        command: click.Command = getattr(module, attribute)
        if name == "hub" and isinstance(command, click.Group):
            _attach_web(command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, help_) for name, (_, _, help_) in ROLES.items()])


def _attach_web(hub_group: click.Group) -> None:
    """Add `hub serve` from the dashboard (the hub itself never imports the dashboard)."""
    try:
        from dashboard.cli import serve
    except ImportError:  # a hub install without the web extra still administers
        return
    hub_group.add_command(serve)


def _extra(role: str) -> str:
    return {"kiosk": "kiosk"}.get(role, "hub")


@click.group(cls=RoleGroup)
@click.version_option(package_name="commonshed")
def main() -> None:
    """Commonshed: tool library, makerspace and timebank for a mutual-aid network."""
