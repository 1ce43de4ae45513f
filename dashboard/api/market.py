"""The market and the network's decisions as JSON (/api/v1/market/..., /api/v1/proposals/...).

Any member's session or API token opens it (``dashboard.me.access.member_api_required``): one
posts, answers, confirms hours and votes as oneself. Hiding a post, adding a category and
executing a passed spend are for stewards: the hub's services refuse anyone else (403). The
open records of the market need no sign-in.
"""

from __future__ import annotations

from sqlmodel import Session

from dashboard.auth import acting_member
from dashboard.database import reading, transaction
from dashboard.me.access import me, member_api_required
from hub.inventory import registry
from hub.market import asks, exchanges, posts, proposals, skills
from hub.members.roster import Member

from .blueprint import api
from .market_schemas import (
    AnswerIn,
    AnswerOut,
    AskIn,
    AskOut,
    Categories,
    CategoryIn,
    CategoryOut,
    ClaimIn,
    ExchangeOut,
    FixerList,
    FixerOut,
    GiveIn,
    HideIn,
    PostDetail,
    PostIn,
    PostList,
    PostOut,
    PostSearch,
    ProposalDetail,
    ProposalIn,
    ProposalList,
    ProposalOut,
    RemarkIn,
    SkillsIn,
    SkillsOut,
    VoteIn,
    VoteOut,
)

POST = "<int(min=1, max=2147483647):post_id>"
EXCHANGE = "<int(min=1, max=2147483647):exchange_id>"
PROPOSAL = "<int(min=1, max=2147483647):proposal_id>"
TOOL = "<int(min=1, max=2147483647):tool_id>"
MEMBERS = {"tag": "market", "guard": member_api_required}


# --- posts ---------------------------------------------------------------------------------


@api.operation("GET", "/market/posts", query=PostSearch, response=PostList, **MEMBERS)
def list_posts(query: PostSearch) -> PostList:
    """Find open offers and requests by words, kind and category, newest first."""
    with reading() as db:
        found = posts.search_posts(db, words=query.q, kind=query.kind, category=query.category)
        return PostList(posts=[_post_out(db, post) for post in found])


@api.operation(
    "POST", "/market/posts", body=PostIn, response=PostOut, status=201, refusals=(404,), **MEMBERS
)
def add_post(body: PostIn) -> PostOut:
    """Post an offer ("I can sharpen blades") or a request ("help with a lawnmower")."""
    with transaction() as db:
        post = posts.add_post(db, me(), **body.model_dump())
        return _post_out(db, post)


@api.operation("GET", f"/market/posts/{POST}", response=PostDetail, **MEMBERS)
def show_post(post_id: int) -> PostDetail:
    """Show a post and who answered it."""
    with reading() as db:
        post = posts.get_post(db, post_id)
        answers = [_answer_out(db, a) for a in posts.answers_to(db, post_id)]
        return PostDetail(**_post_out(db, post).model_dump(), answers=answers)


@api.operation(
    "POST",
    f"/market/posts/{POST}/answers",
    body=AnswerIn,
    response=AnswerOut,
    status=201,
    refusals=(409,),
    **MEMBERS,
)
def answer_post(post_id: int, body: AnswerIn) -> AnswerOut:
    """Answer another member's open post (answering twice keeps the first answer)."""
    with transaction() as db:
        return _answer_out(db, posts.answer_post(db, me(), post_id, body.note))


@api.operation("POST", f"/market/posts/{POST}/close", body=RemarkIn, response=PostOut, **MEMBERS)
def close_post(post_id: int, body: RemarkIn) -> PostOut:
    """Close my own post; it stays in the records."""
    with transaction() as db:
        return _post_out(db, posts.close_post(db, me(), post_id))


@api.operation("POST", f"/market/posts/{POST}/hide", body=HideIn, response=PostOut, **MEMBERS)
def hide_post(post_id: int, body: HideIn) -> PostOut:
    """Hide a post that breaks the network's rules (stewards only; audited)."""
    with transaction() as db:
        return _post_out(db, posts.hide_post(db, me(), post_id, body.reason))


# --- hours ---------------------------------------------------------------------------------


@api.operation(
    "POST",
    f"/market/posts/{POST}/claims",
    body=ClaimIn,
    response=ExchangeOut,
    status=201,
    **MEMBERS,
)
def claim_hours(post_id: int, body: ClaimIn) -> ExchangeOut:
    """Claim hours for a service I gave through this post; its receiver confirms them."""
    with transaction() as db:
        done = exchanges.claim_hours(db, me(), post_id, **body.model_dump())
        return _exchange_out(db, done)


@api.operation(
    "POST",
    f"/market/posts/{POST}/gifts",
    body=GiveIn,
    response=ExchangeOut,
    status=201,
    **MEMBERS,
)
def give_hours(post_id: int, body: GiveIn) -> ExchangeOut:
    """Pay, as the one who received the service, its giver: the hours move at once."""
    with transaction() as db:
        done = exchanges.give_hours(db, me(), post_id, **body.model_dump())
        return _exchange_out(db, done)


@api.operation(
    "POST",
    f"/market/exchanges/{EXCHANGE}/confirm",
    body=RemarkIn,
    response=ExchangeOut,
    refusals=(409,),
    **MEMBERS,
)
def confirm_hours(exchange_id: int, body: RemarkIn) -> ExchangeOut:
    """Confirm hours a giver claimed from me: the ledger moves them, once."""
    with transaction() as db:
        return _exchange_out(db, exchanges.confirm_hours(db, me(), exchange_id))


# --- categories and skills -----------------------------------------------------------------


@api.operation("GET", "/market/categories", response=Categories, **MEMBERS)
def list_categories() -> Categories:
    """List the categories of service."""
    with reading() as db:
        rows = posts.categories(db)
    return Categories(categories=[CategoryOut(slug=c.slug, name=c.name) for c in rows])


@api.operation(
    "POST",
    "/market/categories",
    body=CategoryIn,
    response=CategoryOut,
    status=201,
    refusals=(409,),
    **MEMBERS,
)
def add_category(body: CategoryIn) -> CategoryOut:
    """Add a category of service (stewards only; audited)."""
    with transaction() as db:
        added = posts.add_category(db, me(), body.slug, body.name)
        return CategoryOut(slug=added.slug, name=added.name)


@api.operation("GET", "/me/skills", response=SkillsOut, **MEMBERS)
def show_my_skills() -> SkillsOut:
    """Show the skills I listed."""
    with reading() as db:
        return SkillsOut(skills=skills.skills_of(db, me().id or 0))


@api.operation("PUT", "/me/skills", body=SkillsIn, response=SkillsOut, **MEMBERS)
def set_my_skills(body: SkillsIn) -> SkillsOut:
    """Make my skills exactly these tags."""
    with transaction() as db:
        return SkillsOut(skills=skills.set_skills(db, me(), body.skills))


# --- proposals -----------------------------------------------------------------------------


@api.operation("GET", "/proposals", response=ProposalList, **MEMBERS)
def list_proposals() -> ProposalList:
    """List the proposals, open ones first, with their votes counted."""
    with reading() as db:
        return ProposalList(proposals=[_proposal_out(db, p) for p in proposals.proposals(db)])


@api.operation(
    "POST",
    "/proposals",
    body=ProposalIn,
    response=ProposalOut,
    status=201,
    refusals=(404,),
    **MEMBERS,
)
def propose(body: ProposalIn) -> ProposalOut:
    """Put a proposal to the network; a spend of pooled hours names who receives them."""
    with transaction() as db:
        return _proposal_out(db, proposals.propose(db, me(), **body.model_dump()))


@api.operation("GET", f"/proposals/{PROPOSAL}", response=ProposalDetail, **MEMBERS)
def show_proposal(proposal_id: int) -> ProposalDetail:
    """Show a proposal, its rule, and who voted how."""
    with reading() as db:
        proposal = proposals.get_proposal(db, proposal_id)
        votes = [_vote_out(db, v) for v in proposals.votes_on(db, proposal_id)]
        return ProposalDetail(**_proposal_out(db, proposal).model_dump(), votes=votes)


@api.operation(
    "POST",
    f"/proposals/{PROPOSAL}/votes",
    body=VoteIn,
    response=VoteOut,
    status=201,
    refusals=(409,),
    **MEMBERS,
)
def vote(proposal_id: int, body: VoteIn) -> VoteOut:
    """Cast or change my vote while the proposal is open; a block says why."""
    with transaction() as db:
        return _vote_out(db, proposals.vote(db, me(), proposal_id, body.choice, body.reason))


@api.operation(
    "POST",
    f"/proposals/{PROPOSAL}/execute",
    body=RemarkIn,
    response=ProposalOut,
    refusals=(409,),
    **MEMBERS,
)
def execute_spend(proposal_id: int, body: RemarkIn) -> ProposalOut:
    """Pay a passed proposal's hours from the community account (stewards only; audited)."""
    with transaction() as db:
        return _proposal_out(db, proposals.execute_spend(db, me(), proposal_id))


# --- who might fix a broken tool (stewards) ---------------------------------------------------


@api.operation("GET", f"/tools/{TOOL}/fixers", response=FixerList, tag="market")
def list_fixers(tool_id: int) -> FixerList:
    """Suggest members who might fix the tool: matching skills, then past repairs."""
    with reading() as db:
        tool = registry.get_tool(db, tool_id)
        suggested = skills.suggest_fixers(db, tool_id, limit=10)
    return FixerList(
        tool_code=tool.code,
        tool_status=tool.status,
        fixers=[
            FixerOut(number=s.member.number, name=s.member.name, reasons=s.reasons)
            for s in suggested
        ],
    )


@api.operation("POST", f"/tools/{TOOL}/fixers/ask", body=AskIn, response=AskOut, tag="market")
def ask_fixers(tool_id: int, body: AskIn) -> AskOut:
    """Ask these members by email to help fix an out-of-service tool (audited)."""
    with transaction() as db:
        return AskOut(mailed=asks.ask_fixers(db, acting_member(), tool_id, body.members))


# --- shapes ----------------------------------------------------------------------------------


def _who(db: Session, member_id: int) -> Member:
    member = db.get(Member, member_id)
    assert member is not None
    return member


def _post_out(db: Session, post: posts.Post) -> PostOut:
    author = _who(db, post.author_id)
    return PostOut(
        id=post.id or 0,
        kind=post.kind,
        category=post.category,
        title=post.title,
        text=post.text,
        where_when=post.where_when,
        tool_id=post.tool_id,
        status=post.status,
        author_number=author.number,
        author_first_name=author.name.split()[0],
        created_at=post.created_at,
    )


def _answer_out(db: Session, answer: posts.Answer) -> AnswerOut:
    member = _who(db, answer.member_id)
    return AnswerOut(
        id=answer.id or 0,
        member_number=member.number,
        member_first_name=member.name.split()[0],
        note=answer.note,
        created_at=answer.created_at,
    )


def _exchange_out(db: Session, done: exchanges.Exchange) -> ExchangeOut:
    return ExchangeOut(
        id=done.id or 0,
        post_id=done.post_id,
        giver_number=_who(db, done.giver_id).number,
        receiver_number=_who(db, done.receiver_id).number,
        hours=done.hours,
        status=done.status,
        transfer_id=done.transfer_id,
    )


def _vote_out(db: Session, cast: proposals.Vote) -> VoteOut:
    member = _who(db, cast.member_id)
    return VoteOut(
        member_number=member.number,
        member_first_name=member.name.split()[0],
        choice=cast.choice,
        reason=cast.reason,
        cast_at=cast.cast_at,
    )


def _proposal_out(db: Session, proposal: proposals.Proposal) -> ProposalOut:
    counted = proposals.tally(db, proposal)
    payee = _who(db, proposal.payee_id).number if proposal.payee_id else None
    return ProposalOut(
        id=proposal.id or 0,
        title=proposal.title,
        text=proposal.text,
        rule=proposal.rule,
        quorum=proposal.quorum,
        cost_hours=proposal.cost_hours,
        payee_number=payee,
        opened_at=proposal.opened_at,
        closes_at=proposal.closes_at,
        outcome=proposal.outcome,
        outcome_note=proposal.outcome_note,
        yes=counted.yes,
        no=counted.no,
        block=counted.block,
        passes_now=counted.passes,
        executed=proposal.transfer_id is not None,
    )
