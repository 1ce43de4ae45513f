"""Sign-in throttles that slow an attacker down without locking the victim out.

Three counts, each with growing delays rather than a hard lock (see README, "Security"):

- per address (``signin.address``): one address failing against any accounts;
- per account and address (``signin.pair``): one address failing against one account;
- per account (``signin.account``): failures against one account from anywhere, which only
  slows addresses that never signed in to that account, and only while the account is
  **under attack**: wrong passwords from ``ATTACK_ADDRESSES`` or more distinct addresses within
  ``ATTACK_WINDOW``. A single attacker therefore only ever slows themselves: the steward's
  correct password from a fresh address still works. A distributed attack slows fresh
  addresses too, but never an address the steward has signed in from before.

Every attempt is written to the security log (``hub.infra.security_log``) in the caller's
transaction, which the caller commits whatever the outcome.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from hub.errors import DomainError, Throttled
from hub.infra import security_log, throttles
from hub.infra.clock import as_utc, utcnow
from hub.infra.throttles import Policy
from hub.members import credentials
from hub.members.roster import Member

ADDRESS = Policy(20, timedelta(seconds=1), timedelta(minutes=15), timedelta(hours=1))
PAIR = Policy(5, timedelta(seconds=2), timedelta(minutes=15), timedelta(hours=1))
ACCOUNT = Policy(10, timedelta(seconds=2), timedelta(minutes=15), timedelta(hours=1))
ATTACK_ADDRESSES = 5
ATTACK_WINDOW = timedelta(hours=1)
KNOWN_ADDRESS_FOR = timedelta(days=90)


@dataclass(frozen=True)
class SignInAttempt:
    """What a sign-in came to: the member, or the refusal to show (never both)."""

    member: Member | None = None
    refusal: DomainError | None = None


def sign_in(
    session: Session, number: str, password: str, *, address: str, now: datetime | None = None
) -> SignInAttempt:
    """Check the throttles, then the password; count and log the outcome. Commit it always."""
    now = as_utc(now or utcnow())
    account = account_key(number)
    wait = _wait(session, account, address, now)
    if wait:
        refusal = Throttled(
            f"Too many failed sign-ins; try again in {wait} second(s).", retry_after=wait
        )
        _log(session, "signin.throttled", account, address, now, f"wait {wait}s")
        return SignInAttempt(refusal=refusal)
    try:
        member = credentials.authenticate(session, number, password, now=now)
    except credentials.SignInRefused as refused:
        _count_failure(session, account, address, now, refused.message)
        return SignInAttempt(refusal=refused)
    throttles.succeed(session, "signin.pair", _pair(account, address), now=now)
    _log(session, "signin.ok", account, address, now)
    return SignInAttempt(member=member)


def under_attack(session: Session, account: str, *, now: datetime) -> bool:
    """Tell whether wrong passwords for ``account`` came from many addresses lately."""
    since = now - ATTACK_WINDOW
    spread = throttles.failing_keys(session, "signin.pair", f"{account}|", since=since)
    return spread >= ATTACK_ADDRESSES


def account_key(number: str) -> str:
    """Return the account a sign-in names: its member number, or one bucket for junk."""
    number = str(number).strip()
    return number if number.isdigit() and len(number) <= 12 else "invalid"


def _wait(session: Session, account: str, address: str, now: datetime) -> int:
    """Return the longest wait the throttles impose on this attempt."""
    waits = [
        throttles.wait_seconds(session, "signin.address", address, now=now),
        throttles.wait_seconds(session, "signin.pair", _pair(account, address), now=now),
    ]
    if under_attack(session, account, now=now) and not _known(session, account, address, now):
        waits.append(throttles.wait_seconds(session, "signin.account", account, now=now))
    return max(waits)


def _known(session: Session, account: str, address: str, now: datetime) -> bool:
    """Tell whether ``address`` signed in to ``account`` successfully in the last 90 days."""
    last = throttles.last_success(session, "signin.pair", _pair(account, address))
    return last is not None and now - last <= KNOWN_ADDRESS_FOR


def _count_failure(session: Session, account: str, address: str, now: datetime, why: str) -> None:
    """Count a wrong password on every throttle; log it, and log a new delay as a lock."""
    waits = [
        throttles.fail(session, "signin.address", address, ADDRESS, now=now),
        throttles.fail(session, "signin.pair", _pair(account, address), PAIR, now=now),
        throttles.fail(session, "signin.account", account, ACCOUNT, now=now),
    ]
    _log(session, "signin.failed", account, address, now, why)
    if waits[0] or waits[1]:
        detail = f"address waits {max(waits[:2])}s"
        _log(session, "signin.locked", account, address, now, detail)
    if waits[2] and under_attack(session, account, now=now):
        detail = f"under attack: unknown addresses wait {waits[2]}s"
        _log(session, "signin.locked", account, address, now, detail)


def _pair(account: str, address: str) -> str:
    return f"{account}|{address}"


def _log(
    session: Session, event: str, account: str, address: str, now: datetime, detail: str = ""
) -> None:
    security_log.record(session, event, address=address, subject=account, detail=detail, now=now)
