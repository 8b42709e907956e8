"""The channel between the parent and a child: plain data only, tensors as safetensors, frames
refused before they are read."""

import json
import socket
import struct
import threading
import time

import pytest
import torch

from grader.intake.submission import parse_submission
from grader.protocol import channel as channel_module
from grader.protocol.channel import (
    MAX_DEPTH,
    Channel,
    ChannelClosed,
    Layer,
    Opaque,
    ProtocolError,
    TooDeep,
    decode,
    encode,
)
from grader.protocol.text import clean


def submission(source: str):
    return parse_submission(source.encode(), "s.py")


# The channel


def roundtrip(value):
    tensors: dict = {}
    return decode(json.loads(json.dumps(encode(value, tensors))), tensors)


def test_values_roundtrip_as_plain_data() -> None:
    value = [1, 2.5, "x", None, True, (1, (2, 3)), {"a": torch.Size([2, 3])}, torch.float64]

    assert roundtrip(value) == value


def test_tensors_roundtrip_through_safetensors_detached_and_contiguous() -> None:
    t = torch.arange(12.0, requires_grad=True).reshape(3, 4).t()

    back = roundtrip(t)

    assert torch.equal(back, t.detach())
    assert not back.requires_grad


def test_a_tensor_subclass_is_described_never_sent() -> None:
    class Sneaky(torch.Tensor):
        pass

    value = roundtrip(torch.zeros(2).as_subclass(Sneaky))

    assert value == Opaque(f"{__name__}.{Sneaky.__qualname__}", tensor_subclass=True)


@pytest.mark.parametrize(
    "data",
    [
        {"$pickle": "gASV"},
        {"$tensor": 3},
        {"a": 1, "b": 2, "c": 3},
        {"$dtype": "Tensor"},
        {"$tuple": 5},
    ],
)
def test_decode_refuses_anything_but_the_documented_forms(data) -> None:
    with pytest.raises(ProtocolError):
        decode(data, {})


def test_oversized_frames_are_refused_before_they_are_read() -> None:
    a, b = socket.socketpair()
    a.sendall(struct.pack(">QQ", 10, 2**40))

    with pytest.raises(ProtocolError, match="frame too large"):
        Channel(b).receive()
    a.close()
    b.close()


def test_a_closed_channel_is_reported() -> None:
    a, b = socket.socketpair()
    a.close()

    with pytest.raises(ChannelClosed):
        Channel(b).receive()


def test_blobs_that_are_not_safetensors_are_refused() -> None:
    a, b = socket.socketpair()
    header = b'{"id": 1}'
    a.sendall(struct.pack(">QQ", len(header), 8) + header + b"\x80\x04K\x01.\x00\x00\x00")

    with pytest.raises(ProtocolError, match="malformed tensors"):
        Channel(b).receive()


def test_layer_specs_roundtrip() -> None:
    spec = Layer("LazyConv2d", (1,), (("kernel_size", 3), ("padding", (1, 2))))

    assert roundtrip(spec) == spec


def nested(depth: int) -> list:
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


def test_a_value_nested_too_deep_is_described_by_its_type_when_sent() -> None:
    value = roundtrip(nested(700))

    for _ in range(MAX_DEPTH):
        [value] = value
    assert value == Opaque(f"list nested more than {MAX_DEPTH} levels deep")


def test_a_value_nested_too_deep_is_refused_when_received() -> None:
    data = json.loads("[" * 100 + "]" * 100)

    with pytest.raises(TooDeep):
        decode(data, {})
    assert decode(json.loads("[" * MAX_DEPTH + "]" * MAX_DEPTH), {}) == nested(MAX_DEPTH - 1)


def test_strings_received_are_valid_unicode() -> None:
    back = decode(json.loads(json.dumps({"$dict": [["k\ud800", "v\udfff"]]})), {})

    [(key, value)] = back.items()
    assert (key, value) == ("k\ufffd", "v\ufffd")
    json.dumps(back, ensure_ascii=False).encode("utf-8")


@pytest.mark.parametrize(
    ("text", "cleaned"),
    [
        ("plain", "plain"),
        ("caf\u00e9 \u2713", "caf\u00e9 \u2713"),
        ("lone \ud800 high", "lone \ufffd high"),
        ("lone \udc00 low", "lone \ufffd low"),
        ("pair \ud83d\ude00", "pair \U0001f600"),
    ],
)
def test_clean_replaces_lone_surrogates_only(text: str, cleaned: str) -> None:
    assert clean(text) == cleaned


def test_clean_cuts_long_text_and_says_how_much() -> None:
    assert clean("x" * 30, 10) == "x" * 10 + "... [20 more characters]"


def test_a_header_of_too_many_values_is_refused_before_it_is_parsed(monkeypatch) -> None:
    monkeypatch.setattr(channel_module, "MAX_HEADER_VALUES", 1000)
    parsed = []
    monkeypatch.setattr(channel_module.json, "loads", lambda text: parsed.append(text))
    a, b = socket.socketpair()
    header = b"[" + b"[]," * 1000 + b"[]]"
    a.sendall(struct.pack(">QQ", len(header), 0) + header)

    with pytest.raises(ProtocolError, match="more than 1,000 values"):
        Channel(b).receive()
    assert parsed == []
    a.close()
    b.close()


def test_one_deadline_covers_a_whole_answer_however_it_drips() -> None:
    """A child that sends a byte at a time, each well within the limit, is stopped at the deadline."""
    a, b = socket.socketpair()
    stop = threading.Event()

    def drip() -> None:
        for _ in range(40):  # bounded: 40 bytes over at most 2 s
            if stop.is_set():
                return
            a.send(b"\x00")
            time.sleep(0.05)

    dripper = threading.Thread(target=drip, daemon=True)
    dripper.start()
    started = time.monotonic()
    try:
        with pytest.raises(TimeoutError):
            Channel(b).answer(deadline=started + 0.3)
    finally:
        stop.set()
        dripper.join(timeout=5)
        a.close()
        b.close()
