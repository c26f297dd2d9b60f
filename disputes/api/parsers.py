"""Request bodies the desk can store: PostgreSQL text holds no NUL character, so a body with
one is refused as invalid input instead of failing in the database."""

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser, MultiPartParser

NUL = "\x00"


def contains_nul(value) -> bool:
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(contains_nul(key) or contains_nul(item) for key, item in value.items())
    if isinstance(value, list | tuple):
        return any(contains_nul(item) for item in value)
    return False


def _refuse_nul(data):
    if contains_nul(data):
        raise ParseError("Text may not contain the NUL character (\\u0000).")
    return data


class StorableJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        return _refuse_nul(super().parse(stream, media_type, parser_context))


class StorableMultiPartParser(MultiPartParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parsed = super().parse(stream, media_type, parser_context)
        _refuse_nul({key: parsed.data.getlist(key) for key in parsed.data})
        return parsed
