"""The event store's JSON, written and read with orjson.

The stored format is exactly the library's `JSONTranscoder` format (custom types as
`{"_type_": ..., "_data_": ...}`), so either transcoder reads what the other wrote; only the
work is done in orjson, which is several times faster per event. That matters where events
are written and read by the thousand: an import batch, the customer list, the relay.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import JSONTranscoder

_OPTIONS = (
    orjson.OPT_PASSTHROUGH_DATETIME  # datetimes as the library writes them (`datetime_iso`)
    | orjson.OPT_PASSTHROUGH_SUBCLASS
    | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_NON_STR_KEYS
)


_PLAIN = (str, int, float, bool, type(None))
# Every digit becomes "0" and everything else a space: a run of 19 digits is then a plain
# substring search (a regular expression would cost more than the whole orjson parse).
_DIGITS_AS_ZERO = bytes(48 if 48 <= byte <= 57 else 32 for byte in range(256))
_LONG_RUN = b"0" * 19


def _long_number(data: bytes) -> bool:
    """Whether `data` may hold an integer beyond 64 bits (it has a run of 19 digits)."""
    return _LONG_RUN in data.translate(_DIGITS_AS_ZERO)


def _has_uuid(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is dict:
            stack.extend(item.values())
        elif kind is list or kind is tuple:
            stack.extend(item)
        elif kind is UUID:
            return True
    return False


class FastJSONTranscoder(JSONTranscoder):
    """`JSONTranscoder`'s format through orjson."""

    def encode(self, obj: Any) -> bytes:
        # orjson writes a UUID as a plain string, where the library keeps its type: state
        # holding a UUID anywhere (or a number orjson cannot hold) goes the library's way.
        if _has_uuid(obj):
            return super().encode(obj)
        try:
            return orjson.dumps(obj, default=self._encode_obj, option=_OPTIONS)
        except orjson.JSONEncodeError:
            return super().encode(obj)

    def decode(self, data: bytes) -> Any:
        if _long_number(data):
            # orjson reads an integer beyond 64 bits as a float: the library's way keeps it.
            return super().decode(data)
        value = orjson.loads(data)
        typed = data.count(b'"_type_"')
        if not typed:
            return value
        if type(value) is dict:
            # Most often the only custom value is an event's own timestamp, at the top.
            for key, item in value.items():
                if (
                    type(item) is dict
                    and len(item) == 2
                    and "_type_" in item
                    and type(item.get("_data_")) in _PLAIN
                ):
                    value[key] = self._decode_obj(item)
                    typed -= 1
            if not typed:
                return value
        return self._revive(value)

    def _revive(self, value: Any) -> Any:
        """Custom types back from their `_type_`/`_data_` form, innermost first (as the
        library's object hook does)."""
        if type(value) is dict:
            for key, item in value.items():
                if type(item) is dict or type(item) is list:
                    value[key] = self._revive(item)
            if len(value) == 2 and "_type_" in value and "_data_" in value:
                return self._decode_obj(value)
            return value
        if type(value) is list:
            return [
                self._revive(item) if type(item) is dict or type(item) is list else item
                for item in value
            ]
        return value
