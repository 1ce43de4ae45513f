"""Loans: a tool goes out to a member and comes back; this room owns the whole lifecycle.

- ``records``      the tables (loans, returns waiting for their loan) and reads of them
- ``lending``      lend on the hub, every rule of the commons checked first
- ``returning``    close a loan with its condition; never before it began (the clamp rule)
- ``kiosk``        loans and returns kiosks report: paired by seq, conflicts, never rewritten
- ``corrections``  a steward ends a loan or resolves a conflict, with a reason, audited
- ``renewals``     a member renews their own loan when the rules allow (``may_renew``), audited
- ``holds``        members queue for a tool; the first in line gets it kept when it is back
- ``policy``       the borrowing policy stewards set: loans at once, overdue pause, lengths
"""
