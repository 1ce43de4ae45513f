"""The network's sites: each site's link and kiosks, who may borrow there (everyone, or the
members listed; stewards always may), its bridge's login on the network's broker (shown once,
with the site box's setup sheet; revoked here), and the loans a site did not allow. Every
change is audited by the hub's service."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from dashboard.auth import acting_member, steward_required
from dashboard.database import reading, transaction
from dashboard.kiosk_setup import broker_address, broker_dir
from dashboard.steward.common import NavLink, form_text
from hub.errors import DomainError
from hub.infra.clock import utcnow
from hub.inventory import sites
from hub.queries import sites as site_rows

bp = Blueprint("steward_sites", __name__, url_prefix="/steward")
NAV = (NavLink("steward_sites.sites_page", "Sites"),)


@bp.get("/sites")
@steward_required
def sites_page() -> str:
    """Show every site: link, kiosks, policy, members listed, bridge login; loans not allowed."""
    return _sites_page()


def _sites_page(
    *, form: object = None, error: DomainError | None = None, at: str | None = None
) -> str:
    with reading() as db:
        rows = site_rows.site_summaries(db)
        strays = site_rows.stray_loans(db, limit=20)
    return render_template(
        "steward/sites.html",
        rows=rows,
        strays=strays,
        now=utcnow(),
        form=form or {},
        error=error,
        at=at,
    )


def _refused(error: DomainError, at: str | None) -> ResponseReturnValue:
    """Show the page again with the form as typed and the refusal beside the field at fault."""
    return _sites_page(form=request.form, error=error, at=at), 422


@bp.post("/sites")
@steward_required
def add() -> ResponseReturnValue:
    """Add a site."""
    try:
        with transaction() as db:
            site = sites.add_site(
                db,
                acting_member(),
                form_text("site_id"),
                name=form_text("name"),
                policy=form_text("policy") or "everyone",
            )
    except DomainError as error:
        return _refused(error, None)
    flash(f"Site {site.id} added.")
    return _to(site.id)


@bp.post("/sites/<site_id>/rename")
@steward_required
def rename(site_id: str) -> ResponseReturnValue:
    """Rename a site."""
    try:
        with transaction() as db:
            site = sites.rename_site(db, acting_member(), site_id, form_text("name"))
    except DomainError as error:
        if error.field == "site_id":
            raise
        return _refused(error, site_id)
    flash(f"Site {site.id} is now called {site.name}.")
    return _to(site_id)


@bp.post("/sites/<site_id>/policy")
@steward_required
def policy(site_id: str) -> ResponseReturnValue:
    """Say who may borrow at a site; its kiosks get the new allow-list."""
    try:
        with transaction() as db:
            site = sites.set_policy(db, acting_member(), site_id, form_text("policy"))
    except DomainError as error:
        if error.field == "site_id":
            raise
        return _refused(error, site_id)
    who = "everyone" if site.policy == "everyone" else "its listed members and stewards"
    flash(f"At site {site.id} {who} may borrow.")
    return _to(site_id)


@bp.post("/sites/<site_id>/members")
@steward_required
def allow(site_id: str) -> ResponseReturnValue:
    """Allow a member (by number) to borrow at a site."""
    try:
        with transaction() as db:
            sites.allow_member(db, acting_member(), site_id, form_text("number"))
    except DomainError as error:
        if error.field == "site_id":
            raise
        return _refused(error, site_id)
    flash(f"Member {form_text('number')} may borrow at site {site_id}.")
    return _to(site_id)


@bp.post("/sites/<site_id>/members/<number>/remove")
@steward_required
def disallow(site_id: str, number: str) -> ResponseReturnValue:
    """Take a member off a site's list."""
    with transaction() as db:
        sites.disallow_member(db, acting_member(), site_id, number)
    flash(f"Member {number} is no longer listed at site {site_id}.")
    return _to(site_id)


@bp.post("/sites/<site_id>/provision")
@steward_required
def provision(site_id: str) -> ResponseReturnValue:
    """Make the site bridge's login and show it this once, with the site box's setup sheet.

    NOTE: answered directly, not by redirect: the password must not sit in a session or a
    URL to be shown again. The page is not cached.
    """
    with transaction() as db:
        login = sites.provision_bridge(db, acting_member(), site_id, broker_dir())
    central = broker_address()
    page = render_template(
        "steward/site_login.html",
        login=login,
        broker=central,
        commands=login.setup_commands(central.host, central.port),
    )
    return page, 200, {"Cache-Control": "no-store"}


@bp.post("/sites/<site_id>/revoke")
@steward_required
def revoke(site_id: str) -> ResponseReturnValue:
    """Revoke the site bridge's login: cut off now, and no more logging in."""
    with transaction() as db:
        sites.revoke_bridge(db, acting_member(), site_id, broker_dir(), form_text("reason") or None)
    flash(f"Site {site_id}'s bridge is cut off and can no longer log in to the network's broker.")
    return _to(site_id)


def _to(site_id: str) -> ResponseReturnValue:
    return redirect(url_for("steward_sites.sites_page") + f"#site-{site_id}")
