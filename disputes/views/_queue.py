"""What a queue page shows, worked out once in Python: its rows, its filter form's fields, its tabs
and the query strings of its other pages.

The template lays out the page around them. The rows are written here as HTML, as Django admin
writes its change list's rows: through the template engine, 25 rows' lookups, conditions and
escaping were a sixth of the page's time, the page the busiest agents reload all day.
"""

from collections.abc import Callable
from datetime import datetime, tzinfo
from functools import lru_cache
from typing import NamedTuple
from urllib.parse import urlencode

from django.http import QueryDict
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from disputes.filters import QUEUE_STATES, QueueFilter
from disputes.forms import ConfirmForm
from disputes.models import Case, Reason
from disputes.selectors import queue as queue_selectors
from disputes.selectors.queue import queue_row_actions
from disputes.templatetags.desk import deadline, money


def queue_rows(cases, agent, *, csrf_token: str) -> list[SafeString]:
    """The rows of a page of selectors.queue.queue_page, as `agent` sees them, as HTML."""
    page = _Page(
        case_url=_by_reference("disputes:console-case"),
        claim_url=_by_reference("disputes:console-claim"),
        take_appeal_url=_by_reference("disputes:console-appeal-take"),
        csrf_input=format_html('<input type="hidden" name="csrfmiddlewaretoken" value="{}">', csrf_token),
        now=timezone.now(),
        zone=timezone.get_current_timezone(),
        reasons=_labels(Reason),
        states=_labels(Case.State),
    )
    actions = queue_row_actions(cases=cases, user=agent)
    return [_row(case, agent, action=action, page=page) for case, action in zip(cases, actions)]


class _Page(NamedTuple):
    """What every row of a page shares."""

    case_url: Callable[[str], str]
    claim_url: Callable[[str], str]
    take_appeal_url: Callable[[str], str]
    csrf_input: SafeString
    now: datetime
    zone: tzinfo
    reasons: dict[str, str]
    states: dict[str, str]


def _labels(choices) -> dict[str, str]:
    # Translated once a page: get_FOO_display() translates every label of its field for each row.
    return {value: str(label) for value, label in choices.choices}


_ROW = """<li class="card case-row{overdue_class}" data-reference="{reference}">
      <div>
        <h2><a href="{url}">{reference} · {item_title}</a></h2>
        <p class="muted">{reason} · claims {claimed} · buyer {buyer} · seller {seller}</p>
        <p class="muted">{handled_by}</p>
      </div>
      <div class="status">
        <span class="badge us">{state}</span>{badges}
        {decide_by}{action}
      </div>
    </li>"""

_ACTION_FORM = """
          <form method="post" action="{url}" class="row-action">
            {csrf_input}{submission}
            <button type="submit" class="secondary">{label}<span class="visually-hidden"> {reference}</span></button>
          </form>"""


def _row(case, agent, *, action: str | None, page: _Page) -> SafeString:
    overdue = case.agent_decision_due_at is not None and case.agent_decision_due_at < page.now
    badges = (' <span class="badge overdue">Overdue</span>' if overdue else "") + (
        ' <span class="badge overdue">Raised to senior agents</span>' if case.raised_to_seniors_at is not None else ""
    )
    decide_by = deadline(case.agent_decision_due_at, now=page.now, zone=page.zone)
    return format_html(
        _ROW,
        overdue_class=" overdue" if overdue else "",
        reference=case.reference,
        url=page.case_url(case.reference),
        item_title=case.item_title,
        reason=page.reasons.get(case.reason, case.reason),  # as get_reason_display()
        claimed=money(case.amount_claimed, case.currency),
        buyer=_full_name(case.buyer_first_name, case.buyer_last_name) or case.buyer_username,
        seller=case.seller_username,
        handled_by=_handled_by(case, agent),
        state=page.states.get(case.state, case.state),
        badges=SafeString(badges),
        decide_by=format_html('<p class="due">Decide by: {}</p>', decide_by) if decide_by else "",
        action=_action(case.reference, action, page),
    )


def _handled_by(case, agent) -> str:
    if not case.agent_id:
        return "Unassigned"
    mine = " (you)" if case.agent_id == agent.pk else ""
    return f"With {_agent_name(case)}{mine}"


def _action(reference: str, action: str | None, page: _Page) -> SafeString:
    """What the agent may do from the row: claim it, take its appeal, or only see it is for a senior."""
    if action == "seniors_only":
        return SafeString('\n        <p class="help">For a senior agent</p>')
    if action not in ("claim", "take_appeal"):
        return SafeString("")
    url, label = (page.claim_url, "Claim") if action == "claim" else (page.take_appeal_url, "Take the appeal")
    return format_html(
        _ACTION_FORM,
        url=url(reference),
        csrf_input=page.csrf_input,
        submission=ConfirmForm(auto_id=False)["submission"],
        label=label,
        reference=reference,
    )


def _agent_name(case) -> str:
    if not case.agent_id:
        return ""
    return _full_name(case.agent_first_name, case.agent_last_name) or case.agent_username


def _full_name(first_name: str, last_name: str) -> str:
    return f"{first_name} {last_name}".strip()  # as User.get_full_name


def _by_reference(viewname: str):
    """`reference → path` for a route taking only a case reference: reversed once, not per row."""
    head, tail = reverse(viewname, kwargs={"reference": _MARK}).rsplit(_MARK, 1)
    return lambda reference: f"{head}{reference}{tail}"


_MARK = f"{Case.REFERENCE_PREFIX}0"


def filter_fields(filters) -> str:
    """The filter form's fields as HTML, keeping the filters sent (`filters`: the query, or None)."""
    if filters is None:
        return _filter_fields("")
    sent = [(name, filters.getlist(name)) for name in QueueFilter.base_filters if name in filters]
    return _filter_fields(urlencode(sent, doseq=True))


@lru_cache(maxsize=64)
def _filter_fields(query: str) -> str:
    # The markup depends on the filters sent alone (the choices are fixed), so each set, in a
    # fixed order, is rendered once per process; most pages send none.
    form = QueueFilter(QueryDict(query), queryset=Case.objects.none(), user=None).form
    return render_to_string("disputes/console/_queue_filters.html", {"form": form})


def page_query(filters, cursor: str | None) -> str:
    """The query string of another page of the same list: the filters kept, `cursor` set."""
    query = filters.copy() if filters is not None else QueryDict(mutable=True)
    query.pop("fragment", None)
    query.pop("cursor", None)
    if cursor:
        query["cursor"] = cursor
    return query.urlencode()


def state_tabs(filters, counts) -> list[tuple[str, str, str, bool]]:
    """(label, query string, count, current) per state, keeping the other filters."""
    others = filters.copy() if filters is not None else QueryDict(mutable=True)
    current = others.pop("state", [""])[-1]
    others.pop("fragment", None)
    others.pop("cursor", None)
    tabs = [("All", others.urlencode(), count_label(counts["total"]), not current)]
    for state in QUEUE_STATES:
        query = others.copy()
        query["state"] = state.value
        tabs.append((state.label, query.urlencode(), count_label(counts[state.value]), current == state.value))
    return tabs


def count_label(count: int) -> str:
    """A queue count as shown: counting stops past the cap."""
    return f"{queue_selectors.QUEUE_COUNT_CAP}+" if count > queue_selectors.QUEUE_COUNT_CAP else str(count)
