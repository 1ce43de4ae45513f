"""broker/PROTOCOL.md: its JSON examples are exactly what the models produce."""

import json
import re

import pytest

from broker.examples import EXAMPLES, PROTOCOL_PATH, examples_shown, render_examples
from broker.messages import DECODERS
from broker.topics import Channel

DOC = PROTOCOL_PATH.read_text(encoding="utf-8")
JSON_BLOCK = re.compile(r"```json\n(.*?)```", re.S)


def test_the_document_shows_the_generated_examples():
    assert render_examples(DOC) == DOC, "run: python -m broker.examples --write"


def test_the_document_shows_every_example_once():
    assert sorted(examples_shown(DOC)) == sorted(EXAMPLES)


def test_every_json_block_is_a_marked_example():
    assert len(JSON_BLOCK.findall(DOC)) == len(examples_shown(DOC))


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
