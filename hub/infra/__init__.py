"""What every room stands on; nothing here knows the domain.

- ``db``          engines and transactions (SQLite WAL by default, PostgreSQL by URL)
- ``rows``        rows looked up once per transaction: by a unique key, or a batch at a time
- ``clock``       time as the hub records it: timezone-aware UTC
- ``wallclock``   time as people at the site read it: the site's time zone, the year when due
- ``settings``    where the hub keeps its data and the site's time zone, from the environment
- ``migrate``     Alembic migrations (``migrations/``)
- ``schema``      every table gathered into one metadata
- ``sync``        the sync version kiosks follow
- ``audit``       the audit log: who did what to which record
- ``hashing``     the one argon2 hasher for passwords and PINs (tests swap it, nothing else)
- ``throttles``   growing delays after repeated failures, by scope and key, in the database
- ``security_log`` sign-ins, refusals and throttles as structured log lines and rows
- ``csv_cells``   the one CSV writer of every export, which defuses spreadsheet formulas
"""
