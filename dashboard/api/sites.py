"""The network's sites: who may borrow at each (everyone, or the members listed; stewards
always may), members allowed and taken off, each site bridge's login on the network's broker
(provision, revoke). Stewards only; each change audited by the hub's service."""

from __future__ import annotations

from sqlmodel import Session

from dashboard.auth import acting_member
from dashboard.database import reading, transaction
from dashboard.kiosk_setup import broker_address, broker_dir
from hub.inventory import sites
from hub.queries import sites as site_rows

from .blueprint import api
from .inventory_schemas import (
    BridgeLoginOut,
    KioskChange,
    NewSite,
    SiteLinkOut,
    SiteList,
    SiteMemberAdd,
    SiteMemberOut,
    SitePolicyChange,
    SiteRecord,
    SiteRename,
)

ID = "<string(maxlength=32):site_id>"
NUMBER = "<string(maxlength=10):number>"


@api.operation("GET", "/sites", response=SiteList, tag="sites")
def list_sites() -> SiteList:
    """List every site: who may borrow there, its link, kiosks, members listed, bridge login.

    Stewards only.
    """
    with reading() as db:
        return SiteList(sites=[site_record(row) for row in site_rows.site_summaries(db)])


@api.operation("GET", f"/sites/{ID}", response=SiteRecord, tag="sites")
def get_site(site_id: str) -> SiteRecord:
    """Show one site. Stewards only."""
    with reading() as db:
        return site_record(site_rows.site_summary(db, site_id))


@api.operation("POST", "/sites", body=NewSite, response=SiteRecord, status=201, tag="sites")
def add_site(body: NewSite) -> SiteRecord:
    """Add a site; an id already there is a conflict (409). Stewards only; audited."""
    with transaction() as db:
        site = sites.add_site(db, acting_member(), body.site_id, name=body.name, policy=body.policy)
        return _record(db, site.id)


@api.operation("PATCH", f"/sites/{ID}", body=SiteRename, response=SiteRecord, tag="sites")
def rename_site(site_id: str, body: SiteRename) -> SiteRecord:
    """Rename a site. Stewards only; audited."""
    with transaction() as db:
        sites.rename_site(db, acting_member(), site_id, body.name)
        return _record(db, site_id)


@api.operation(
    "POST", f"/sites/{ID}/policy", body=SitePolicyChange, response=SiteRecord, tag="sites"
)
def set_site_policy(site_id: str, body: SitePolicyChange) -> SiteRecord:
    """Say who may borrow at a site; its kiosks get the new allow-list. Stewards only; audited."""
    with transaction() as db:
        sites.set_policy(db, acting_member(), site_id, body.policy)
        return _record(db, site_id)


@api.operation(
    "POST",
    f"/sites/{ID}/members",
    body=SiteMemberAdd,
    response=SiteRecord,
    status=201,
    tag="sites",
)
def allow_at_site(site_id: str, body: SiteMemberAdd) -> SiteRecord:
    """List a member at a site (they may borrow there when it is ``listed``).

    An unknown member is 404; one listed already is a conflict (409). Stewards only; audited.
    """
    with transaction() as db:
        sites.allow_member(db, acting_member(), site_id, body.number)
        return _record(db, site_id)


@api.operation("DELETE", f"/sites/{ID}/members/{NUMBER}", response=SiteRecord, tag="sites")
def disallow_at_site(site_id: str, number: str) -> SiteRecord:
    """Take a member off a site's list (404 if not listed). Stewards only; audited."""
    with transaction() as db:
        sites.disallow_member(db, acting_member(), site_id, number)
        return _record(db, site_id)


@api.operation(
    "POST", f"/sites/{ID}/provision", body=KioskChange, response=BridgeLoginOut, tag="sites"
)
def provision_bridge(site_id: str, body: KioskChange) -> BridgeLoginOut:
    """Give a site's bridge a new login on the network's broker and answer it: the password is
    shown here only, once, with the commands for the site's box.

    Its old password, if any, stops working. A broker that cannot be told is a conflict (409).
    Stewards only; audited (without the password).
    """
    with transaction() as db:
        login = sites.provision_bridge(db, acting_member(), site_id, broker_dir(), body.reason)
    where = broker_address()
    return BridgeLoginOut(
        site=login.site,
        host=where.host,
        port=where.port,
        username=login.username,
        password=login.password,
        client_id=login.client_id,
        commands=login.setup_commands(where.host, where.port),
    )


@api.operation("POST", f"/sites/{ID}/revoke", body=KioskChange, response=SiteRecord, tag="sites")
def revoke_bridge(site_id: str, body: KioskChange) -> SiteRecord:
    """Revoke a site bridge's login: it is cut off at once and cannot log in again.

    A bridge never provisioned is a conflict (409); revoking a revoked one changes nothing.
    Stewards only; audited.
    """
    with transaction() as db:
        sites.revoke_bridge(db, acting_member(), site_id, broker_dir(), body.reason)
        return _record(db, site_id)


def _record(db: Session, site_id: str) -> SiteRecord:
    return site_record(site_rows.site_summary(db, site_id))


def site_record(row: site_rows.SiteSummary) -> SiteRecord:
    """Return a site as the API answers it."""
    site = row.site
    return SiteRecord(
        id=site.id,
        name=site.name,
        policy=site.policy,
        created_at=site.created_at,
        bridge_provisioned_at=site.bridge_provisioned_at,
        bridge_revoked_at=site.bridge_revoked_at,
        link=SiteLinkOut(connected=row.link.connected, since=row.link.since) if row.link else None,
        kiosks=row.kiosks,
        members=[SiteMemberOut(number=m.number, name=m.name) for m in row.members],
        cards=row.cards,
    )
