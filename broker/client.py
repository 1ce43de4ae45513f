"""Paho clients as Commonshed uses them: MQTT v5, callback API 2, TCP_NODELAY on the socket.

Callbacks run on paho's network thread: do no blocking work there, hand messages to a queue.
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

DEFAULT_KEEPALIVE = 30


class ConnectRefused(ConnectionError):
    """The broker answered CONNECT with a failure reason code."""

    def __init__(self, reason_code: ReasonCode) -> None:
        super().__init__(f"broker refused the connection: {reason_code} ({reason_code.value})")
        self.reason_code = reason_code


@dataclass(frozen=True)
class Will:
    """The message the broker publishes for a client whose connection drops."""

    topic: str
    payload: bytes
    qos: int = 1
    retain: bool = True


def set_tcp_nodelay(client: mqtt.Client, userdata: Any, sock: Any) -> None:
    """Turn Nagle's algorithm off on a new MQTT socket (an on_socket_open callback).

    NOTE: without it a request/response round trip waits ~40 ms on delayed ACKs each way.
    If you need on_socket_open yourself, call this from yours.
    """
    setsockopt = getattr(sock, "setsockopt", None)  # a websocket wrapper has none
    if setsockopt is not None:
        setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def make_client(
    client_id: str,
    username: str | None,
    password: str | None,
    *,
    host: str,
    port: int,
    clean_start: bool = True,
    session_expiry: int = 0,
    will: Will | None = None,
    keepalive: int = DEFAULT_KEEPALIVE,
    userdata: Any = None,
) -> mqtt.Client:
    """Return an MQTT v5 client set up to connect; start it with loop_start() or loop_forever().

    ``session_expiry`` is in seconds (0: the session ends with the connection); a subscriber
    that must not miss QoS 1 messages while away uses ``clean_start=False`` and a long expiry.
    """
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=MQTTProtocolVersion.MQTTv5,
        userdata=userdata,
    )
    if username is not None:
        client.username_pw_set(username, password)
    if will is not None:
        client.will_set(will.topic, will.payload, qos=will.qos, retain=will.retain)
    client.on_socket_open = set_tcp_nodelay
    client.connect_async(
        host,
        port,
        keepalive,
        clean_start=clean_start,
        properties=connect_properties(session_expiry),
    )
    return client


def connect_properties(session_expiry: int) -> Properties:
    """Return CONNECT properties asking the broker to keep the session ``session_expiry`` s."""
    properties = Properties(PacketTypes.CONNECT)
    properties.SessionExpiryInterval = session_expiry
    return properties


def connect_and_wait(client: mqtt.Client, *, timeout: float = 5.0) -> None:
    """Start ``client``'s network loop and return once the broker accepted it.

    Raise ConnectRefused with the broker's reason code, or TimeoutError; either way the
    loop is stopped again.
    """
    accepted = threading.Event()
    outcome: list[ReasonCode] = []
    previous = client.on_connect

    def on_connect(*args: Any) -> None:
        outcome.append(args[3])
        accepted.set()
        if previous is not None:
            previous(*args)

    client.on_connect = on_connect
    client.loop_start()
    try:
        if not accepted.wait(timeout):
            raise TimeoutError(f"no CONNACK within {timeout} s")
        if outcome[0].is_failure:
            raise ConnectRefused(outcome[0])
    except BaseException:
        client.loop_stop()
        raise
    finally:
        client.on_connect = previous


def subscribe_and_wait(
    client: mqtt.Client, topic_filter: str, *, qos: int = 1, timeout: float = 5.0
) -> ReasonCode:
    """Subscribe and return the broker's granted reason code once SUBACK arrives.

    With the project's broker config a subscription outside the client's role comes back as
    reason code 135 (Not authorized) and is not made (see broker/dynsec.py).
    """
    granted: dict[int, ReasonCode] = {}
    arrived = threading.Condition()
    previous = client.on_subscribe

    def on_subscribe(*args: Any) -> None:
        with arrived:
            granted[args[2]] = args[3][0]
            arrived.notify_all()
        if previous is not None:
            previous(*args)

    client.on_subscribe = on_subscribe
    try:
        result, mid = client.subscribe(topic_filter, qos=qos)
        if result != mqtt.MQTT_ERR_SUCCESS or mid is None:
            raise ConnectionError(f"cannot subscribe to {topic_filter!r}: {result}")
        with arrived:
            if not arrived.wait_for(lambda: mid in granted, timeout):
                raise TimeoutError(f"no SUBACK for {topic_filter!r} within {timeout} s")
        return granted[mid]
    finally:
        client.on_subscribe = previous


def request_properties(response_topic: str, correlation_data: bytes) -> Properties:
    """Return PUBLISH properties of an MQTT v5 request: where to answer and what to quote."""
    properties = Properties(PacketTypes.PUBLISH)
    properties.ResponseTopic = response_topic
    properties.CorrelationData = correlation_data
    return properties


def reply_properties(request: mqtt.MQTTMessage) -> Properties:
    """Return PUBLISH properties of the reply to ``request`` (its correlation data echoed)."""
    properties = Properties(PacketTypes.PUBLISH)
    correlation = getattr(request.properties, "CorrelationData", None)
    if correlation is not None:
        properties.CorrelationData = correlation
    return properties
