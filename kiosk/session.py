"""One member at the kiosk, from the tap of a card to the locker door shutting again.

    idle --tap--> member --borrow/return/steward--> open --door opens--> open --door shuts--> done
      |             |--log repair / open ticket--> done                                      |
      |--pick a tool--> armed --tap--> open                                                  |
      any state --refused--> refused --after a few seconds--> idle <--------------------------

The session decides from the kiosk's own allow-list and locker view, pulses the relay, writes
each event to the outbox the moment it is a fact (a loan when the door of a borrowed tool
opens), and goes back to idle after ``session_timeout_s`` of no input. All of it runs on the
kiosk's one worker thread; ``clock`` (monotonic) and ``utcnow`` are injectable for tests.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Literal, NotRequired, Protocol, TypedDict, TypeVar

from pydantic import BaseModel, ValidationError

from broker import messages as wire
from devices.lockers import LockerBank, LockerEvent, LockerEventKind
from kiosk import decision
from kiosk.allowlist import AllowListStore
from kiosk.decision import Refusal
from kiosk.lockers import LockerState, LockerView
from kiosk.outbox import EventBody, Outbox

log = logging.getLogger("commonshed.kiosk.session")

MESSAGE_SECONDS = 6.0  # how long a refusal or a thank-you stays on screen
DoorEvent = (
    wire.DoorOpenedEvent | wire.DoorClosedEvent | wire.DoorLeftOpenEvent | wire.DoorForcedEvent
)
DOOR_EVENTS: dict[LockerEventKind, type[DoorEvent]] = {
    LockerEventKind.DOOR_OPENED: wire.DoorOpenedEvent,
    LockerEventKind.DOOR_CLOSED: wire.DoorClosedEvent,
    LockerEventKind.DOOR_LEFT_OPEN: wire.DoorLeftOpenEvent,
    LockerEventKind.DOOR_FORCED: wire.DoorForcedEvent,
}
Purpose = Literal["borrow", "return", "maintenance"]
Mode = Literal["idle", "armed", "member", "open", "refused", "done"]
Body = TypeVar("Body", bound=BaseModel)


class NotNow(ValueError):
    """An action the screen does not offer now (nobody tapped in, the tool is not available,
    it is not on loan to you); says why."""


class BadEntry(ValueError):
    """Input the kiosk cannot take: a value missing, malformed or out of range; says which.

    ``field`` names the input at fault, or is None when the problem is a rule across fields
    (a return that needs repair says why in its note).
    """

    def __init__(self, message: str, *, field: str | None) -> None:
        super().__init__(message)
        self.field = field


class Signals(Protocol):
    """The buzzer and lights next to the reader (devices.feedback.Feedback, or a test's fake)."""

    def accept(self) -> object: ...

    def refuse(self) -> object: ...


class MemberView(TypedDict):
    """The member at the screen, as the page greets them."""

    name: str
    number: str
    status: str
    steward: bool


class LockerChoice(TypedDict):
    """A locker the screen offers for one of the choices."""

    slot: int
    tool_code: str | None
    tool_name: str | None  # the hub's name for it, when the config carries names
    taken: bool
    out_of_service: bool
    away: NotRequired[bool]  # a loan from another kiosk, offered this empty locker


Choices = dict[str, list[LockerChoice]]  # "pick", "borrow", "return", ... -> lockers


class ScreenView(TypedDict):
    """A Screen as the page receives it (JSON)."""

    state: Mode
    title: str
    message: str
    member: MemberView | None
    choices: Choices
    slot: int | None


@dataclass(frozen=True)
class Screen:
    """What the kiosk screen shows; the page renders exactly this."""

    state: Mode
    title: str
    message: str = ""
    member: MemberView | None = None
    choices: Choices = field(default_factory=dict)
    slot: int | None = None

    def as_dict(self) -> ScreenView:
        return {
            "state": self.state,
            "title": self.title,
            "message": self.message,
            "member": self.member,
            "choices": self.choices,
            "slot": self.slot,
        }


@dataclass(frozen=True)
class Unlock:
    """A locker the kiosk has pulsed open, and the event its door opening makes a fact."""

    slot: int
    deadline: float  # the door must open before this (monotonic)
    body: wire.LoanOut | wire.ToolReturn | None = None  # written as an event on opening


class Session:
    """The kiosk's state machine; feed it taps, screen actions, locker events and ticks."""

    _mode: Mode
    _member: wire.AllowListMember | None  # who tapped in (modes "member", "open", "done")
    _card: str | None
    _armed_slot: int | None  # the tool picked before tapping (mode "armed")
    _slot: int | None  # the locker open, or last opened
    _deadline: float | None  # when the screen goes back to idle (monotonic)
    _title: str
    _message: str

    def __init__(
        self,
        *,
        store: AllowListStore,
        lockers: LockerView,
        bank: LockerBank,
        outbox: Outbox,
        feedback: Signals | None = None,
        session_timeout_s: float = 30.0,
        pulse_seconds: float = 5.0,
        forced_grace_seconds: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        utcnow: Callable[[], datetime] = lambda: datetime.now(UTC),
        on_event_written: Callable[[], object] = lambda: None,
    ) -> None:
        self.store, self.lockers, self.bank, self.outbox = store, lockers, bank, outbox
        self.feedback = feedback
        self.default_timeout_s = session_timeout_s
        self.unlock_window_s = pulse_seconds + forced_grace_seconds
        self.clock, self.utcnow, self._written = clock, utcnow, on_event_written
        self.expected: dict[int, Unlock] = {}  # slot -> the unlock its door opening completes
        self._go_idle()
        self.allowlist_changed()  # marks from before a restart the held allow-list settles

    # --- inputs ---------------------------------------------------------------------------

    def card_presented(self, card_uid: str) -> None:
        """A card was tapped: identify its holder and show their choices (or refuse)."""
        member = decision.identify(self.store.allowlist, card_uid)
        if isinstance(member, Refusal):
            return self._refuse(card_uid, member)
        armed = self._armed_slot
        self._begin(member, card_uid)
        if armed is not None:
            return self.borrow(armed)
        if member.status != "active" and not self._returnable():
            refusal = decision.require_active(member)
            if refusal is not None:
                return self._refuse(card_uid, refusal)
        self._notify(self.feedback.accept if self.feedback else None)

    def pick(self, slot: int) -> None:
        """Choose a tool before tapping: the next card borrows it at once."""
        self._require_state("idle", "armed")
        locker = self.lockers.state(self._known_slot(slot))
        if not locker.holds_tool or locker.out_of_service:
            raise NotNow(f"The tool of locker {slot} is not available.")
        self._mode, self._armed_slot = "armed", slot
        self._deadline = self.clock() + self.timeout_s

    def borrow(self, slot: int) -> None:
        """Open locker ``slot`` for the member to take its tool, if they may."""
        member, card = self._current_member()
        locker = self.lockers.state(self._known_slot(slot))
        refusal = decision.may_borrow(
            self.store.allowlist,
            member,
            locker,
            self.utcnow(),
            self._zone(),
            self.lockers.taken_with(card),
        )
        if refusal is not None:
            return self._refuse(card, refusal)
        tool = locker.tool_code
        assert tool is not None, "may_borrow refuses a locker that does not hold its tool"
        body = wire.LoanOut(card_uid=card, tool_code=tool, locker_slot=slot)
        self._unlock(slot, "borrow", self._label(tool), body)

    def return_tool(
        self, slot: int, condition: str, note: str | None = None, *, tool_code: str | None = None
    ) -> None:
        """Open a locker to put a tool back in, and say whether it is OK.

        The tool goes home if it lives here; a tool from another kiosk goes into an empty
        locker, which the hub then makes its home.
        """
        member, card = self._current_member()
        slot = self._known_slot(slot)
        tool = self._returnable_into(member, slot, tool_code)
        if condition == "needs_repair" and not (note or "").strip():
            raise BadEntry("Say what is wrong with it, in a few words.", field="note")
        body = _validated(
            wire.ToolReturn,
            card_uid=card,
            tool_code=tool,
            locker_slot=slot,
            condition=condition,
            note=(note or "").strip() or None,
        )
        self._unlock(slot, "return", self._label(tool), body)

    def _returnable_into(self, member: wire.AllowListMember, slot: int, tool: str | None) -> str:
        """Return the tool that may go into ``slot`` now, or refuse saying why."""
        locker = self.lockers.state(slot)
        home = locker.tool_code
        if tool is None or tool == home:
            if home is not None and (locker.taken_here or home in member.loans):
                return home
            raise NotNow(f"The tool of locker {slot} is not out on loan to you.")
        if tool not in member.loans:
            raise NotNow(f"{tool} is not on loan to you.")
        if locker.tool_code is not None:
            raise NotNow(f"Locker {slot} is not empty; {tool} goes into an empty locker.")
        return tool

    def log_repair(self, tool_code: str, hours: str, note: str) -> None:
        """Record the member's hours repairing a tool of this kiosk (a steward approves them)."""
        member, card = self._current_member()
        if (refusal := decision.require_active(member)) is not None:
            return self._refuse(card, refusal)
        self._known_tool(tool_code)
        body = _validated(
            wire.RepairLogged,
            card_uid=card,
            tool_code=tool_code,
            hours=_hours(hours),
            note=note.strip(),
        )
        self._write(wire.RepairLoggedEvent, body)
        self._finish(
            f"Thank you, {decision.first_name(member)}!",
            f"{body.hours} hours on {self._label(tool_code)} logged. A steward will approve them.",
        )

    def open_for_maintenance(self, slot: int) -> None:
        """Steward mode: open any locker (out of service ones included) for maintenance."""
        member, card = self._current_member()
        if (refusal := decision.require_steward(member)) is not None:
            return self._refuse(card, refusal)
        self._unlock(self._known_slot(slot), "maintenance", None, None)

    def open_ticket(self, tool_code: str, note: str) -> None:
        """Steward mode: open a maintenance ticket; the tool stops lending here at once."""
        member, card = self._current_member()
        if (refusal := decision.require_steward(member)) is not None:
            return self._refuse(card, refusal)
        self._known_tool(tool_code)
        body = _validated(
            wire.MaintenanceOpened, card_uid=card, tool_code=tool_code, note=note.strip()
        )
        event = self._write(wire.MaintenanceOpenedEvent, body)
        self.lockers.flag(tool_code, event.event_id)
        self._finish(
            "Ticket opened", f"{self._label(tool_code)} is out of service until it is repaired."
        )

    def cancel(self) -> None:
        """Leave the session: back to "Tap your card"."""
        self._go_idle()

    def locker_event(self, event: LockerEvent) -> None:
        """Record what a locker door did, and complete the unlock it belongs to."""
        slot = int(event.locker_id)
        self._write(DOOR_EVENTS[event.kind], wire.DoorChange(locker_slot=slot))
        if event.kind == "door_opened" and slot in self.expected:
            self._door_opened(self.expected.pop(slot))
        elif event.kind == "door_closed" and self._mode == "open" and self._slot == slot:
            self._finish("Thank you!", f"Locker {slot} is locked again.")

    def allowlist_changed(self) -> None:
        """A newer allow-list is held: settle what this kiosk saw that the hub now knows
        (by the allow-list's version and the hub's acks, never by this kiosk's clock)."""
        self.lockers.allowlist_arrived(self._unacknowledged)

    def tick(self) -> None:
        """Let time pass: end unlocks nobody used, and screens nobody touched; settle what the
        hub acknowledged long enough ago."""
        now = self.clock()
        self.lockers.settle_acknowledged(self._unacknowledged, now)
        for slot, unlock in list(self.expected.items()):
            if now >= unlock.deadline:
                del self.expected[slot]
                if self._mode == "open" and self._slot == slot:
                    self._finish(
                        "Locker not opened",
                        f"Locker {slot} was not opened; it is "
                        "locked again. Tap your card to try again.",
                    )
        if self._deadline is not None and now >= self._deadline:
            self._go_idle()

    # --- what the screen shows ------------------------------------------------------------

    @property
    def timeout_s(self) -> float:
        """How long a session waits for input: the hub's setting, else the local one."""
        config = self.store.config
        return float(config.session_timeout_s) if config else self.default_timeout_s

    def screen(self) -> Screen:
        """Return what the screen should show now."""
        screens: dict[Mode, Callable[[], Screen]] = {
            "idle": self._screen_idle,
            "armed": self._screen_armed,
            "member": self._screen_member,
            "open": self._screen_open,
            "refused": self._screen_refused,
            "done": self._screen_done,
        }
        return screens[self._mode]()

    def _screen_idle(self) -> Screen:
        available = self._tools(lambda s: s.holds_tool and not s.out_of_service)
        return Screen(
            "idle",
            "Tap your card",
            "Or choose a tool first, then tap your card.",
            choices={"pick": available},
        )

    def _screen_armed(self) -> Screen:
        slot = self._armed_slot
        assert slot is not None, "pick() arms a slot"
        tool = self.lockers.home_tool(slot)
        return Screen(
            "armed",
            "Tap your card",
            f"to borrow {self._label(tool)} from locker {slot}.",
            slot=slot,
        )

    def _screen_member(self) -> Screen:
        member = self._member
        assert member is not None, "_begin() holds the member"
        return Screen(
            "member",
            f"Hello, {decision.first_name(member)}",
            self._member_hint(member),
            member=_member_view(member),
            choices=self._choices(member),
        )

    def _screen_open(self) -> Screen:
        return Screen("open", f"Locker {self._slot} is open", self._message, slot=self._slot)

    def _screen_refused(self) -> Screen:
        return Screen("refused", "Sorry", self._message)

    def _screen_done(self) -> Screen:
        return Screen("done", self._title, self._message, slot=self._slot)

    def _choices(self, member: wire.AllowListMember) -> Choices:
        active = member.status == "active"
        now = self.utcnow()
        zone, mine = self._zone(), self.lockers.taken_with(self._card or "")
        choices: Choices = {
            "borrow": self._tools(
                lambda s: (
                    active
                    and decision.may_borrow(self.store.allowlist, member, s, now, zone, mine)
                    is None
                )
            ),
            "return": self._returns(member),
            "repair": self._repairable() if active else [],
        }
        if active and decision.is_steward(member):
            choices["maintenance"] = [self._locker_view(s) for s in self.lockers.states()]
        return choices

    def _repairable(self) -> list[LockerChoice]:
        """List this kiosk's tools for "Log a repair", those out of service first: the kiosk
        knows which tools wait for a repair (out of service), not their tickets."""
        tools = self._tools(lambda s: s.tool_code is not None)
        return sorted(tools, key=lambda t: not t["out_of_service"])

    def _returns(self, member: wire.AllowListMember) -> list[LockerChoice]:
        """List what the member can put back here: tools out from this kiosk, and their
        loans from other kiosks (each offered an empty locker of this one)."""
        here = self._tools(lambda s: s.taken_here or s.tool_code in member.loans)
        listed = {item["tool_code"] for item in here}
        empty = [s.slot for s in self.lockers.states() if s.tool_code is None]
        away = [
            code
            for code in member.loans
            if code not in listed and self.lockers.slot_of(code) is None
        ]
        return here + [
            LockerChoice(
                slot=slot,
                tool_code=code,
                tool_name=None,
                taken=True,
                out_of_service=False,
                away=True,
            )
            for code, slot in zip(away, empty, strict=False)
        ]

    def _member_hint(self, member: wire.AllowListMember) -> str:
        if member.status != "active":
            return "Your membership is paused: you can return tools."
        return self._kept_for(member) or "What would you like to do?"

    def _kept_for(self, member: wire.AllowListMember) -> str | None:
        """Say which tool of this kiosk is kept for ``member``'s hold, if one is."""
        now, allowlist = self.utcnow(), self.store.allowlist
        for state in self.lockers.states():
            kept = state.tool_code and decision.reservation_for(allowlist, state.tool_code, now)
            if kept and kept.member_number == member.number and state.holds_tool:
                until = decision.local_time(kept.until, now, self._zone())
                return f"{state.tool_code} in locker {state.slot} is kept for you until {until}."
        return None

    def _zone(self) -> tzinfo | None:
        config = self.store.config
        return decision.site_zone(config.timezone if config else None)

    def _tools(self, keep: Callable[[LockerState], bool]) -> list[LockerChoice]:
        return [self._locker_view(s) for s in self.lockers.states() if s.tool_code and keep(s)]

    def _locker_view(self, state: LockerState) -> LockerChoice:
        return {
            "slot": state.slot,
            "tool_code": state.tool_code,
            "tool_name": self.lockers.tool_name(state.tool_code),
            "taken": state.taken,
            "out_of_service": state.out_of_service,
        }

    def _label(self, tool_code: str | None) -> str | None:
        """Return how the screen names a tool: by its name when the hub sent one."""
        return self.lockers.tool_name(tool_code) or tool_code

    # --- steps ----------------------------------------------------------------------------

    def _begin(self, member: wire.AllowListMember, card_uid: str) -> None:
        self._mode, self._member, self._card = "member", member, card_uid
        self._armed_slot, self._slot = None, None
        self._deadline = self.clock() + self.timeout_s

    def _unlock(
        self,
        slot: int,
        purpose: Purpose,
        tool: str | None,
        body: wire.LoanOut | wire.ToolReturn | None,
    ) -> None:
        self.bank.unlock(slot)
        self.expected[slot] = Unlock(slot, self.clock() + self.unlock_window_s, body)
        self._notify(self.feedback.accept if self.feedback else None)
        self._mode, self._slot = "open", slot
        self._message = _open_message(purpose, tool)
        self._deadline = self.clock() + self.unlock_window_s + self.timeout_s

    def _door_opened(self, unlock: Unlock) -> None:
        body = unlock.body
        if isinstance(body, wire.LoanOut):
            self._write(wire.LoanOutEvent, body)
            self.lockers.mark_taken(unlock.slot, body.tool_code, body.card_uid, self.utcnow())
        elif isinstance(body, wire.ToolReturn):
            event = self._write(wire.ToolReturnEvent, body)
            self.lockers.mark_returned(unlock.slot, body.tool_code, event.event_id)
            if body.condition == "needs_repair":
                self.lockers.flag(body.tool_code, event.event_id)
        if self._mode == "open" and self._slot == unlock.slot:
            self._deadline = self.clock() + self.timeout_s  # time to take it and shut the door

    def _refuse(self, card_uid: str | None, refusal: Refusal) -> None:
        log.info("refused card %s: %s", card_uid, refusal.reason)
        if card_uid is not None:
            body = wire.CardRefused(
                card_uid=card_uid, reason=refusal.reason, tool_code=refusal.tool_code
            )
            self._write(wire.CardRefusedEvent, body)
        self._notify(self.feedback.refuse if self.feedback else None)
        self._mode, self._message, self._member = "refused", refusal.message, None
        self._armed_slot = None
        self._deadline = self.clock() + MESSAGE_SECONDS

    def _finish(self, title: str, message: str) -> None:
        self._mode, self._title, self._message = "done", title, message
        self._member = self._armed_slot = None
        self._deadline = self.clock() + MESSAGE_SECONDS

    def _go_idle(self) -> None:
        self._mode, self._member, self._card = "idle", None, None
        self._armed_slot = self._slot = self._deadline = None
        self._title = self._message = ""

    def _write(self, event_class: type[wire.Event], body: EventBody) -> wire.Event:
        event = self.outbox.record(event_class, body, self.utcnow())
        self._written()
        return event

    def _notify(self, signal: Callable[[], object] | None) -> None:
        try:
            if signal:
                signal()
        except Exception:  # noqa: BLE001  (a dead buzzer must not stop a loan)
            log.exception("feedback failed")

    # --- checks ---------------------------------------------------------------------------

    def _current_member(self) -> tuple[wire.AllowListMember, str]:
        member, card = self._member, self._card
        if self._mode != "member" or member is None or card is None:
            raise NotNow("Tap your card first.")
        self._deadline = self.clock() + self.timeout_s
        return member, card

    def _require_state(self, *states: str) -> None:
        if self._mode not in states:
            raise NotNow(
                "Tap your card first."
                if "member" in states
                else "Finish or cancel what is on the screen first."
            )

    def _known_slot(self, slot: int) -> int:
        if slot not in self.lockers.slots:
            raise NotNow(f"There is no locker {slot} at this kiosk.")
        return slot

    def _known_tool(self, tool_code: str) -> str:
        if self.lockers.slot_of(tool_code) is None:
            raise NotNow(f"{tool_code} does not live at this kiosk.")
        return tool_code

    def _unacknowledged(self, event_id: str) -> bool:
        return self.outbox.get(event_id) is not None

    def _returnable(self) -> bool:
        member = self._member
        return bool(member and member.loans) or any(s.taken_here for s in self.lockers.states())


def _validated(model: type[Body], **fields: object) -> Body:
    """Build a wire body, turning a validation failure into BadEntry naming the field."""
    try:
        return model(**fields)
    except ValidationError as error:
        location = error.errors(include_url=False)[0]["loc"]
        field = ".".join(str(part) for part in location) or None
        raise BadEntry(wire.describe_errors(error, limit=1), field=field) from None


def _hours(text: str) -> Decimal:
    try:
        return Decimal(str(text).strip())
    except InvalidOperation:
        raise BadEntry(f"hours: {text!r} is not a number of hours", field="hours") from None


def _open_message(purpose: Purpose, tool: str | None) -> str:
    if purpose == "borrow":
        return f"Take {tool} and close the door."
    if purpose == "return":
        return f"Put {tool} back inside and close the door."
    return "Open for maintenance. Close the door when you are done."


def _member_view(member: wire.AllowListMember) -> MemberView:
    return {
        "name": member.name,
        "number": member.number,
        "status": member.status,
        "steward": decision.is_steward(member),
    }
