"""The hub: the central domain of Commonshed, in rooms named for what they hold.

- ``members/``     who belongs: members, cards, trainings; stewards' passwords and API tokens
- ``inventory/``   what the library holds: kiosks, lockers, tools; the kiosk fleet's health
- ``loans/``       a tool goes out to a member and comes back
- ``maintenance/`` care for the tools: tickets, repairs, returns, preventive plans, history
- ``timebank/``    hours for care of the commons: the double-entry ledger, repair claims,
                   statements
- ``bookings/``    shared machines: rules, slots, bookings, check-in, calendar feeds
- ``queries/``     the one read model: typed rows that the steward pages and the API render
- ``worker/``      the MQTT side: kiosk events applied, requests answered, allow-lists and
                   configs published, the supervised loop
- ``bulk/``        filling a hub at once: CSV import and export, the demo library
- ``infra/``       database, clock, settings, migrations, the sync version, the audit log,
                   the schema
- ``errors.py``    the one family of domain errors every room raises
- ``wire.py``      the wire's rules (``broker``'s validators) for what the hub sends kiosks,
                   as refusals that name the field: kiosk and site ids, codes, names
- ``cli.py``       ``commonshed hub ...``: the command-line door

The domain rooms never import ``queries`` or ``worker``; ``worker`` and ``queries`` build on
the domain; the doors that show records (``cli.py``, ``bulk``'s exports, the dashboard) read
them through ``queries``; ``infra`` builds on nothing of ours.
"""
