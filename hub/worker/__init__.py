"""The hub's MQTT side: what kiosks send in, and what they are sent.

- ``loop``       the worker: MQTT connection, queues, supervised loops
- ``events``     kiosk events applied to the records, each exactly once
- ``inbox``      the event inbox (ids seen) and the dead letters
- ``answers``    answers to what a kiosk cannot decide alone (member, tool, balance)
- ``snapshots``  what each kiosk needs to decide alone: allow-list and configuration
"""
