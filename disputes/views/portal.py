"""The buyer's portal and the case page both parties share (`/orders/`, `/cases/`)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from disputes import selectors, services
from disputes.downloads import evidence_response
from disputes.exceptions import AlreadySubmitted, DisputeError
from disputes.forms import (
    ACTION_FORMS,
    CaseFileForm,
    EvidenceForm,
    MessageForm,
    ProposalAnswerForm,
    ReturnShippedForm,
    SurveyForm,
)
from disputes.models import Offer
from disputes.pagination import keyset_page_or_first
from disputes.permissions import is_agent, is_case_buyer, is_case_party
from disputes.presenters import case_actions, case_status, case_timeline, pending_offer, perspective
from disputes.services.accounts import notifications_mark_read, submission_once
from disputes.services.conversation import evidence_add, message_post
from disputes.views._forms import form_errors, form_ids, refused, submit_once
from feedback.forms import TradeFeedbackForm
from feedback.selectors import feedback_given, feedback_open_for, survey_pending_for
from feedback.services import survey_answer
from policies.selectors import dispute_policy_in_force


@login_required
def home(request):
    return render(
        request,
        "disputes/home.html",
        {
            "seller_counts": selectors.seller_case_counts(user=request.user),
            "buyer_cases": selectors.case_list_as_buyer(user=request.user)[:5],
        },
    )


ORDERS_PER_PAGE = 25


@login_required
def order_list(request):
    orders = selectors.order_list_for_buyer(user=request.user)
    cursor = request.GET.get("cursor")
    page = keyset_page_or_first(orders, selectors.BUYER_ORDERS_KEYSET, cursor=cursor, size=ORDERS_PER_PAGE)
    return render(request, "disputes/order_list.html", {"orders": page.rows, "page": page})


CASES_PER_PAGE = 25


@login_required
def case_list(request):
    cases = selectors.case_list_as_buyer(user=request.user)
    cursor = request.GET.get("cursor")
    page = keyset_page_or_first(cases, selectors.BUYER_CASES_KEYSET, cursor=cursor, size=CASES_PER_PAGE)
    rows = [(case, case_status(case, request.user)) for case in page.rows]
    return render(request, "disputes/case_list.html", {"rows": rows, "page": page})


# The filing form lists this many of the orders a case can be opened on, newest first; an older
# one comes with its link on My orders (?order=).
FILING_ORDERS_OFFERED = 50


@login_required
def case_file(request):
    orders = selectors.orders_to_file_on(user=request.user)
    chosen = orders.filter(external_id=request.GET.get("order", "")).first() if request.method == "GET" else None
    now = timezone.now()
    offered = list(selectors.orders_open_for_filing(user=request.user, at=now)[:FILING_ORDERS_OFFERED])
    form = CaseFileForm(request.POST or None, request.FILES or None, orders=orders, offered=offered, named=chosen)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with submission_once(user=request.user, token=data["submission"]):
                case = services.case_file(
                    buyer=request.user,
                    order=data["order"],
                    reason=data["reason"],
                    requested_outcome=data["requested_outcome"],
                    amount_claimed=data["amount_claimed"],
                    description=data["description"],
                    evidence=data["evidence"],
                )
        except AlreadySubmitted:
            existing = selectors.case_list_as_buyer(user=request.user).filter(order=data["order"]).first()
            messages.info(request, "Your case was already opened.")
            return redirect(existing or "disputes:case-list")
        except DisputeError as error:
            form_errors(form, error, aliases={"files": "evidence"})
        else:
            messages.success(request, f"Case {case.reference} is open. We have told the seller.")
            return redirect(case)
    order = form.named_order or (offered[0] if offered else None)
    terms = selectors.filing_terms(order=order, at=now) if order else None
    # An order's terms exist only under a policy; with no order, the policy is looked up itself.
    policy_in_force = terms is not None if order else dispute_policy_in_force(at=now) is not None
    context = {
        # Nothing to fill in when no case can be opened, unless the buyer sent it: what they wrote stays.
        "form": form if policy_in_force or form.is_bound else None,
        "order": order,
        "terms": terms,
        "policy_in_force": policy_in_force,
        "offered_cap": FILING_ORDERS_OFFERED,
    }
    return refused(render(request, "disputes/case_file.html", context), form)


@login_required
def case_detail(request, reference, forms=None, status=200):
    case = selectors.case_get(user=request.user, reference=reference)
    notifications_mark_read(user=request.user, case=case)  # seen here, so not waiting in the bell
    record = selectors.case_record(case=case, user=request.user)
    actions = case_actions(case, request.user)
    forms = forms or {}
    offer = pending_offer(record.offers)
    can_write = is_case_party(case, request.user) and not case.is_finished
    context = {
        "case": case,
        "side": perspective(case, request.user),
        "status": case_status(case, request.user),
        "timeline": case_timeline(
            case,
            request.user,
            history=record.history,
            messages=record.messages,
            evidence=record.evidence,
            offers=record.offers,
        ),
        "evidence": record.evidence,
        "decisions": record.decisions,
        "offer": offer,
        "actions": [
            (action, forms.get(action.name) or ACTION_FORMS[action.name](auto_id=form_ids(action.name)))
            for action in actions
        ],
        "message_form": forms.get("message") or (MessageForm(auto_id=form_ids("message")) if can_write else None),
        "evidence_form": forms.get("evidence") or (EvidenceForm(auto_id=form_ids("evidence")) if can_write else None),
        "return_form": forms.get("return") or _return_form(case, request.user),
        "proposal_form": _proposal_form(case, request.user, offer),
        "survey_form": forms.get("survey")
        or (SurveyForm(auto_id=form_ids("survey")) if survey_pending_for(case=case, user=request.user) else None),
        "evidence_requests": selectors.evidence_requests_for(case=case, user=request.user),
        **_trade_feedback(case, request.user),
        "last_message_id": max((message.pk for message in record.messages), default=0),
        "live_audience": "agents" if is_agent(case, request.user) else "party",  # agents also get internal notes
    }
    return render(request, "disputes/case_detail.html", context, status=status)


@login_required
@require_POST
def case_action(request, reference, name):
    case = selectors.case_get(user=request.user, reference=reference)
    form_class = ACTION_FORMS.get(name)
    if form_class is None:
        raise Http404("No such action.")
    form = form_class(request.POST, auto_id=form_ids(name))
    params = {key: value for key, value in form.cleaned_data.items() if key != "submission"} if form.is_valid() else {}
    return _run(
        request,
        case,
        form,
        name,
        lambda: services.case_transition(case=case, actor=request.user, name=name, **params),
        done="Done.",
    )


@login_required
@require_POST
def message_create(request, reference):
    case = selectors.case_get(user=request.user, reference=reference)
    form = MessageForm(request.POST, auto_id=form_ids("message"))
    return _run(
        request,
        case,
        form,
        "message",
        lambda: message_post(case=case, author=request.user, body=form.cleaned_data["body"]),
        done="Message sent.",
    )


@login_required
@require_POST
def evidence_create(request, reference):
    case = selectors.case_get(user=request.user, reference=reference)
    form = EvidenceForm(request.POST, request.FILES, auto_id=form_ids("evidence"))
    return _run(
        request,
        case,
        form,
        "evidence",
        lambda: evidence_add(
            case=case,
            uploader=request.user,
            files=form.cleaned_data["files"],
            description=form.cleaned_data["description"],
        ),
        done="Evidence added.",
        aliases={"files": "files"},
    )


@login_required
def evidence_file(request, reference, pk):
    return evidence_response(selectors.evidence_get(user=request.user, reference=reference, pk=pk))


@login_required
@require_POST
def return_shipped(request, reference):
    case = selectors.case_get(user=request.user, reference=reference)
    form = ReturnShippedForm(request.POST, auto_id=form_ids("return"))
    return _run(
        request,
        case,
        form,
        "return",
        lambda: services.case_mark_return_shipped(
            case=case,
            buyer=request.user,
            carrier=form.cleaned_data["carrier"],
            tracking_number=form.cleaned_data["tracking_number"],
        ),
        done="Thanks: we have told the seller it is on its way.",
    )


@login_required
@require_POST
def proposal_respond(request, reference):
    case = selectors.case_get(user=request.user, reference=reference)
    form = ProposalAnswerForm(request.POST, auto_id=form_ids("proposal"))
    return _run(
        request,
        case,
        form,
        "proposal",
        lambda: services.proposal_answer(case=case, party=request.user, accept=form.cleaned_data["answer"] == "accept"),
        done="Your answer is recorded.",
    )


@login_required
@require_POST
def survey_respond(request, reference):
    case = selectors.case_get(user=request.user, reference=reference)
    form = SurveyForm(request.POST, auto_id=form_ids("survey"))
    return _run(
        request,
        case,
        form,
        "survey",
        lambda: survey_answer(
            case=case, respondent=request.user, score=form.cleaned_data["score"], comment=form.cleaned_data["comment"]
        ),
        done="Thank you for rating how we handled this case.",
    )


def _run(request, case, form, form_key, write, *, done, aliases=None):
    """Send a case page form once and go back to the case; on a refusal show the page with the reason."""
    return submit_once(
        request,
        form,
        write,
        done=done,
        redirect_to=case,
        on_error=lambda form: case_detail(request, case.reference, forms={form_key: form}, status=400),
        aliases=aliases,
    )


def _trade_feedback(case, user) -> dict:
    """The party's trade feedback on the order, once the case is over (or the order delivered)."""
    if not is_case_party(case, user) or case.is_active or not feedback_open_for(case.order):
        return {"feedback_shown": False}
    given = feedback_given(order=case.order, user=user)
    form = None
    if given is None or timezone.now() <= given.editable_until:
        initial = {"rating": given.rating, "comment": given.comment} if given else {}
        form = TradeFeedbackForm(auto_id=form_ids("feedback"), initial=initial)
    return {"feedback_shown": True, "feedback_given": given, "feedback_form": form}


def _return_form(case, user):
    if case.state == "awaiting_return" and is_case_buyer(case, user) and not case.return_shipped_at:
        return ReturnShippedForm(auto_id=form_ids("return"))
    return None


def _proposal_form(case, user, offer):
    if case.state != "in_mediation" or offer is None or offer.made_by_role != Offer.Role.AGENT:
        return None
    if not is_case_party(case, user):
        return None
    answered = offer.buyer_answer if is_case_buyer(case, user) else offer.seller_answer
    return None if answered else ProposalAnswerForm(auto_id=form_ids("proposal"))
