"""The sites as stewards read them: each site's link, kiosks, who may borrow there, and the
loans made at a site that did not allow the member (a kiosk with a stale allow-list)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from hub.infra.clock import as_utc
from hub.inventory.fleet import SiteLink
from hub.inventory.registry import Tool, list_kiosks
from hub.inventory.sites import Site, get_site, list_sites, members_allowed
from hub.loans.records import Loan
from hub.members.roster import Member
from hub.worker.snapshots import build_allowlist, build_allowlists


@dataclass(frozen=True)
class SiteSummary:
    """A site at a glance: its record, its bridge link (None: never reported), its kiosks,
    the members listed there, and how many cards its kiosks' allow-list holds."""

    site: Site
    link: SiteLink | None
    kiosks: list[str]
    members: list[Member]
    cards: int

    @property
    def bridge(self) -> str:
        """The bridge login's state as a steward reads it: none, provisioned or revoked."""
        if self.site.bridge_revoked_at is not None:
            return "revoked"
        return "provisioned" if self.site.bridge_provisioned_at is not None else "none"


@dataclass(frozen=True)
class StrayLoan:
    """A loan made at a site that did not allow its member, with the note the hub made."""

    loan_id: int
    tool_code: str
    number: str
    name: str
    kiosk_id: str | None
    out_at: datetime
    open: bool
    note: str


def site_summaries(session: Session) -> list[SiteSummary]:
    """Return every site by id, with its link, kiosks, listed members and allow-list size."""
    links = {link.site: link for link in session.exec(select(SiteLink))}
    kiosks: dict[str, list[str]] = {}
    for kiosk in list_kiosks(session):
        kiosks.setdefault(kiosk.site, []).append(kiosk.id)
    every = list_sites(session)
    allowlists = build_allowlists(session, [site.id for site in every])
    return [
        SiteSummary(
            site,
            links.get(site.id),
            kiosks.get(site.id, []),
            members_allowed(session, site.id),
            len(allowlists[site.id].entries),
        )
        for site in every
    ]


def site_summary(session: Session, site_id: str) -> SiteSummary:
    """Return one site's summary (refused if there is no such site)."""
    site = get_site(session, site_id)
    return SiteSummary(
        site,
        session.get(SiteLink, site.id),
        [kiosk.id for kiosk in list_kiosks(session) if kiosk.site == site.id],
        members_allowed(session, site.id),
        len(build_allowlist(session, site=site.id).entries),
    )


def stray_loans(session: Session, *, limit: int = 50) -> list[StrayLoan]:
    """Return the newest loans made at a site that did not allow the member."""
    query = (
        select(Loan, Tool.code, Member.number, Member.name)
        .join(Tool, Loan.tool_id == Tool.id)
        .join(Member, Loan.member_id == Member.id)
        .where(col(Loan.site_note).is_not(None))
        .order_by(col(Loan.out_at).desc())
        .limit(limit)
    )
    return [
        StrayLoan(
            loan.id or 0,
            code,
            number,
            name,
            loan.kiosk_id,
            as_utc(loan.out_at),
            loan.returned_at is None,
            loan.site_note or "",
        )
        for loan, code, number, name in session.exec(query)
    ]
