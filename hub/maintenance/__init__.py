"""Care for the tools, each module with one reason to change.

- ``models``    the tables: tickets, repair logs, preventive plans, service records
- ``tickets``   open, start, resolve, give up; a blocking ticket keeps its tool out of service
- ``returns``   a return with its one question answered (OK, or needs repair)
- ``repairs``   who fixed which tool, for how long, closing which ticket
- ``plans``     preventive plans falling due by loans, days or hours of use; service records
- ``history``   a tool's life story: loans, tickets, repairs, services
- ``stewarding`` what stewards do: plans, services, tickets (role-checked, each audited)

Credit for repairs (claims, approvals, the ledger) lives in :mod:`hub.timebank`.
"""
