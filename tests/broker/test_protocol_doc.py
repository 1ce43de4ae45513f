"""broker/PROTOCOL.md: its JSON examples are exactly what the models produce."""

import json
import re

import pytest

from broker.examples import (
    EXAMPLES,
    PROTOCOL_PATH,
    examples_shown,
    render_examples,
    schemas_shown,
)
from broker.messages import DECODERS, ERROR_CODES, REQUEST_CLASSES, RESPONSE_DATA
from broker.topics import Channel

DOC = PROTOCOL_PATH.read_text(encoding="utf-8")
JSON_BLOCK = re.compile(r"```json\n(.*?)```", re.S)


def test_the_document_shows_the_generated_examples():
    assert render_examples(DOC) == DOC, "run: python -m broker.examples --write"


def test_the_document_shows_every_example_once():
    assert sorted(examples_shown(DOC)) == sorted(EXAMPLES)


def test_every_json_block_is_a_marked_example_or_schema():
    assert len(JSON_BLOCK.findall(DOC)) == len(examples_shown(DOC)) + len(schemas_shown(DOC))


def test_the_document_shows_the_response_schema_of_every_request_kind():
    kinds = [cls.model_fields["kind"].default for cls in REQUEST_CLASSES]
    assert sorted(schemas_shown(DOC)) == sorted(kinds) == sorted(RESPONSE_DATA)


def test_the_document_lists_every_error_code():
    table = DOC.split("| `error.code`", 1)[1].split("\n\n", 1)[0]
    assert sorted(re.findall(r"^\| `([a-z_]+)`", table, re.M)) == sorted(ERROR_CODES)


@pytest.mark.parametrize("name", [n for n in sorted(EXAMPLES) if n.startswith("response_")])
def test_every_ok_response_example_has_its_kinds_data_shape(name):
    response = EXAMPLES[name]
    if response.ok:
        request = next(
            m for m in EXAMPLES.values() if getattr(m, "request_id", None) == response.request_id
        )
        RESPONSE_DATA[request.kind].model_validate_json(json.dumps(response.data))
    else:
        assert response.error.code in ERROR_CODES


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_every_example_in_the_document_decodes_with_its_model(name):
    block = DOC.split(f"<!-- example: {name} -->\n```json\n", 1)[1].split("```", 1)[0]
    message = EXAMPLES[name]
    assert DECODERS[message.channel](json.dumps(json.loads(block)).encode()) == message


def test_the_document_names_every_channel_and_its_decoder():
    for channel in Channel:
        assert f"`{channel.value}`" in DOC
    for decoder in DECODERS.values():
        assert decoder.__name__ in DOC


def test_the_document_states_the_protocol_version_of_the_code():
    from broker.messages import PROTOCOL_VERSION

    assert DOC.startswith(f"# Commonshed MQTT protocol, v{PROTOCOL_VERSION}\n")
