"""The wire contract between kiosks and the hub, and the broker that carries it.

- ``topics``: the topic tree (build, parse, hub filters).
- ``messages``: every payload as a strict model; ``encode`` / ``decode_*``.
- ``inbound``: a message as it arrives, topic and payload decoded once into one typed value.
- ``uids``: the one canonical form of a card UID.
- ``client``: paho clients as the project uses them (MQTT v5, TCP_NODELAY).
- ``dynsec``: who may do what (Mosquitto's dynamic-security plugin: roles, its file, its
  control topic).
- ``provision``, ``runner``, ``local``, ``cli``: credentials, config, running Mosquitto.

``PROTOCOL.md`` is the contract for people. This package imports nothing else of ours.
"""
