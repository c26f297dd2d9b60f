"""Refusals of the feedback services: part of the desk's error hierarchy, so pages map them the same way."""

from disputes.exceptions import DisputeError, InvalidInput


class FeedbackRefused(DisputeError):
    """Feedback cannot be left or changed now (not yet open, already given, window passed)."""


__all__ = ["FeedbackRefused", "InvalidInput"]
