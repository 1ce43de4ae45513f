"""Seed a believable small tool library: two kiosks, a few dozen members, tools, some history.

The same seed always gives the same library, so the demo's printed cards keep working. A demo
network of several sites (``commonshed up --sites N``) adds, to the first site's library, a
kiosk with a few tools at each further site (``add_sites``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, select

from hub.bookings import MemberPin, add_resource, set_pin
from hub.errors import DomainError, RuleViolation
from hub.infra.clock import utcnow
from hub.infra.hashing import hasher
from hub.inventory.registry import (
    Kiosk,
    Tool,
    add_locker,
    add_tool,
    register_kiosk,
    take_out_of_service,
)
from hub.loans.lending import lend_tool, return_tool
from hub.market.posts import MarketCategory, add_post, answer_post
from hub.market.skills import set_skills
from hub.members.credentials import StewardLogin
from hub.members.roster import Member, Role, add_member, add_training, assign_card, grant_training

SITES = ("north", "south", "east", "west")  # the demo network's sites, in `--sites` order
SITE = SITES[0]
# Printed by `commonshed hub demo-data` and `commonshed up`; a demo, not a secret.
DEMO_STEWARD_PASSWORD = "commons-demo-2026"
DEMO_PIN = "2468"  # every demo member's tablet PIN
# The demo makerspace is open to key holders around the clock, so the demo (and its
# end-to-end test) can book "now" at any hour.
ALL_DAY = {day: ["00:00-24:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
MARKET_CATEGORIES = [
    ("repairs", "Repairs"),
    ("lessons", "Lessons"),
    ("garden", "Garden"),
    ("sewing", "Sewing and mending"),
    ("transport", "Lifts and carrying"),
]
MACHINES = [  # code, name, training, rules
    ("laser", "Laser cutter", "laser", {"max_booking_minutes": 120, "max_minutes_per_week": 240}),
    ("printer-1", "3D printer (Prusa)", None, {"slot_minutes": 60, "max_booking_minutes": 240}),
    ("sewing", "Sewing machine", None, {}),
    ("bench", "Woodshop bench", "router", {"slot_minutes": 60, "max_booking_minutes": 180}),
]
KIOSKS = {"shed-1": "Tool shed, north wall", "shed-2": "Tool shed, workshop door"}
LOCKERS_PER_KIOSK = 8
SITE_TOOLS = [  # each further site's tools (code <stem>-<SITE>), in its kiosk's first lockers
    ("DRILL", "Cordless drill 12V", "power tools"),
    ("HEDGE", "Hedge trimmer", "garden"),
    ("BARROW", "Wheelbarrow", "garden"),
]
TRAININGS = [
    ("router", "Router and table-saw induction", 365),
    ("laser", "Laser cutter induction", 365),
    ("ladder", "Ladder and height safety", None),
]
TOOLS = [  # code, name, category, training
    ("DRILL-1", "Cordless drill 18V", "power tools", None),
    ("DRILL-2", "Hammer drill", "power tools", None),
    ("SAW-1", "Circular saw", "power tools", "router"),
    ("SAW-2", "Jigsaw", "power tools", None),
    ("SAND-1", "Orbital sander", "power tools", None),
    ("ROUTER-1", "Plunge router", "power tools", "router"),
    ("LADDER-1", "Step ladder 3 m", "access", "ladder"),
    ("LEVEL-1", "Spirit level 1.2 m", "hand tools", None),
    ("STUD-1", "Stud finder", "hand tools", None),
    ("TENT-1", "Four-person tent", "outdoors", None),
    ("PRUNE-1", "Long-reach pruner", "garden", None),
    ("MOWER-1", "Push mower", "garden", None),
    ("SEW-1", "Sewing machine", "textiles", None),
    ("PW-1", "Pressure washer", "cleaning", None),
    ("CARPET-1", "Carpet cleaner", "cleaning", None),
    ("CLAMP-1", "Bar clamps (set of 4)", "hand tools", None),
]
# Seven tools in each kiosk; locker 8 of each stays empty, for tools returned from the other
# kiosk; the last two tools live on the shelf, without a locker.
TOOLS_PER_KIOSK = 7
FIRST = [
    "Ada",
    "Grace",
    "Alan",
    "Mary",
    "Kofi",
    "Amina",
    "Ravi",
    "Lena",
    "Tomás",
    "Yuki",
    "Noor",
    "Sam",
    "Priya",
    "Owen",
    "Ines",
    "Jamal",
    "Hana",
    "Felix",
    "Zara",
    "Bo",
    "Marta",
    "Luca",
    "Sofia",
    "Emeka",
    "Ivy",
    "Dmitri",
    "Aisha",
    "Niko",
    "Rosa",
    "Theo",
    "Wren",
    "Farah",
    "Olu",
    "Kit",
    "Maya",
    "Jonas",
]
LAST = [
    "Okafor",
    "Lindqvist",
    "Patel",
    "Moreau",
    "Nakamura",
    "Haddad",
    "Byrne",
    "Silva",
    "Kowalski",
    "Mensah",
    "Reyes",
    "Fischer",
    "Osei",
    "Larsen",
    "Costa",
    "Ahmed",
]


@dataclass(frozen=True)
class DemoCard:
    """A card the demo prints so a person can tap it in the simulator."""

    uid: str
    member_number: str
    name: str
    roles: str


def is_empty(session: Session) -> bool:
    """Tell whether the database holds no members yet."""
    return session.exec(select(Member.id)).first() is None


def seed(session: Session, *, now: datetime | None = None, seed_value: int = 7) -> list[DemoCard]:
    """Fill an empty database with the demo library; return the cards worth trying."""
    rng, now = random.Random(seed_value), now or utcnow()
    _add_kiosks(session)
    for code, name, days in TRAININGS:
        add_training(session, code=code, name=name, valid_days=days)
    members = _add_members(session, rng)
    _add_steward_logins(session, members[:3])
    tools = _add_tools(session)
    _add_trainings_held(session, members, rng, now)
    _add_history(session, members, tools, rng, now)
    _add_machines_and_pins(session, members)
    _add_market(session, members)
    return _cards_to_try(session, members)


def _add_steward_logins(session: Session, stewards: list[Member]) -> None:
    """Give the demo stewards one password; hash it once (argon2 takes ~0.5 s a hash here).

    Written directly rather than by ``set_password``: seeding is not a reset worth auditing.
    """
    password_hash = hasher().hash(DEMO_STEWARD_PASSWORD)
    for steward in stewards:
        session.add(StewardLogin(member_id=steward.id, password_hash=password_hash))


def demo_password_in_force(session: Session) -> bool:
    """Tell whether any steward still signs in with the published demo password."""
    hashes = set(session.exec(select(StewardLogin.password_hash)))
    return any(_matches(stored, DEMO_STEWARD_PASSWORD) for stored in hashes)


def _matches(stored: str, password: str) -> bool:
    try:
        return hasher().verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def site_kiosks(site: str) -> dict[str, str]:
    """Return the demo kiosks of ``site`` (id: name): the first site's two, one at each other."""
    return KIOSKS if site == SITE else {f"{site}-1": f"Tool shed, {site} site"}


def add_sites(session: Session, count: int) -> list[str]:
    """Give the demo library its first ``count`` sites: each further site a kiosk with lockers
    and a few tools, unless it has it already; return the kiosks added."""
    if not 1 <= count <= len(SITES):
        raise RuleViolation(f"The demo has 1 to {len(SITES)} sites, not {count}.", field="sites")
    added = []
    for site in SITES[1:count]:
        for kiosk_id, name in site_kiosks(site).items():
            if session.get(Kiosk, kiosk_id) is not None:
                continue
            register_kiosk(session, kiosk_id, site=site, name=name)
            for slot in range(1, LOCKERS_PER_KIOSK + 1):
                add_locker(session, kiosk_id, slot)
            for slot, (stem, tool_name, category) in enumerate(SITE_TOOLS, start=1):
                code = f"{stem}-{site.upper()}"
                add_tool(
                    session,
                    code=code,
                    name=tool_name,
                    category=category,
                    kiosk_id=kiosk_id,
                    slot=slot,
                )
            added.append(kiosk_id)
    return added


def _add_kiosks(session: Session) -> None:
    for kiosk_id, name in KIOSKS.items():
        register_kiosk(session, kiosk_id, site=SITE, name=name)
        for slot in range(1, LOCKERS_PER_KIOSK + 1):
            add_locker(session, kiosk_id, slot)


def _add_members(session: Session, rng: random.Random) -> list[Member]:
    members = []
    for index, first in enumerate(FIRST):
        roles = (
            "steward"
            if index in (0, 1)
            else "admin steward"
            if index == 2
            else ("volunteer" if index % 5 == 3 else "member")
        )
        member = add_member(
            session,
            name=f"{first} {LAST[index % len(LAST)]}",
            email=f"{first.lower()}@example.org",
            roles=roles,
        )
        assign_card(session, member.id, demo_uid(index))
        members.append(member)
    return members


def demo_uid(index: int) -> str:
    """Return the demo card UID of member ``index``: 4 bytes, easy to type."""
    return f"C0DE{index:04X}"


def _add_tools(session: Session) -> list[Tool]:
    tools = []
    for index, (code, name, category, training) in enumerate(TOOLS):
        kiosk_index, slot = divmod(index, TOOLS_PER_KIOSK)
        kiosk_id = list(KIOSKS)[kiosk_index] if kiosk_index < len(KIOSKS) else None
        tools.append(
            add_tool(
                session,
                code=code,
                name=name,
                category=category,
                kiosk_id=kiosk_id,
                slot=slot + 1 if kiosk_id else None,
                training=training,
            )
        )
    return tools


def _add_trainings_held(
    session: Session, members: list[Member], rng: random.Random, now: datetime
) -> None:
    """Stewards and volunteers hold every induction; other members some of them."""
    for member in members:
        trusted = member.has_role(Role.STEWARD) or Role.VOLUNTEER in member.role_set
        for code, _, _ in TRAININGS:
            if rng.random() < 0.4 or trusted:
                grant_training(
                    session, member.id, code, now=now - timedelta(days=rng.randint(5, 200))
                )


def _add_history(
    session: Session, members: list[Member], tools: list[Tool], rng: random.Random, now: datetime
) -> None:
    """Lend and return tools over the past weeks; leave a few out, one overdue, one broken."""
    borrowers = members[3:]
    for day in range(60, 2, -1):
        tool = rng.choice(tools)
        member = rng.choice(borrowers)
        out = now - timedelta(days=day, hours=rng.randint(0, 8))
        try:
            lend_tool(session, tool_id=tool.id, member_id=member.id, kiosk_id="shed-1", now=out)
        except DomainError:  # a borrower without the training, as at a real kiosk: refused
            continue
        return_tool(
            session, tool_id=tool.id, kiosk_id="shed-2", now=out + timedelta(days=rng.randint(1, 6))
        )
    lend_tool(
        session,
        tool_id=_tool(tools, "DRILL-2").id,
        member_id=borrowers[0].id,
        kiosk_id="shed-1",
        now=now - timedelta(days=2),
    )
    lend_tool(
        session,
        tool_id=_tool(tools, "TENT-1").id,
        member_id=borrowers[1].id,
        kiosk_id="shed-2",
        now=now - timedelta(days=12),
    )  # overdue: tents go for a week
    take_out_of_service(
        session, _tool(tools, "SAND-1").id, "Pad worn through; velcro does not hold"
    )


def _add_machines_and_pins(session: Session, members: list[Member]) -> None:
    """Add the makerspace machines; give every member the demo PIN (hashed once)."""
    for code, name, training, rules in MACHINES:
        add_resource(
            session, code=code, name=name, training=training, opening_hours=ALL_DAY, **rules
        )
    set_pin(session, members[0].id, DEMO_PIN)
    pin_hash = session.get(MemberPin, members[0].id).pin_hash
    session.add_all(MemberPin(member_id=m.id, pin_hash=pin_hash) for m in members[1:])


def _add_market(session: Session, members: list[Member]) -> None:
    """Open the market: its categories, an offer with an answer, and a request."""
    for slug, name in MARKET_CATEGORIES:
        session.add(MarketCategory(slug=slug, name=name))
    session.flush()
    sharpening = add_post(
        session,
        members[5],
        kind="offer",
        category="repairs",
        title="I can sharpen blades",
        text="Saws, chisels and plane irons. Bring them to the shed on Saturday mornings.",
        where_when="At the shed, Saturdays 10-12",
    )
    answer_post(session, members[3], sharpening.id or 0, "My tenon saw is blunt; Saturday?")
    set_skills(session, members[3], "sanding power-tools")
    set_skills(session, members[5], "sharpening woodwork")
    add_post(
        session,
        members[4],
        kind="request",
        category="lessons",
        title="Show me how to use the tile cutter",
        text="I'm retiling the bathroom and have never used one.",
    )


def _tool(tools: list[Tool], code: str) -> Tool:
    return next(tool for tool in tools if tool.code == code)


def _cards_to_try(session: Session, members: list[Member]) -> list[DemoCard]:
    picks = [members[0], members[2], members[3], members[5]]
    return [DemoCard(demo_uid(members.index(m)), m.number, m.name, m.roles) for m in picks]
