"""The members' market: offers and requests, hours for services, skills, and proposals.

Phone first, like every /me page. A refused form comes back with what was typed and the
field at fault; nothing is half-written (each action is one transaction of a hub service).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlmodel import Session

from dashboard.database import reading, transaction
from dashboard.errors import status_of
from dashboard.me.access import me, me_required, now
from hub.errors import DomainError, InvalidInput
from hub.infra.clock import as_utc
from hub.market import asks, exchanges, posts, proposals, skills
from hub.members.roster import Member, Role

bp = Blueprint("me_market", __name__, url_prefix="/me")
POST_FIELDS = ("kind", "category", "title", "text", "where_when", "tool_code")
PROPOSAL_FIELDS = ("title", "text", "days", "rule", "quorum", "cost_hours", "payee_number")


# --- offers and requests ---------------------------------------------------------------------


@bp.get("/market")
@me_required
def market() -> ResponseReturnValue:
    """Find offers and requests by words, kind and category."""
    wanted = {name: request.args.get(name, "").strip() for name in ("q", "kind", "category")}
    with reading() as db:
        found = posts.search_posts(
            db, words=wanted["q"], kind=wanted["kind"] or None, category=wanted["category"] or None
        )
        return render_template(
            "me/market.html",
            posts=found,
            wanted=wanted,
            categories=posts.categories(db),
            authors=_members(db, {p.author_id for p in found}),
        )


@bp.route("/market/new", methods=["GET", "POST"])
@me_required
def new_post() -> ResponseReturnValue:
    """Post an offer or a request."""
    typed = {name: request.form.get(name, "") for name in POST_FIELDS}
    if request.method == "GET":
        return _post_form({"kind": request.args.get("kind", "offer")})
    try:
        with transaction() as db:
            post = posts.add_post(db, me(), **typed)
            post_id = post.id
    except DomainError as refused:
        return _post_form(typed, refused)
    flash("Your post is up: members can find it now.", "ok")
    return redirect(url_for("me_market.post", post_id=post_id))


@bp.get("/market/<int:post_id>")
@me_required
def post(post_id: int) -> ResponseReturnValue:
    """Show a post, who answered it, and the hours moved through it that concern me."""
    return _post_page(post_id)


@bp.post("/market/<int:post_id>/answer")
@me_required
def answer(post_id: int) -> ResponseReturnValue:
    """Answer another member's post."""
    return _act(
        post_id,
        lambda db: posts.answer_post(db, me(), post_id, request.form.get("note", "")),
        "Your answer is sent: the author sees it on the post.",
    )


@bp.post("/market/<int:post_id>/close")
@me_required
def close(post_id: int) -> ResponseReturnValue:
    """Close my own post."""
    return _act(post_id, lambda db: posts.close_post(db, me(), post_id), "Post closed.")


@bp.post("/market/<int:post_id>/hide")
@me_required
def hide(post_id: int) -> ResponseReturnValue:
    """Hide a post that breaks the network's rules (stewards; the service checks)."""
    reason = request.form.get("reason", "")
    return _act(post_id, lambda db: posts.hide_post(db, me(), post_id, reason), "Post hidden.")


@bp.post("/market/<int:post_id>/hours")
@me_required
def hours(post_id: int) -> ResponseReturnValue:
    """Record hours for the service: the giver claims them, the receiver pays them at once."""
    other, amount = request.form.get("other", ""), request.form.get("hours", "")
    note = request.form.get("note", "")

    def record(db: Session) -> object:
        post = posts.get_post(db, post_id)
        if _i_give(post, me()):
            return exchanges.claim_hours(
                db, me(), post_id, receiver_number=other, hours=amount, note=note
            )
        return exchanges.give_hours(db, me(), post_id, giver_number=other, hours=amount, note=note)

    return _act(
        post_id, record, "Hours recorded.", typed={"other": other, "hours": amount, "note": note}
    )


@bp.post("/market/exchanges/<int:exchange_id>/confirm")
@me_required
def confirm(exchange_id: int) -> ResponseReturnValue:
    """Confirm hours a giver claimed from me: they move now."""
    post_id = int(request.form.get("post_id", "0") or 0)
    return _act(
        post_id,
        lambda db: exchanges.confirm_hours(db, me(), exchange_id),
        "Hours confirmed and moved. Thank you both.",
    )


# --- skills ----------------------------------------------------------------------------------


@bp.route("/skills", methods=["GET", "POST"])
@me_required
def my_skills() -> ResponseReturnValue:
    """List what I can fix or teach, so stewards can ask me when a tool breaks."""
    typed = request.form.get("skills", "")
    error = field = None
    if request.method == "POST":
        try:
            with transaction() as db:
                skills.set_skills(db, me(), typed)
                asks.set_auto_ask(db, me(), bool(request.form.get("auto_ask")))
            flash("Your skills are saved.", "ok")
            return redirect(url_for("me_market.my_skills"))
        except DomainError as refused:
            error, field = refused.message, refused.field
    with reading() as db:
        held = skills.skills_of(db, me().id or 0)
        auto_ask = asks.auto_asked(db, me().id or 0)
    page = render_template(
        "me/skills.html",
        held=held,
        typed=typed or " ".join(held),
        auto_ask=auto_ask,
        error=error,
        field=field,
    )
    return page, (422 if error else 200)


# --- proposals -------------------------------------------------------------------------------


@bp.get("/proposals")
@me_required
def list_proposals() -> ResponseReturnValue:
    """Show the network's proposals, open ones first, with the votes counted."""
    with reading() as db:
        rows = [(p, proposals.tally(db, p)) for p in proposals.proposals(db)]
        return render_template("me/proposals.html", rows=rows, pool=proposals.pool_holds(db))


@bp.route("/proposals/new", methods=["GET", "POST"])
@me_required
def new_proposal() -> ResponseReturnValue:
    """Put a proposal to the network."""
    typed = {name: request.form.get(name, "") for name in PROPOSAL_FIELDS}
    if request.method == "GET":
        return _proposal_form({"days": "14", "rule": "consent", "quorum": "0"})
    try:
        with transaction() as db:
            made = proposals.propose(
                db,
                me(),
                title=typed["title"],
                text=typed["text"],
                closes_at=_closing(typed["days"]),
                rule=typed["rule"],
                quorum=_whole(typed["quorum"], "quorum"),
                cost_hours=typed["cost_hours"] or None,
                payee_number=typed["payee_number"] or None,
                now=now(),
            )
            made_id = made.id
    except DomainError as refused:
        return _proposal_form(typed, refused)
    return redirect(url_for("me_market.proposal", proposal_id=made_id))


@bp.get("/proposals/<int:proposal_id>")
@me_required
def proposal(proposal_id: int) -> ResponseReturnValue:
    """Show a proposal, its rule, who voted how, and my vote."""
    return _proposal_page(proposal_id)


@bp.post("/proposals/<int:proposal_id>/vote")
@me_required
def vote(proposal_id: int) -> ResponseReturnValue:
    """Cast or change my vote."""
    choice, reason = request.form.get("choice", ""), request.form.get("reason", "")
    try:
        with transaction() as db:
            proposals.vote(db, me(), proposal_id, choice, reason, now=now())
    except DomainError as refused:
        return _proposal_page(proposal_id, refused, {"choice": choice, "reason": reason})
    flash("Your vote is counted; you can change it until the proposal closes.", "ok")
    return redirect(url_for("me_market.proposal", proposal_id=proposal_id))


# --- helpers ---------------------------------------------------------------------------------


def _i_give(post: posts.Post, member: Member) -> bool:
    """Tell whether ``member`` is the giving side of a service through ``post``."""
    author = post.author_id == member.id
    return author == (post.kind == posts.PostKind.OFFER)


def _act(
    post_id: int,
    action: Callable[[Session], object],
    said: str,
    *,
    typed: dict[str, str] | None = None,
) -> ResponseReturnValue:
    """Run ``action`` in one transaction; show the post again with the refusal, or go back."""
    try:
        with transaction() as db:
            action(db)
    except DomainError as refused:
        return _post_page(post_id, refused, typed or {})
    flash(said, "ok")
    return redirect(url_for("me_market.post", post_id=post_id))


def _post_page(
    post_id: int, refused: DomainError | None = None, typed: dict[str, str] | None = None
) -> ResponseReturnValue:
    with reading() as db:
        post = posts.get_post(db, post_id)
        answers = posts.answers_to(db, post_id)
        mine = [e for e in exchanges.exchanges_of(db, me().id or 0) if e.post_id == post_id]
        people = _members(
            db,
            {post.author_id, *(a.member_id for a in answers)}
            | {e.giver_id for e in mine}
            | {e.receiver_id for e in mine},
        )
        page = render_template(
            "me/market_post.html",
            post=post,
            answers=answers,
            exchanges=mine,
            people=people,
            i_give=_i_give(post, me()),
            is_author=post.author_id == me().id,
            answered=any(a.member_id == me().id for a in answers),
            steward=me().has_role(Role.STEWARD),
            error=refused.message if refused else None,
            field=refused.field if refused else None,
            typed=typed or {},
        )
    return page, (status_of(type(refused)) if refused else 200)


def _post_form(typed: dict[str, str], refused: DomainError | None = None) -> ResponseReturnValue:
    with reading() as db:
        page = render_template(
            "me/market_new.html",
            typed=typed,
            categories=posts.categories(db),
            error=refused.message if refused else None,
            field=refused.field if refused else None,
        )
    return page, (status_of(type(refused)) if refused else 200)


def _proposal_page(
    proposal_id: int, refused: DomainError | None = None, typed: dict[str, str] | None = None
) -> ResponseReturnValue:
    with reading() as db:
        shown = proposals.get_proposal(db, proposal_id)
        votes = proposals.votes_on(db, proposal_id)
        page = render_template(
            "me/proposal.html",
            proposal=shown,
            tally=proposals.tally(db, shown),
            votes=votes,
            people=_members(db, {v.member_id for v in votes} | {shown.author_id}),
            mine=next((v for v in votes if v.member_id == me().id), None),
            open=shown.outcome is None and now() < as_utc(shown.closes_at),
            error=refused.message if refused else None,
            field=refused.field if refused else None,
            typed=typed or {},
        )
    return page, (status_of(type(refused)) if refused else 200)


def _proposal_form(
    typed: dict[str, str], refused: DomainError | None = None
) -> ResponseReturnValue:
    with reading() as db:
        pool = proposals.pool_holds(db)
    page = render_template(
        "me/proposal_new.html",
        typed=typed,
        pool=pool,
        error=refused.message if refused else None,
        field=refused.field if refused else None,
    )
    return page, (status_of(type(refused)) if refused else 200)


def _members(db: Session, ids: set[int]) -> dict[int, Member]:
    return {m.id: m for m in (db.get(Member, i) for i in ids) if m is not None and m.id}


def _closing(days: str) -> datetime:
    return now() + timedelta(days=_whole(days, "days"))


def _whole(text: str, field: str) -> int:
    try:
        return int((text or "").strip())
    except ValueError:
        raise InvalidInput(f"{field} must be a whole number.", field=field) from None
