"""Canned replies: the active ones, and one written out for a case with its placeholders filled.

Only the known `{placeholder}` names are replaced; any other brace is left as the admin wrote it
(no `str.format`, so a reply's text cannot reach attributes of the values).
"""

import re
from datetime import datetime

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from disputes.models import CannedReply, Case

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def canned_reply_list() -> QuerySet[CannedReply]:
    return CannedReply.objects.filter(is_active=True).order_by("title")


def canned_reply_get(*, pk) -> CannedReply:
    reply = canned_reply_list().filter(pk=pk).first()
    if reply is None:
        raise Http404("No such canned reply.")
    return reply


def canned_reply_render(*, reply: CannedReply, case: Case, agent) -> str:
    values = canned_reply_values(case=case, agent=agent)
    return _PLACEHOLDER.sub(lambda match: values.get(match.group(1), match.group(0)), reply.body)


def canned_reply_values(*, case: Case, agent) -> dict[str, str]:
    """The placeholders' values. A case with no deadline in view leaves `{deadline}` for the agent to fill."""
    values = {
        "buyer_name": _name(case.buyer),
        "seller_name": _name(case.seller),
        "reference": case.reference,
        "item": case.order.item_title,
        "agent_name": agent.first_name or _name(agent),  # parties see agents as "Support team · <first name>"
    }
    deadline = reply_deadline(case)
    if deadline is not None:  # in the agent's time zone, named
        values["deadline"] = timezone.localtime(deadline).strftime("%-d %B %Y, %H:%M %Z")
    return values


def reply_deadline(case: Case) -> datetime | None:
    """The date a reply to the parties is about: requested evidence first, then our decision."""
    now = timezone.now()
    due = sorted(
        request.due_at
        for request in case.evidence_requests.all()
        if request.fulfilled_at is None and request.due_at >= now
    )
    if due:
        return due[0]
    if case.state in (Case.State.ESCALATED, Case.State.IN_MEDIATION, Case.State.APPEALED):
        return case.agent_decision_due_at
    return case.return_due_at if case.state == Case.State.AWAITING_RETURN else case.appeal_until


def _name(user) -> str:
    return user.get_full_name() or user.username
