"""Sites: the sheds of the network, who may borrow at each, and each site's bridge login.

A site is a record: its id (the one the topic tree carries, ``broker.topics``), a name, and who
may borrow there: ``everyone`` (every member's card, as before sites were records) or
``listed`` (the members stewards allowed there, ``SiteMember``). Stewards always pass: a
steward may work at any site. Both tables reach kiosks (the allow-list of a listed site leaves
out the members not allowed there), so changing them moves the sync version.

The doors here take the acting member first, check they are a steward
(``hub.members.ranks``) and write their audit entry in the caller's transaction. Provisioning
and revoking a site's bridge also change the network's broker (``broker.provision``), last,
after every check has passed, as ``kiosks`` does for kiosks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, Session, SQLModel, select

from broker import provision
from broker.dynsec import DynsecError
from hub.errors import Conflict, InvalidInput, NotFound
from hub.infra import audit
from hub.infra.clock import utcnow
from hub.infra.sync import KioskVisible
from hub.members.ranks import Actor, require_role
from hub.members.roster import NAME_MAX, NOTE_MAX, Member, Role, clean_text, member_by_number
from hub.wire import parse_name, parse_site_id

SITE_BOX_DATA_DIR = "/var/lib/commonshed"  # where the setup sheet keeps a site broker's files


class SitePolicy(StrEnum):
    """Who may borrow at a site (stewards always may)."""

    EVERYONE = "everyone"
    LISTED = "listed"


class Site(SQLModel, KioskVisible, table=True):
    id: str = Field(primary_key=True, max_length=32)
    name: str = Field(max_length=NAME_MAX)
    policy: str = Field(default=SitePolicy.EVERYONE, max_length=16)
    created_at: datetime = Field(default_factory=utcnow)
    # When its bridge's broker login was last made, and revoked (a revoked bridge cannot log in).
    bridge_provisioned_at: datetime | None = Field(default=None)
    bridge_revoked_at: datetime | None = Field(default=None)


class SiteMember(SQLModel, KioskVisible, table=True):
    """A member allowed to borrow at a ``listed`` site."""

    __tablename__ = "site_member"
    __table_args__ = (UniqueConstraint("site_id", "member_id"),)

    id: int | None = Field(default=None, primary_key=True)
    site_id: str = Field(foreign_key="site.id", index=True, max_length=32)
    member_id: int = Field(foreign_key="member.id", index=True)
    added_at: datetime = Field(default_factory=utcnow)


# What a steward does to sites, as the audit log records it.
SITE_ADD = audit.Action("site.add", ("id", "name", "policy"))
SITE_RENAME = audit.Action("site.rename", ("name",))
SITE_POLICY = audit.Action("site.policy", ("policy",))
SITE_ALLOW = audit.Action("site.allow", ("site_id", "member_id"))
SITE_DISALLOW = audit.Action("site.disallow", ("site_id", "member_id"))
SITE_PROVISION = audit.Action("site.provision", ("bridge_provisioned_at", "bridge_revoked_at"))
SITE_REVOKE = audit.Action("site.revoke", ("bridge_provisioned_at", "bridge_revoked_at"))


@dataclass(frozen=True)
class BridgeLogin:
    """What a site's bridge needs to log in to the network's broker: shown once, when made."""

    site: str
    name: str
    username: str
    password: str

    @property
    def client_id(self) -> str:
        """The client id the broker insists on: the bridge's username."""
        return self.username

    def setup_commands(self, host: str, port: int) -> list[str]:
        """Return the commands that make the site's box its bridged broker, reaching the
        network's broker at ``host``:``port`` (the setup sheet's; the password is pasted, never
        typed on a command line)."""
        data = SITE_BOX_DATA_DIR
        return [
            "read -rs PW   # paste the bridge's password, then Enter",
            f"printf '%s' \"$PW\" | commonshed broker join-network {self.site} "
            f"--central-host {host} --central-port {port} --data-dir {data}",
            "unset PW",
            f"commonshed broker run --data-dir {data} --port 1883 --bind 0.0.0.0",
            f"commonshed broker provision-kiosk KIOSK_ID --site {self.site} --data-dir {data}",
        ]


def target_of(site_id: str) -> str:
    """Name a site in the audit log."""
    return f"site:{site_id}"


# --- reading ------------------------------------------------------------------------------


def get_site(session: Session, site_id: str) -> Site:
    """Return site ``site_id`` or refuse."""
    site = session.get(Site, (site_id or "").strip())
    if site is None:
        raise NotFound(f"Site {site_id} does not exist.", field="site_id")
    return site


def list_sites(session: Session) -> list[Site]:
    """Return every site, by id."""
    return list(session.exec(select(Site).order_by(Site.id)))


def members_allowed(session: Session, site_id: str) -> list[Member]:
    """Return the members listed at a site, by number."""
    query = (
        select(Member)
        .join(SiteMember, SiteMember.member_id == Member.id)
        .where(SiteMember.site_id == site_id)
        .order_by(Member.number)
    )
    return list(session.exec(query))


def listed_sites(session: Session) -> dict[str, set[int]]:
    """Return each ``listed`` site's allowed member ids (an ``everyone`` site is not in it)."""
    allowed: dict[str, set[int]] = {
        site_id: set()
        for site_id in session.exec(select(Site.id).where(Site.policy == SitePolicy.LISTED))
    }
    query = select(SiteMember.site_id, SiteMember.member_id)
    for site_id, member_id in session.exec(query):
        if site_id in allowed:
            allowed[site_id].add(member_id)
    return allowed


def may_borrow_at(session: Session, site_id: str, member: Member) -> bool:
    """Tell whether ``member`` may borrow at site ``site_id``: a steward, a site that lets
    everyone (or one with no record: a kiosk's site from before sites were records), or a
    member listed there."""
    site = session.get(Site, site_id)
    if site is None or site.policy == SitePolicy.EVERYONE or member.has_role(Role.STEWARD):
        return True
    listed = session.exec(
        select(SiteMember.id).where(
            SiteMember.site_id == site_id, SiteMember.member_id == member.id
        )
    ).first()
    return listed is not None


def ensure_site(session: Session, site_id: str) -> Site:
    """Return site ``site_id``, created (everyone may borrow, named as its id) if unknown: a
    kiosk registered at a new site brings its site with it, and nothing changes for anyone."""
    site_id = parse_site_id(site_id)
    site = session.get(Site, site_id)
    if site is None:
        site = Site(id=site_id, name=site_id)
        session.add(site)
        session.flush()
    return site


# --- a steward's doors --------------------------------------------------------------------


def add_site(
    session: Session, actor: Actor, site_id: str, *, name: str, policy: str = "everyone"
) -> Site:
    """Add a site (who may borrow there: ``everyone`` or the ``listed`` members); audited."""
    require_role(actor, Role.STEWARD, "add a site")
    site_id = parse_site_id(site_id, "site_id")
    site = Site(id=site_id, name=parse_name(name), policy=parse_policy(policy))
    if session.get(Site, site_id) is not None:
        raise Conflict(f"Site {site_id} already exists.", field="site_id")
    with audit.audited(session, actor, SITE_ADD, site, target_of(site_id)):
        session.add(site)
    return site


def rename_site(session: Session, actor: Actor, site_id: str, name: str) -> Site:
    """Give a site a new name (what stewards call it); audited."""
    require_role(actor, Role.STEWARD, "rename a site")
    site, name = get_site(session, site_id), parse_name(name)
    if site.name != name:
        with audit.audited(session, actor, SITE_RENAME, site, target_of(site.id)):
            site.name = name
            session.add(site)
    return site


def set_policy(session: Session, actor: Actor, site_id: str, policy: str) -> Site:
    """Say who may borrow at a site: ``everyone``, or the ``listed`` members (stewards always
    may); audited. Its kiosks get the new allow-list."""
    require_role(actor, Role.STEWARD, "set a site's policy")
    site, policy = get_site(session, site_id), parse_policy(policy)
    if site.policy != policy:
        with audit.audited(session, actor, SITE_POLICY, site, target_of(site.id)):
            site.policy = policy
            session.add(site)
    return site


def allow_member(session: Session, actor: Actor, site_id: str, number: str) -> SiteMember:
    """List member ``number`` at a site (they may borrow there when it is ``listed``);
    audited. A member listed already is a conflict."""
    require_role(actor, Role.STEWARD, "allow a member at a site")
    site, member = get_site(session, site_id), member_by_number(session, number)
    if _listing(session, site.id, member) is not None:
        raise Conflict(
            f"Member {member.number} is already allowed at site {site.id}.", field="number"
        )
    listed = SiteMember(site_id=site.id, member_id=member.id)
    with audit.audited(session, actor, SITE_ALLOW, listed, target_of(site.id)) as notes:
        session.add(listed)
        notes["number"] = member.number
    return listed


def disallow_member(session: Session, actor: Actor, site_id: str, number: str) -> None:
    """Take member ``number`` off a site's list; audited. One not listed is refused."""
    require_role(actor, Role.STEWARD, "stop allowing a member at a site")
    site, member = get_site(session, site_id), member_by_number(session, number)
    listed = _listing(session, site.id, member)
    if listed is None:
        raise NotFound(f"Member {member.number} is not listed at site {site.id}.", field="number")
    audit.record(
        session,
        actor_member_id=actor.id,
        action=SITE_DISALLOW.name,
        target=target_of(site.id),
        before=audit.snapshot(listed, *SITE_DISALLOW.fields) | {"number": member.number},
        after=None,
    )
    session.delete(listed)
    session.flush()


def provision_bridge(
    session: Session, actor: Actor, site_id: str, broker_dir: Path, reason: str | None = None
) -> BridgeLogin:
    """Give a site's bridge a new login on the network's broker (its old one stops working),
    confined to the site's own topics, and return it: the password is shown once and kept only
    in the broker's private credentials file. Audited with the optional ``reason``."""
    require_role(actor, Role.STEWARD, "provision a site's bridge")
    site = get_site(session, site_id)
    why = clean_text(reason, "reason", limit=NOTE_MAX, required=False)
    with audit.audited(session, actor, SITE_PROVISION, site, target_of(site.id)) as notes:
        site.bridge_provisioned_at, site.bridge_revoked_at = utcnow(), None
        session.add(site)
        notes.update({"reason": why} if why else {})
    try:
        given = provision.provision_site_bridge(broker_dir, site.id, rotate=True)
    except DynsecError as error:
        raise Conflict(
            f"The broker did not take site {site.id}: {error}", field="site_id"
        ) from None
    return BridgeLogin(site.id, site.name, given.username, given.password)


def revoke_bridge(
    session: Session, actor: Actor, site_id: str, broker_dir: Path, reason: str | None = None
) -> Site:
    """Remove a site's bridge login: a connected bridge is cut off at once and cannot log in
    again until provisioned anew. Audited with the optional ``reason``. A bridge never
    provisioned is refused; revoking a revoked one changes nothing."""
    require_role(actor, Role.STEWARD, "revoke a site's bridge")
    site = get_site(session, site_id)
    why = clean_text(reason, "reason", limit=NOTE_MAX, required=False)
    if site.bridge_revoked_at is not None:
        return site
    with audit.audited(session, actor, SITE_REVOKE, site, target_of(site.id)) as notes:
        site.bridge_revoked_at = utcnow()
        session.add(site)
        notes.update({"reason": why} if why else {})
    try:
        removed = provision.revoke_site_bridge(broker_dir, site.id)
    except DynsecError as error:
        raise Conflict(
            f"The broker did not revoke site {site.id}'s bridge: {error}", field="site_id"
        ) from None
    if not removed and site.bridge_provisioned_at is None:
        raise Conflict(f"Site {site.id} has no bridge login to revoke.", field="site_id")
    return site


def parse_policy(value: str, field: str = "policy") -> str:
    """Return a site policy (``everyone`` or ``listed``) or refuse naming ``field``."""
    text = (value or "").strip().lower()
    if text not in set(SitePolicy):
        raise InvalidInput(f"{field} must be 'everyone' or 'listed', not {value!r}.", field=field)
    return text


def _listing(session: Session, site_id: str, member: Member) -> SiteMember | None:
    return session.exec(
        select(SiteMember).where(SiteMember.site_id == site_id, SiteMember.member_id == member.id)
    ).first()
