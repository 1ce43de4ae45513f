"""The hub's MQTT side: what kiosks send in, and what they are sent.

The modules, each with one reason to change:

- ``loop``       the MQTT connection and the worker's supervised loops (threads, queues, PUBACKs)
- ``batches``    a batch of kiosk messages taken in, in one transaction: statuses, events, refusals
- ``events``     kiosk events applied to the records, each exactly once
- ``lookups``    the cards, members and tools a batch names, read at once
- ``inbox``      the event inbox (ids seen) and the dead letters
- ``acks``       the form each kiosk's acks travel in: one per event, or batched if it asked
- ``answers``    answers to what a kiosk cannot decide alone (member, tool, balance), and where
- ``snapshots``  what each kiosk needs to decide alone (allow-list, configuration) and publishing it
- ``jobs``       the hub's periodic jobs: booking no-shows, maintenance that fell due

Messages are decoded once, where they enter (``broker.inbound``); the modules here work with
the decoded values.
"""
