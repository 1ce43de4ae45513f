"""The hub's MQTT side: what kiosks send in, and what they are sent.

The modules, each with one reason to change:

- ``loop``       the MQTT connection and the worker's supervised loops (threads, queues, PUBACKs)
- ``supervisor`` running each loop: log a failure, back off, retry; give up after N in a row
- ``watchdog``   telling systemd the worker is ready and, while its loops come round, alive
- ``heartbeats`` each loop's heartbeat row, for judging the ingest from the web
- ``batches``    a batch of kiosk messages taken in, in one transaction: statuses, events, refusals
- ``events``     kiosk events decoded and dispatched to the rooms that own them, each exactly once
- ``trust``      what a kiosk may not claim: unregistered kiosk, wrong site, steward-only, slots
- ``sequence``   each kiosk's seq order (loan events held across a gap), epochs, clock offset
- ``lookups``    the cards, members and tools a batch names, read at once
- ``inbox``      the event inbox (ids seen) and the dead letters
- ``letters``    a steward settling a dead letter: apply it again, or set it aside with a note
- ``acks``       the form each kiosk's acks travel in: one per event, or batched if it asked
- ``answers``    answers to what a kiosk cannot decide alone (member, tool, balance), and where
- ``snapshots``  what each kiosk needs to decide alone (allow-list, configuration) and publishing it
- ``jobs``       the hub's periodic jobs: booking no-shows, maintenance that fell due, held events

Messages are decoded once, where they enter (``broker.inbound``); the modules here work with
the decoded values.
"""
