"""What a buyer complains about, what they ask for, and how a case can end."""

from django.db import models


class Reason(models.TextChoices):
    NOT_RECEIVED = "not_received", "Item not received"
    NOT_AS_DESCRIBED = "not_as_described", "Item not as described"
    DAMAGED = "damaged", "Item arrived damaged"
    WRONG_ITEM = "wrong_item", "Wrong item sent"
    CHANGE_OF_MIND = "change_of_mind", "Return: changed my mind"
    BILLING = "billing", "Billing problem"
    OTHER = "other", "Something else"


class Remedy(models.TextChoices):
    """What a buyer asks for, and what a seller or agent offers."""

    FULL_REFUND = "full_refund", "Full refund"
    PARTIAL_REFUND = "partial_refund", "Partial refund"
    RETURN_AND_REFUND = "return_and_refund", "Return and refund"
    REPLACEMENT = "replacement", "Replacement"


class Outcome(models.TextChoices):
    FULL_REFUND = "full_refund", "Full refund"
    PARTIAL_REFUND = "partial_refund", "Partial refund"
    RETURN_AND_REFUND = "return_and_refund", "Return and refund"
    REPLACEMENT = "replacement", "Replacement"
    NO_ACTION = "no_action", "No action (seller upheld)"


REFUND_OUTCOMES = {Outcome.FULL_REFUND, Outcome.PARTIAL_REFUND, Outcome.RETURN_AND_REFUND}
