"""What each kiosk needs to decide alone: the allow-list and the kiosk's configuration, built
and published.

Both carry the sync version (``hub.infra.sync``) and a content hash, so a kiosk keeps the
newest and the publisher sends only what changed, retained, to each kiosk's own topics.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

import paho.mqtt.client as mqtt
from sqlalchemy import Engine
from sqlmodel import Session, select

from broker.messages import AllowList, AllowListMember, KioskConfig, LockerTool, encode
from broker.topics import kiosk_topic
from hub.infra import settings
from hub.infra.clock import as_utc, utcnow
from hub.infra.db import reading, snapshot_reading
from hub.infra.sync import current_version
from hub.inventory import sites
from hub.inventory.registry import Kiosk, Locker, Tool, ToolStatus, list_kiosks
from hub.loans import holds, policy
from hub.loans.records import Loan
from hub.members.roster import Card, Member, MemberTraining, Role, Training

log = logging.getLogger("commonshed.hub.snapshots")
NAME_ON_KIOSK = 60  # the kiosk greets by name; the wire allows less than the hub stores


def build_allowlist(
    session: Session, *, site: str | None = None, now: datetime | None = None
) -> AllowList:
    """Return the allow-list of every live card, at the current sync version, with the tools
    kept for a member's hold and the borrowing limits kiosks enforce; for ``site``, the one its
    kiosks get (a ``listed`` site leaves out the members not allowed there)."""
    return build_allowlists(session, [site] if site else [], now=now)[site]


def build_allowlists(
    session: Session, site_ids: Iterable[str], *, now: datetime | None = None
) -> dict[str | None, AllowList]:
    """Return the allow-list of each site in ``site_ids``, and of every live card (key None),
    read once: a site where everyone may borrow gets that one.

    Suspended members stay in with their status, so a kiosk refuses them with the right words;
    at a ``listed`` site a member not listed is left out (a steward never is: a steward may
    work at any site), and the kiosk refuses the card as one it does not know.
    """
    now = now or utcnow()
    trainings, loans = _trainings_by_member(session), _loans_by_member(session)
    limits = policy.limits_for_kiosk(session)
    # NOTE: due times only when a kiosk needs them (an overdue pause is set): a v1.1 kiosk
    # refuses an allow-list that carries them (broker/PROTOCOL.md, "Rolling out v1.2").
    with_due = limits.overdue_grace_days is not None
    cards = [
        (card_uid, member, steward_anywhere(member))
        for card_uid, member in session.exec(
            select(Card.uid, Member)
            .join(Member, Card.member_id == Member.id)
            .where(Card.revoked_at.is_(None))
        )
    ]
    entries = {
        card_uid: _entry(member, trainings.get(member.id, {}), loans.get(member.id, {}), with_due)
        for card_uid, member, _steward in cards
    }
    common = dict(
        version=max(current_version(session), 1),
        generated_at=now,
        tools_out_of_service=session.exec(
            select(Tool.code).where(Tool.status == ToolStatus.OUT_OF_SERVICE)
        ).all(),
        tool_trainings=dict(
            session.exec(
                select(Tool.code, Training.code).join(Training, Tool.training_id == Training.id)
            ).all()
        ),
        reservations=holds.reservations(session, now),
        limits=limits,
    )
    everyone = AllowList.build(entries=entries, **common)
    built: dict[str | None, AllowList] = {None: everyone}
    listed = sites.listed_sites(session)
    for site_id in set(site_ids):
        if site_id not in listed:
            built[site_id] = everyone
            continue
        allowed = listed[site_id]
        kept = {uid: entries[uid] for uid, m, steward in cards if steward or m.id in allowed}
        built[site_id] = AllowList.build(entries=kept, **common)
    return built


def steward_anywhere(member: Member) -> bool:
    """Tell whether ``member`` passes every site's list (a steward may work at any site)."""
    return member.has_role(Role.STEWARD)


def _entry(
    member: Member,
    trainings: dict[str, datetime | None],
    loans: dict[str, datetime],
    with_due: bool,
) -> AllowListMember:
    roles = [role.value for role in Role if role in member.role_set]
    return AllowListMember(
        member_id=member.id,
        number=member.number,
        name=member.name[:NAME_ON_KIOSK],
        status=member.status,
        roles=roles,
        trainings=trainings,
        loans=sorted(loans),
        loans_due=loans if with_due and loans else None,
    )


def _loans_by_member(session: Session) -> dict[int, dict[str, datetime]]:
    """Return the tools each member has out and when each is due back, so any kiosk can take
    them back and pause borrowing for overdue ones."""
    out: dict[int, dict[str, datetime]] = {}
    query = (
        select(Loan.member_id, Tool.code, Loan.due_at)
        .join(Tool, Loan.tool_id == Tool.id)
        .where(Loan.returned_at.is_(None))
    )
    for member_id, code, due_at in session.exec(query):
        out.setdefault(member_id, {})[code] = as_utc(due_at)
    return out


def _trainings_by_member(session: Session) -> dict[int, dict[str, datetime | None]]:
    held: dict[int, dict[str, datetime | None]] = {}
    query = select(MemberTraining.member_id, Training.code, MemberTraining.expires_at).join(
        Training, MemberTraining.training_id == Training.id
    )
    for member_id, code, expires_at in session.exec(query):
        held.setdefault(member_id, {})[code] = expires_at
    return held


def build_config(session: Session, kiosk: Kiosk, *, now: datetime | None = None) -> KioskConfig:
    """Return kiosk ``kiosk``'s configuration: which tool lives in which locker, and its name
    for the screen (protocol 1.2: kiosks first, then the hub; a v1.1 kiosk refuses names)."""
    lockers: dict[int, LockerTool | None] = {}
    query = (
        select(Locker.slot, Tool)
        .join(Tool, Tool.locker_id == Locker.id, isouter=True)
        .where(Locker.kiosk_id == kiosk.id)
    )
    for slot, tool in session.exec(query):
        lockers[slot] = (
            LockerTool(
                tool_code=tool.code,
                loan_days=policy.loan_days_for(session, tool),
                name=_name_on_kiosk(tool.name),
            )
            if tool
            else None
        )
    return KioskConfig.build(
        version=max(current_version(session), 1),
        generated_at=now or utcnow(),
        site=kiosk.site,
        kiosk_id=kiosk.id,
        name=kiosk.name[:NAME_ON_KIOSK],
        lockers=lockers,
        timezone=settings.site_timezone().key,
    )


def _name_on_kiosk(name: str | None) -> str | None:
    """Return a tool's name cut to what the screen shows, or None for a blank one."""
    cut = (name or "").strip()[:NAME_ON_KIOSK].strip()
    return cut or None


def _config_or_none(session: Session, kiosk: Kiosk) -> KioskConfig | None:
    """Return ``kiosk``'s config, or None (logged) for a stored row the wire refuses (a kiosk
    called ``hub`` from before the hub checked), so one bad row starves no other kiosk."""
    try:
        return build_config(session, kiosk)
    except ValueError as error:  # pydantic's ValidationError is a ValueError
        log.error("kiosk %r gets no config or allow-list: %s", kiosk.id, error)
        return None


class SnapshotPublisher:
    """Publish each kiosk's allow-list (its site's: one built per site) and config, retained,
    whenever their content changed."""

    def __init__(self, engine: Engine, client: mqtt.Client) -> None:
        self.engine, self.client = engine, client
        # The newest built, by site (None: every live card): member questions use them.
        self.allowlists: dict[str | None, AllowList] = {}
        self._published: dict[str, str] = {}  # topic -> content hash last published
        self._version: int | None = None  # the sync version of the last complete round
        self._incomplete = False  # a publish of the last round was refused: try again

    @property
    def allowlist(self) -> AllowList | None:
        """The newest allow-list of every live card (what a site that lets everyone gets)."""
        return self.allowlists.get(None)

    def allowlist_for(self, site: str) -> AllowList | None:
        """The newest allow-list published to site ``site``'s kiosks (None: none yet)."""
        return self.allowlists.get(site)

    def forget_published(self) -> None:
        """Publish everything again next round (a broker restarted without persistence has
        lost our retained messages)."""
        self._published.clear()

    def publish_if_stale(self) -> None:
        """Publish what changed if the sync version moved since the last complete round, or if
        nothing is out yet; a round with a refused publish (e.g. disconnected) is not complete."""
        with reading(self.engine) as session:
            latest = current_version(session)
        if latest != self._version or not self._published or self._incomplete:
            self.publish_changed()
            self._version = None if self._incomplete else latest

    def publish_changed(self) -> int:
        """Publish each kiosk's allow-list and config if their content changed; return count."""
        with snapshot_reading(self.engine) as session:  # the version and content agree
            configs = [c for k in list_kiosks(session) if (c := _config_or_none(session, k))]
            allowlists = build_allowlists(session, {config.site for config in configs})
        self.allowlists = allowlists
        self._incomplete, published = False, 0
        for config in configs:  # each kiosk's allow-list, then its config
            for snapshot in (allowlists[config.site], config):
                topic = kiosk_topic(config.site, config.kiosk_id, snapshot.channel)
                published += self._publish_if_changed(topic, snapshot)
        return published

    def _publish_if_changed(self, topic: str, snapshot: AllowList | KioskConfig) -> int:
        if self._published.get(topic) == snapshot.content_hash:
            return 0
        info = self.client.publish(topic, encode(snapshot), qos=1, retain=True)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            self._incomplete = True
            return 0
        self._published[topic] = snapshot.content_hash
        return 1
