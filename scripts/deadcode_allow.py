"""What scripts/deadcode.py must not report: names a framework or hardware library calls.

Vulture reads this file as code: each line below uses a name, so the item of that name is not
reported. Decorated entry points (Flask views and hooks, click commands, pydantic validators)
are matched by their decorator in scripts/deadcode.py and need no line here. Keep this short:
a domain function with no caller needs a door or a deletion, not a line here.
"""

# ruff: noqa: B018  (a bare attribute is how a vulture allow-list says "used")
from vulture.whitelist_utils import Whitelist

_ = Whitelist()

# --- framework entry points --------------------------------------------------------------
# click calls these on commonshed.cli.RoleGroup, its Group subclass.
_.list_commands
_.get_command
_.format_commands
# SQLAlchemy calls these on hub.timebank.ledger.HoursType, a TypeDecorator.
_.load_dialect_impl
_.process_bind_param
_.process_result_value
# gpiozero calls these on devices.lockers.mcp23017's Factory and Pin subclasses.
_.reserve_pins
_.release_pins
_.release_all
_.ticks_diff
_._get_board_info
_.output_with_state
_._get_info
_._get_function
_._get_state
_._set_state
_._get_pull
_._set_pull
_._get_bounce
_._set_bounce
_._get_edges
_._set_edges
_._get_when_changed
_._set_when_changed
# The mfrc522 library calls RPi.GPIO's module functions on devices.rfid.emulated_rc522.EmulatedGpio.
_.setmode
_.setwarnings
# aiosmtpd calls its handler's handle_DATA (hub.mail.sink).
_.handle_DATA

# --- fakes that ship in the package (STYLE.md: they serve tests and demos alike) ------------
# devices.rfid.emulated_rc522: a test or a demo drives the emulated chip with these.
_.advance
_.reconnect
_.brown_out
_.fail_transfers
_.hardware_modules
_.interrupt  # devices.lockers.emulated_mcp23017: the emulated chip's INT line
# Hardware backends chosen on a Pi only (no Pi in CI): the I2C bus of the door sensors.
_.open_block_bus

# --- only tests call these today (not a door: give a caller or delete, then remove) --------
_.request_properties  # broker.client
_.reply_properties
_.usernames  # broker.dynsec
_.schemas_shown  # broker.examples
_.examples_shown
_.decode_ack  # broker.messages
_.signal_running_broker  # broker.runner
_.kiosk_subtree  # broker.topics
_.uid_from_bytes  # broker.uids
_.door_closed  # devices.lockers.supervised.SupervisedDoor
_.to_text
_.watched_tables  # hub.infra.sync
_.apply_event  # hub.worker.events
