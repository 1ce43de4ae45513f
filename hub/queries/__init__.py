"""The one read model: what the steward pages, the API, the CLI and the open records show.

Nothing here writes. Each function answers one question, in as few queries as it can, and
returns typed rows (frozen dataclasses or named tuples) that every door renders alike. The
domain rooms never import this package; what their own rules need to read stays with them.

The modules, each with one reason to change:

- ``loans``        what is out, what is overdue, a member's loans, a tool's loan history
- ``tools``        the tool board by kiosk and locker, a tool's home, tools out of service
- ``maintenance``  live tickets, a tool's tickets, preventive plans and what is due
- ``claims``       repair credit claims: awaiting a steward, decided, one member's
- ``members``      finding members (name, number, card), the trainings they hold, names for ids
- ``search``       the steward's header search: members and tools at once
- ``bookings``     machine bookings: today's, a machine's upcoming, a range of days
- ``fleet``        each kiosk's health, refused cards, dead letters
- ``sites``        each site's link, kiosks, who may borrow there; loans a site did not allow
- ``ingest``       whether the MQTT ingest runs, judged from its heartbeat rows
- ``front``        the front page, "what needs me": its panels and their change signature
- ``charts``       the report series: per week or month, and the most borrowed or broken
- ``reports``      the reports for the network or one site, and the sites side by side
- ``mine``         one member's own: loans out (with renewal verdicts), loans past, hours
"""
