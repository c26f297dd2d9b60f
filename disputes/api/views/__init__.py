"""The API's operations: one class each, with its input (and any output of its own) nested.

Each parses input, makes one service or selector call, and renders; the services hold every
rule and refusal, and `disputes.api.exceptions` turns those into answers. Where two operations
share a URL (GET and POST on /cases/), the URL's class is made of the two operation classes.
By resource: `orders`, `cases`, `conversation` (messages, evidence); `common` holds what they share.
"""
