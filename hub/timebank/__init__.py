"""Hours for care of the commons, kept in an open double-entry ledger.

- ``ledger``      accounts, transfers and their two entries; balances; credit limits
- ``claims``      repair claims, their approval or refusal, trusted fixers
- ``statements``  the ledger read for people: statements, CSV, the open ledger view
- ``gifts``       a member gives hours to another, idempotent by a key the door chooses
- ``stewarding``  what stewards do: decide claims, trust fixers, reverse transfers, set credit
                  limits, enter transfers between members (role-checked, each audited)
"""
