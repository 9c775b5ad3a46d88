"""grpc.health.v1 by hand: the one request the kit sends and the one field it reads, without a
dependency on protobuf (docs/protocol.md §8.4)."""

from __future__ import annotations

# HealthCheckRequest{service: "plugin"}.
HEALTH_CHECK_PLUGIN = b"\x0a\x06plugin"
SERVING_STATUS = {0: "UNKNOWN", 1: "SERVING", 2: "NOT_SERVING", 3: "SERVICE_UNKNOWN"}


def varint_field(data: bytes, number: int) -> int:
    """The value of varint field `number` of a protobuf message (0 when absent), read by hand."""
    position, value = 0, 0
    while position < len(data):
        key, position = _varint(data, position)
        field, wire_type = key >> 3, key & 7
        if wire_type == 0:
            item, position = _varint(data, position)
            if field == number:
                value = item
        elif wire_type == 2:
            length, position = _varint(data, position)
            position += length
        elif wire_type in (1, 5):
            position += 8 if wire_type == 1 else 4
        else:
            raise ValueError(f"wire type {wire_type} in a HealthCheckResponse")
    return value


def _varint(data: bytes, position: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        if position >= len(data):
            raise ValueError("a truncated varint")
        byte = data[position]
        value |= (byte & 0x7F) << shift
        position += 1
        if not byte & 0x80:
            return value, position
        shift += 7
