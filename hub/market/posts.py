"""Offers ("I can sharpen blades") and requests ("need help fixing a lawnmower"), by category.

A post is open until its author closes it; members answer open posts of others; a steward may
hide a post that breaks the network's rules, with a reason (audited). Hidden posts are left out
of every list but stay in the records.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum

from sqlalchemy import UniqueConstraint, or_
from sqlmodel import Field, Session, SQLModel, col, select

from hub.errors import Conflict, InvalidInput, NotFound, RuleViolation
from hub.infra import audit
from hub.infra.clock import utcnow
from hub.inventory.registry import tool_by_code
from hub.members.ranks import Actor, require_role
from hub.members.roster import Member, Role, clean_text, require_active

TITLE_MAX, TEXT_MAX, WHERE_MAX, NOTE_MAX, REASON_MAX = 100, 2000, 200, 500, 200
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


class PostKind(StrEnum):
    OFFER = "offer"
    REQUEST = "request"


class PostStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    HIDDEN = "hidden"


class MarketCategory(SQLModel, table=True):
    """A kind of service ("repairs", "lessons"): what the exchange report counts by."""

    __tablename__ = "market_category"

    slug: str = Field(primary_key=True, max_length=40)
    name: str = Field(max_length=60)


class Post(SQLModel, table=True):
    """An offer or a request by a member, optionally about a tool of the library."""

    __tablename__ = "market_post"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=8, index=True)
    author_id: int = Field(foreign_key="member.id", index=True)
    category: str = Field(foreign_key="market_category.slug", max_length=40, index=True)
    title: str = Field(max_length=TITLE_MAX)
    text: str = Field(max_length=TEXT_MAX)
    where_when: str | None = Field(default=None, max_length=WHERE_MAX)
    tool_id: int | None = Field(default=None, foreign_key="tool.id")
    status: str = Field(default=PostStatus.OPEN, max_length=8, index=True)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    hidden_by: int | None = Field(default=None, foreign_key="member.id")
    hidden_reason: str | None = Field(default=None, max_length=REASON_MAX)


class Answer(SQLModel, table=True):
    """A member answering another's post: "I can help", "I'd like that"."""

    __tablename__ = "market_answer"
    __table_args__ = (UniqueConstraint("post_id", "member_id", name="uq_market_answer_member"),)

    id: int | None = Field(default=None, primary_key=True)
    post_id: int = Field(foreign_key="market_post.id", index=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    note: str = Field(max_length=NOTE_MAX)
    created_at: datetime = Field(default_factory=utcnow)


POST_HIDE = audit.Action("post.hide", ("status", "hidden_by", "hidden_reason"))
POST_SHOW = audit.Action("post.show", ("status", "hidden_by", "hidden_reason"))
CATEGORY_ADD = audit.Action("market_category.add", ("slug", "name"))


# --- categories ------------------------------------------------------------------------------


def add_category(session: Session, actor: Actor, slug: str, name: str) -> MarketCategory:
    """Add a category of service; stewards only, audited."""
    require_role(actor, Role.STEWARD, "add a market category")
    slug = (slug or "").strip().lower()
    if not SLUG.match(slug):
        raise InvalidInput(
            "slug must be 1-40 lowercase letters, digits or hyphens, starting with a letter "
            "or digit.",
            field="slug",
        )
    if session.get(MarketCategory, slug) is not None:
        raise Conflict(f"Category {slug} already exists.", field="slug")
    category = MarketCategory(slug=slug, name=clean_text(name, "name", limit=60))
    with audit.audited(session, actor, CATEGORY_ADD, category, f"market_category:{slug}"):
        session.add(category)
    return category


def categories(session: Session) -> list[MarketCategory]:
    """Return every category, by name."""
    return list(session.exec(select(MarketCategory).order_by(MarketCategory.name)))


def _category(session: Session, slug: str) -> str:
    if session.get(MarketCategory, (slug or "").strip().lower()) is None:
        known = ", ".join(c.slug for c in categories(session)) or "none yet"
        raise InvalidInput(
            f"Unknown category {slug!r}; the categories are {known}.", field="category"
        )
    return slug.strip().lower()


# --- posts -----------------------------------------------------------------------------------


def add_post(
    session: Session,
    author: Member,
    *,
    kind: str,
    category: str,
    title: str,
    text: str,
    where_when: str | None = None,
    tool_code: str | None = None,
) -> Post:
    """Post an offer or a request; the author must be an active member."""
    require_active(author)
    if kind not in set(PostKind):
        raise InvalidInput("kind must be 'offer' or 'request'.", field="kind")
    assert author.id is not None
    post = Post(
        kind=kind,
        author_id=author.id,
        category=_category(session, category),
        title=clean_text(title, "title", limit=TITLE_MAX),
        text=clean_text(text, "text", limit=TEXT_MAX),
        where_when=clean_text(where_when, "where_when", limit=WHERE_MAX, required=False),
        tool_id=tool_by_code(session, tool_code).id if (tool_code or "").strip() else None,
    )
    session.add(post)
    session.flush()
    return post


def get_post(session: Session, post_id: int, *, hidden_ok: bool = False) -> Post:
    """Return post ``post_id``, refusing one that does not exist (or is hidden)."""
    post = session.get(Post, post_id)
    if post is None or (post.status == PostStatus.HIDDEN and not hidden_ok):
        raise NotFound(f"Post {post_id} does not exist.", field="post_id")
    return post


def search_posts(
    session: Session,
    *,
    words: str | None = None,
    kind: str | None = None,
    category: str | None = None,
    include_closed: bool = False,
    limit: int = 100,
) -> list[Post]:
    """Return the posts matching every filter, newest first; hidden posts never."""
    query = select(Post).where(Post.status != PostStatus.HIDDEN)
    if not include_closed:
        query = query.where(Post.status == PostStatus.OPEN)
    if kind:
        query = query.where(Post.kind == kind)
    if category:
        query = query.where(Post.category == category.strip().lower())
    for word in (words or "").split()[:5]:
        pattern = f"%{word}%"
        query = query.where(or_(col(Post.title).ilike(pattern), col(Post.text).ilike(pattern)))
    return list(session.exec(query.order_by(col(Post.created_at).desc()).limit(limit)))


def close_post(session: Session, author: Member, post_id: int) -> Post:
    """Close one's own post (it stays in the records); closing twice changes nothing."""
    post = get_post(session, post_id)
    if post.author_id != author.id:
        raise RuleViolation(f"Post {post_id} is not yours to close.", field="post_id")
    post.status = PostStatus.CLOSED
    session.add(post)
    return post


def hide_post(session: Session, actor: Actor, post_id: int, reason: str) -> Post:
    """Hide a post that breaks the network's rules, saying which; stewards only, audited."""
    require_role(actor, Role.STEWARD, "hide a post")
    post = get_post(session, post_id, hidden_ok=True)
    with audit.audited(session, actor, POST_HIDE, post, f"post:{post.id}"):
        post.status, post.hidden_by = PostStatus.HIDDEN, actor.id
        post.hidden_reason = clean_text(reason, "reason", limit=REASON_MAX)
        session.add(post)
    return post


def show_post(session: Session, actor: Actor, post_id: int) -> Post:
    """Show a hidden post again (it reopens); stewards only, audited."""
    require_role(actor, Role.STEWARD, "show a hidden post")
    post = get_post(session, post_id, hidden_ok=True)
    with audit.audited(session, actor, POST_SHOW, post, f"post:{post.id}"):
        post.status, post.hidden_by, post.hidden_reason = PostStatus.OPEN, None, None
        session.add(post)
    return post


# --- answers ---------------------------------------------------------------------------------


def answer_post(session: Session, member: Member, post_id: int, note: str) -> Answer:
    """Answer another member's open post; answering twice keeps the first answer's note."""
    require_active(member)
    post = get_post(session, post_id)
    if post.author_id == member.id:
        raise RuleViolation("You cannot answer your own post.", field="post_id")
    if post.status != PostStatus.OPEN:
        raise Conflict(f"Post {post_id} is closed.", field="post_id")
    existing = session.exec(
        select(Answer).where(Answer.post_id == post_id, Answer.member_id == member.id)
    ).first()
    if existing is not None:
        return existing
    assert member.id is not None
    answer = Answer(
        post_id=post_id, member_id=member.id, note=clean_text(note, "note", limit=NOTE_MAX)
    )
    session.add(answer)
    session.flush()
    return answer


def answers_to(session: Session, post_id: int) -> list[Answer]:
    """Return the answers to a post, oldest first."""
    return list(session.exec(select(Answer).where(Answer.post_id == post_id).order_by(Answer.id)))


def has_answered(session: Session, post_id: int, member_id: int) -> bool:
    """Tell whether member ``member_id`` answered post ``post_id``."""
    query = select(Answer.id).where(Answer.post_id == post_id, Answer.member_id == member_id)
    return session.exec(query).first() is not None
