"""What the console's action tests share: reading the workspace, posting its forms, the history."""

from disputes import services
from tests import factories
from tests.disputes.case_states import reload
from tests.disputes.portal.helpers import Page, token


def last_reason(case) -> str:
    return reload(case).history.order_by("-history_id").first().history_change_reason


def workspace(client, case) -> Page:
    response = client.get(f"/console/cases/{case.reference}/")
    assert response.status_code == 200
    return Page(response)


def post(client, path, **data):
    return client.post(path, {"submission": token(), **data})


def escalated_case(buyer, seller, title):
    case = factories.case(order_=factories.order(buyer=buyer, seller=seller, item_title=title))
    services.case_decline_claim(case=case, seller=seller)
    return services.case_escalate(case=case, buyer=buyer)
