"""What each write of the matrix sends: one its route would take from its rightful user, so a
refusal is about who asks, not about what they sent."""

import uuid

from tests.security.conftest import png
from tests.security.url_matrix import matches


def once() -> dict:
    """A fresh one-time form token."""
    return {"submission": str(uuid.uuid4())}


def form(**fields):
    """A page's form, with a fresh one-time token each time it is sent."""
    return lambda w, s: {**once(), **fields}


def body(**fields):
    """A body that does not depend on the world."""
    return lambda w, s: dict(fields)


NEW_PASSWORD = {"new_password1": "a-new-pass-word-2026", "new_password2": "a-new-pass-word-2026"}
FILING = {"reason": "damaged", "requested_outcome": "partial_refund", "amount_claimed": "10.00"}
ORDER_PUT = {
    "item_title": "Walnut desk lamp, relisted",
    "amount": "45.00",
    "currency": "EUR",
    "status": "paid",
    "placed_at": "2026-01-05T10:00:00Z",
}

# (route, method) -> body(world, scope). Every write here is one that route would take from its
# rightful user, so a refusal is about who asks, not about what they sent.
BODIES = {
    ("disputes:case-file", "POST"): lambda w, s: {
        **once(),
        "order": w.spare_order.external_id,
        **FILING,
        "description": "It arrived broken.",
    },
    ("disputes:case-action", "POST"): form(note="It left here intact."),
    ("disputes:message-create", "POST"): form(body="Any news?"),
    ("disputes:evidence-create", "POST"): lambda w, s: {**once(), "files": [png()], "description": "The box"},
    ("disputes:return-shipped", "POST"): form(carrier="DHL", tracking_number="JD1"),
    ("disputes:proposal-respond", "POST"): form(answer="accept"),
    ("disputes:survey-respond", "POST"): form(score="5", comment="Quick and fair."),
    ("disputes:notification-read", "POST"): body(),
    ("disputes:account", "POST"): body(time_zone="Europe/Paris"),
    ("disputes:console-take-next", "POST"): form(),
    ("disputes:console-availability", "POST"): form(available="0"),
    ("disputes:console-claim", "POST"): form(),
    ("disputes:console-appeal-take", "POST"): form(),
    ("disputes:console-message", "POST"): form(body="Hello both."),
    ("disputes:console-note", "POST"): form(body="Seller seems honest."),
    ("disputes:console-canned", "POST"): lambda w, s: {"reply": w.canned_reply.pk},
    ("disputes:console-evidence-request", "POST"): form(
        party="buyer", note="A photo of the box, please.", due_at="2099-01-01T12:00"
    ),
    ("disputes:console-propose", "POST"): form(kind="partial_refund", amount="25.00", note="Fair given the photos."),
    ("disputes:console-decide", "POST"): form(outcome="no_action", rationale="Disputes policy 4.2."),
    ("disputes:console-decide-appeal", "POST"): form(outcome="full_refund", rationale="Disputes policy 6."),
    ("disputes:console-reassign", "POST"): lambda w, s: {**once(), "agent": w.people["senior_agent"].pk},
    ("feedback:order-feedback", "POST"): form(rating="positive", comment="Fine."),
    ("login", "POST"): body(username="buyer", password="pass-word-2026"),
    ("logout", "POST"): body(),
    ("password_change", "POST"): body(old_password="pass-word-2026", **NEW_PASSWORD),
    ("password_reset", "POST"): body(email="buyer@example.com"),
    ("password_reset_confirm", "POST"): body(**NEW_PASSWORD),
    ("api:order-detail", "PUT"): lambda w, s: {
        **ORDER_PUT,
        "buyer": w.orders[s].buyer.username,
        "seller": w.orders[s].seller.username,
    },
    ("api:order-shipment", "POST"): body(carrier="UPS", tracking_number="1Z999", shipped_at="2026-01-06T10:00:00Z"),
    ("api:case-list", "POST"): lambda w, s: {
        "order": w.spare_order.external_id,
        **FILING,
        "description": "It arrived broken.",
    },
    ("api:case-transitions", "POST"): body(name="decline_claim", note="It left here intact."),
    ("api:case-return-shipment", "POST"): body(carrier="DHL", tracking_number="JD1"),
    ("api:case-proposal-answer", "POST"): body(answer="accept"),
    ("api:case-messages", "POST"): body(body="Any news?"),
    ("api:case-evidence", "POST"): lambda w, s: {"files": [png()], "description": "The box"},
    ("admin:auth_user_password_change", "POST"): body(
        password1="a-new-pass-word-2026", password2="a-new-pass-word-2026"
    ),
    ("admin:*_delete", "POST"): body(post="yes"),
    ("admin:disputes_case_transition", "POST"): body(),
    ("admin:logout", "POST"): body(),
    ("admin:login", "POST"): body(username="admin", password="pass-word-2026", next="/admin/"),
    ("admin:password_change", "POST"): body(old_password="pass-word-2026", **NEW_PASSWORD),
}
MULTIPART_API = {"api:case-evidence"}


def body_of(route, method: str, world, scope: str) -> dict:
    for (key, body_method), make in BODIES.items():
        if body_method == method and matches(key, route.key):
            return make(world, scope)
    return {}  # the admin's add and change forms: sent empty, answered with the form or a refusal
