"""Offers and requests: posting, finding, answering, closing, hiding."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from hub.errors import Conflict, InvalidInput, NotFound, RuleViolation
from hub.infra.audit import AuditEntry
from hub.infra.db import reading, transaction
from hub.market import posts
from hub.members.ranks import NotSteward
from hub.members.roster import get_member


def offer(session, network, **fields):
    values = {
        "kind": "offer",
        "category": "repairs",
        "title": "I can sharpen blades",
        "text": "Saws, chisels, planes. Bring them on Saturdays.",
    } | fields
    return posts.add_post(session, get_member(session, network.ada), **values)


def test_a_post_is_found_by_its_words_kind_and_category_and_hidden_ones_never(network):
    with transaction(network.engine) as session:
        sharpening = offer(session, network, tool_code="DRILL-1")
        lesson = offer(
            session, network, category="lessons", title="Bike repair lessons", text="Tuesdays"
        )
        assert sharpening.tool_id == network.drill
    with reading(network.engine) as session:
        assert [p.id for p in posts.search_posts(session, words="SHARPEN saws")] == [sharpening.id]
        assert [p.id for p in posts.search_posts(session, category="lessons")] == [lesson.id]
        assert posts.search_posts(session, kind="request") == []
    with transaction(network.engine) as session:
        posts.hide_post(session, get_member(session, network.sam), lesson.id, "advertises a shop")
    with reading(network.engine) as session:
        assert [p.id for p in posts.search_posts(session)] == [sharpening.id]
        with pytest.raises(NotFound):
            posts.get_post(session, lesson.id)
        entry = session.exec(select(AuditEntry).where(AuditEntry.action == "post.hide")).one()
        assert entry.actor_member_id == network.sam
        assert json.loads(entry.after)["hidden_reason"] == "advertises a shop"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"kind": "gift"}, "kind"),
        ({"category": "astrology"}, "category"),
        ({"title": "   "}, "title"),
        ({"text": "x" * 2001}, "text"),
        ({"tool_code": "NOPE-1"}, None),
    ],
)
def test_a_bad_post_is_refused_naming_its_field_and_nothing_is_written(network, fields, field):
    with pytest.raises((InvalidInput, NotFound)) as refused, transaction(network.engine) as session:
        offer(session, network, **fields)
    if field:
        assert refused.value.field == field
    with reading(network.engine) as session:
        assert posts.search_posts(session, include_closed=True) == []


def test_answers_are_for_others_open_posts_once_each(network):
    with transaction(network.engine) as session:
        post = offer(session, network)
        bea = get_member(session, network.bea)
        first = posts.answer_post(session, bea, post.id, "My saw is blunt")
        assert posts.answer_post(session, bea, post.id, "again").id == first.id
        with pytest.raises(RuleViolation, match="your own post"):
            posts.answer_post(session, get_member(session, network.ada), post.id, "me")
        posts.close_post(session, get_member(session, network.ada), post.id)
        with pytest.raises(Conflict, match="closed"):
            posts.answer_post(session, get_member(session, network.cy), post.id, "late")
        assert [a.note for a in posts.answers_to(session, post.id)] == ["My saw is blunt"]


def test_only_stewards_hide_posts_and_add_categories(network):
    with transaction(network.engine) as session:
        post = offer(session, network)
        bea = get_member(session, network.bea)
        with pytest.raises(NotSteward):
            posts.hide_post(session, bea, post.id, "I don't like it")
        with pytest.raises(NotSteward):
            posts.add_category(session, bea, "gardening", "Gardening")
        with pytest.raises(InvalidInput) as bad:
            posts.add_category(session, get_member(session, network.sam), "Bad Slug!", "x")
        assert bad.value.field == "slug"
