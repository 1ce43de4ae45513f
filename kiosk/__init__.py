"""The kiosk: a Raspberry Pi that opens tool lockers for member cards, alone if need be.

    config.py      read the kiosk's TOML file (kiosk/default.toml is the template)
    storage.py     open the kiosk's SQLite files (WAL, synchronous FULL)
    allowlist.py   the hub's latest allow-list and configuration, kept on disk
    lockers.py     the kiosk's own view of its lockers: which tool is in, which is out
    decision.py    may this card do that? (the refusal reasons of the wire protocol)
    session.py     the state machine of one member at the screen
    outbox.py      durable events, kept until the hub acknowledges them
    link.py        the MQTT link: sends the outbox, receives acks, allow-lists, configs
    station.py     assemble all of it around one worker thread
    supervisor.py  keep the loops alive: log, back off, retry; give up after N failures in a row
    watchdog.py    sd_notify READY and the systemd watchdog heartbeat, only while loops progress
    health.py      what the kiosk's status says of its reader, errors and lock safety
    selftest.py    ``commonshed kiosk selftest``: commission a kiosk part by part
    screen/        the kiosk's touch screen (Flask, served by waitress in this process)
    simulation.py  gpiozero MockFactory pins and a simulated reader, for demos and tests
    cli.py         ``commonshed kiosk run``, ``simulate`` and ``selftest``

The kiosk never imports ``hub``: it knows the hub only through MQTT (``broker``).
"""
