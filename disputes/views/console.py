"""The staff console (`/console/`): the mediation queue and a case's workspace. Agents only.

Signed out → sign-in; the queue's pages to anyone signed in but not an agent → 403; a case's pages
to anyone but an agent who may work on it → 404 (a case that is not yours is not found, even to
its buyer and seller: the console is not theirs). Each form posts to its own address, which makes
one service call and goes back to the workspace, or shows it again with the refusal.
"""

import json
from datetime import timedelta
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from disputes import selectors, services
from disputes.canned import canned_reply_list, canned_reply_render
from disputes.filters import QUEUE_STATES
from disputes.forms import (
    AvailabilityForm,
    CannedReplyForm,
    ConfirmForm,
    DecideForm,
    EvidenceRequestForm,
    InternalNoteForm,
    PartyMessageForm,
    ProposalForm,
    ReassignForm,
)
from disputes.models import Case
from disputes.permissions import is_agent_user
from disputes.presenters import case_timeline, console_actions, pending_offer
from disputes.selectors import queue as queue_selectors
from disputes.services.conversation import message_post
from disputes.views._forms import form_ids, submit_once
from disputes.views._queue import count_label, filter_fields, page_query, queue_rows, state_tabs
from feedback.selectors import feedback_scores, seller_performance

EVIDENCE_DUE_BY_DEFAULT = timedelta(hours=48)


def _agents_only(refuse):
    """A view for signed-in agents; anyone else signed in gets `refuse()` (it raises)."""

    def decorator(view):
        @wraps(view)
        def check(request, *args, **kwargs):
            if not is_agent_user(request.user):
                refuse()
            return view(request, *args, **kwargs)

        return login_required(check)

    return decorator


def _console_is_for_agents():
    raise PermissionDenied("The console is for support agents.")


def _no_such_case():
    raise Http404("No such case.")


agent_required = _agents_only(_console_is_for_agents)
# A case's console pages: to a person who is not an agent the case is not found, as on the portal,
# rather than refused (a 403 would tell them the case exists).
agent_case_required = _agents_only(_no_such_case)


def workspace_url(case: Case) -> str:
    return reverse("disputes:console-case", kwargs={"reference": case.reference})


# The queue


@agent_required
def queue(request, status=200):
    """The queue; `?fragment=1` answers only its live part (counts and rows), for live.js."""
    filters = request.GET if request.method == "GET" else None
    # Most visits filter nothing: the FilterSet (copying its filters, checking its form) only when asked.
    filterset = None
    if queue_selectors.queue_filtered(filters):
        filterset = queue_selectors.queue_filter(user=request.user, filters=filters)
    cases = filterset.qs if filterset is not None else queue_selectors.queue_list(user=request.user)
    cursor = request.GET.get("cursor") if request.method == "GET" else None
    page = queue_selectors.queue_page(cases=cases, cursor=cursor)
    counts = queue_selectors.queue_counts(user=request.user, filters=filters)
    context = {
        "filters_changed": filterset is not None and filterset.form.has_changed(),
        "filter_errors": filterset is not None and bool(filterset.errors),
        "rows": queue_rows(page.rows, request.user, csrf_token=get_token(request)),
        "counts": counts,
        "tabs": state_tabs(filters, counts),
        "total_label": count_label(counts["total"]),
        "overdue_label": count_label(counts["overdue"]),
        "page": page,
        "next_query": page_query(filters, page.next_cursor),
        "first_query": page_query(filters, None),
    }
    if request.GET.get("fragment"):
        return render(request, "disputes/console/_queue_live.html", context, status=status)
    context.update(
        filter_fields=filter_fields(filters),
        take_next_form=ConfirmForm(auto_id=form_ids("take-next")),
        available=selectors.agent_is_available(user=request.user),
    )
    context["availability_form"] = AvailabilityForm(
        initial={"available": "0" if context["available"] else "1"}, auto_id=form_ids("availability")
    )
    return render(request, "disputes/console/queue.html", context, status=status)


@agent_required
@require_POST
def take_next(request):
    form = ConfirmForm(request.POST)
    return submit_once(
        request,
        form,
        lambda: services.case_take_next(agent=request.user),
        done=lambda case: f"{case.reference} is yours." if case else "Nothing is waiting for you in the queue.",
        redirect_to=lambda case: workspace_url(case) if case else "disputes:console-queue",
        on_error=lambda form: queue(request, status=400),
    )


@agent_required
@require_POST
def availability(request):
    form = AvailabilityForm(request.POST)
    return submit_once(
        request,
        form,
        lambda: services.agent_set_available(agent=request.user, available=form.cleaned_data["available"]),
        done=lambda status: (
            "You are available: new escalations may be assigned to you."
            if status.is_available
            else "You are away: no new escalations will be assigned to you."
        ),
        redirect_to="disputes:console-queue",
        on_error=lambda form: queue(request, status=400),
    )


# The workspace


@agent_case_required
def workspace(request, reference, forms=None, status=200):
    case = selectors.console_case_get(user=request.user, reference=reference)
    ws = selectors.case_workspace(case=case, user=request.user)
    actions = console_actions(case, request.user, decisions=ws.decisions, evidence_requests=ws.evidence_requests)
    record = ws.record
    context = {
        "case": case,
        "ws": ws,
        "actions": actions,
        "forms": _workspace_forms(case, actions, forms or {}),
        "offer": pending_offer(record.offers),
        "timeline": case_timeline(
            case,
            request.user,
            history=record.history,
            messages=record.messages,
            evidence=record.evidence,
            offers=record.offers,
        ),
        "in_queue": case.state in QUEUE_STATES,
        "overdue": bool(case.agent_decision_due_at and case.agent_decision_due_at < timezone.now()),
        "last_message_id": max((message.pk for message in record.messages), default=0),
        "state_labels": json.dumps(dict(Case.State.choices)),
        "self_name": request.user.get_full_name() or request.user.username,
        "feedback_scores": feedback_scores(user_ids=[case.buyer_id, case.seller_id], at=timezone.now()),
        "seller_performance": seller_performance(seller_ids=[case.seller_id], at=timezone.now())[case.seller_id],
    }
    return render(request, "disputes/console/case.html", context, status=status)


def _workspace_forms(case, actions, bound) -> dict:
    """The forms this agent may use on this case now; `bound` ones (sent back with errors) win."""
    makers = {
        "note": (True, InternalNoteForm),  # any agent, in any state
        "message": (actions.write, PartyMessageForm),
        "canned": (actions.write, lambda: CannedReplyForm(replies=canned_reply_list())),
        "claim": (actions.claim, ConfirmForm),
        "take_appeal": (actions.take_appeal, ConfirmForm),
        "evidence_request": (
            actions.request_evidence,
            lambda: EvidenceRequestForm(case=case, initial={"due_at": _default_due()}),
        ),
        "propose": (actions.propose, ProposalForm),
        "decide": (actions.decide, DecideForm),
        "decide_appeal": (actions.decide_appeal, DecideForm),
        "reassign": (actions.reassign, lambda: ReassignForm(agents=selectors.agents_to_reassign_to(case=case))),
    }
    forms = {}
    for key, (allowed, make) in makers.items():
        if allowed:
            forms[key] = bound.get(key) or make()
            forms[key].auto_id = form_ids(key)
    return forms


def _default_due():
    return timezone.localtime(timezone.now() + EVIDENCE_DUE_BY_DEFAULT).replace(second=0, microsecond=0)


def _send(request, reference, key, form_class, write, *, done, **form_kwargs):
    """Send one workspace form: `write(case, data)` makes the service call."""
    case = selectors.console_case_get(user=request.user, reference=reference)
    form = form_class(request.POST, auto_id=form_ids(key), **{k: f(case) for k, f in form_kwargs.items()})
    return submit_once(
        request,
        form,
        lambda: write(case, form.cleaned_data),
        done=done,
        redirect_to=workspace_url(case),
        on_error=lambda form: workspace(request, reference, forms={key: form}, status=400),
    )


@agent_case_required
@require_POST
def claim(request, reference):
    return _send(
        request,
        reference,
        "claim",
        ConfirmForm,
        lambda case, data: services.case_claim(case=case, agent=request.user),
        done="The case is yours.",
    )


@agent_case_required
@require_POST
def appeal_take(request, reference):
    return _send(
        request,
        reference,
        "take_appeal",
        ConfirmForm,
        lambda case, data: services.appeal_claim(case=case, agent=request.user),
        done="The appeal is yours.",
    )


@agent_case_required
@require_POST
def message_create(request, reference):
    return _send(
        request,
        reference,
        "message",
        PartyMessageForm,
        lambda case, data: message_post(case=case, author=request.user, body=data["body"]),
        done="Message sent to both parties.",
    )


@agent_case_required
@require_POST
def note_create(request, reference):
    return _send(
        request,
        reference,
        "note",
        InternalNoteForm,
        lambda case, data: message_post(case=case, author=request.user, body=data["body"], internal=True),
        done="Internal note saved.",
    )


@agent_case_required
@require_POST
def canned_insert(request, reference):
    """Write a canned reply out for this case into the message to the parties; nothing is sent.

    Answers JSON (`{"title", "body"}`) to a script that asks for it, else the workspace with the
    message filled in.
    """
    case = selectors.console_case_get(user=request.user, reference=reference)
    form = CannedReplyForm(request.POST, replies=canned_reply_list(), auto_id=form_ids("canned"))
    wants_json = request.headers.get("Accept", "").startswith("application/json")
    if not form.is_valid():
        if wants_json:
            return JsonResponse({"errors": form.errors}, status=400)
        return workspace(request, reference, forms={"canned": form}, status=400)
    reply = form.cleaned_data["reply"]
    text = canned_reply_render(reply=reply, case=case, agent=request.user)
    if wants_json:
        return JsonResponse({"title": reply.title, "body": text})
    return workspace(request, reference, forms={"canned": form, "message": PartyMessageForm(initial={"body": text})})


@agent_case_required
@require_POST
def evidence_request_create(request, reference):
    return _send(
        request,
        reference,
        "evidence_request",
        EvidenceRequestForm,
        lambda case, data: services.evidence_request_create(
            case=case, agent=request.user, party=data["party"], note=data["note"], due_at=data["due_at"]
        ),
        done="Evidence requested: the party sees the request and its date on their case page.",
        case=lambda case: case,
    )


@agent_case_required
@require_POST
def propose(request, reference):
    return _send(
        request,
        reference,
        "propose",
        ProposalForm,
        lambda case, data: services.proposal_make(
            case=case, agent=request.user, kind=data["kind"], amount=data["amount"], note=data["note"]
        ),
        done="Proposal sent: each party accepts or rejects it from their case page.",
    )


@agent_case_required
@require_POST
def decide(request, reference):
    return _send(
        request,
        reference,
        "decide",
        DecideForm,
        lambda case, data: services.case_decide(
            case=case, agent=request.user, outcome=data["outcome"], amount=data["amount"], rationale=data["rationale"]
        ),
        done="Decided. Both parties are told.",
    )


@agent_case_required
@require_POST
def decide_appeal(request, reference):
    return _send(
        request,
        reference,
        "decide_appeal",
        DecideForm,
        lambda case, data: services.case_decide_appeal(
            case=case, agent=request.user, outcome=data["outcome"], amount=data["amount"], rationale=data["rationale"]
        ),
        done="The appeal is decided and the case closed. Both parties are told.",
    )


@agent_case_required
@require_POST
def reassign(request, reference):
    return _send(
        request,
        reference,
        "reassign",
        ReassignForm,
        lambda case, data: services.case_reassign(case=case, actor=request.user, agent=data["agent"]),
        done=lambda case: f"Handed to {case.agent.get_full_name() or case.agent.username}.",
        agents=lambda case: selectors.agents_to_reassign_to(case=case),
    )
