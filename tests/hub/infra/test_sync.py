"""The sync version: kiosk-visible changes move it, others do not, and only the hub's sessions."""

from __future__ import annotations

from sqlmodel import Session

from hub.infra.db import reading, transaction
from hub.infra.schema import metadata
from hub.infra.sync import current_version, watched_tables
from hub.members.ranks import OPERATOR
from hub.members.standing import suspend_member
from hub.timebank.ledger import community_account
from tests.hub.builders import a_kiosk, a_member, a_tool

# What kiosks' allow-lists and configurations are built from (hub.worker.snapshots).
# "loan": every open loan is in the allow-list (a conflict changes no tool status, yet must reach
# every kiosk).
KIOSK_VISIBLE = {
    "member",
    "card",
    "training",
    "membertraining",
    "tool",
    "locker",
    "kiosk",
    "loan",
    "hold",  # a ready hold is a reservation in the allow-list
    "borrowing_policy",  # the limits in the allow-list
    "loan_length",  # each locker's loan length in the config
    "site",  # who may borrow at a site: its kiosks' allow-list
    "site_member",  # the members listed at a site
}


def version(engine) -> int:
    with reading(engine) as session:
        return current_version(session)


def test_the_models_declare_the_kiosk_visible_tables():
    assert watched_tables() == KIOSK_VISIBLE
    assert watched_tables() <= set(metadata.tables)


def test_a_kiosk_visible_change_moves_the_version(engine):
    before = version(engine)
    with transaction(engine) as session:
        member = a_member(session, uid="04A1B2C3")
    after_enrolment = version(engine)
    assert after_enrolment > before
    with transaction(engine) as session:
        suspend_member(session, OPERATOR, member.id, reason="test")
    assert version(engine) > after_enrolment


def test_a_change_kiosks_do_not_see_leaves_the_version(engine):
    with transaction(engine) as session:
        a_kiosk(session)
        a_tool(session)
    before = version(engine)
    with transaction(engine) as session:
        community_account(session)  # a ledger row: no kiosk reads it
    assert version(engine) == before


def test_a_session_that_is_not_the_hubs_does_not_bump(engine):
    before = version(engine)
    with Session(engine) as session, session.begin():
        a_member(session, name="Grace Hopper", uid="04D1E2F3")
    assert version(engine) == before


def test_the_version_moves_once_per_transaction_and_a_rolled_back_savepoint_takes_its_move(
    engine,
):
    before = version(engine)
    with transaction(engine) as session:
        for n in range(3):
            a_member(session, f"Member {n}", uid=f"0A0B0C0{n}")
            session.flush()
    assert version(engine) == before + 1
    with transaction(engine) as session:
        try:
            with session.begin_nested():
                a_member(session, "Refused", uid="0A0B0C09")
                session.flush()  # a move, rolled back with the savepoint
                raise RuntimeError("refused")
        except RuntimeError:
            pass
        a_member(session, "Kept", uid="0A0B0C08")
    assert version(engine) == before + 2


def test_a_snapshot_reading_sees_no_change_committed_while_it_reads(engine):
    """An allow-list carries the sync version beside its content: both must come from one
    snapshot, or a suspension committed between the two reads goes out under the new version
    with the old content, and kiosks refuse the corrected list as "not newer"."""
    from hub.infra.db import snapshot_reading
    from hub.members.roster import Member

    with transaction(engine) as session:
        ada = a_member(session, "Ada Lovelace", uid="0A0B0C0D")
    with snapshot_reading(engine) as snapshot:
        version = current_version(snapshot)
        assert snapshot.get(Member, ada.id).status == "active"
        with transaction(engine) as session:  # meanwhile, a steward suspends Ada
            suspend_member(session, OPERATOR, ada.id, "tools not returned")
        snapshot.expire_all()
        assert current_version(snapshot) == version
        assert snapshot.get(Member, ada.id).status == "active"
    with reading(engine) as session:
        assert current_version(session) > version
        assert session.get(Member, ada.id).status == "suspended"
