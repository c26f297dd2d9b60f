"""The matrix of who may do what: every route of the site, by method and by whose record, for
every kind of person (`test_url_matrix.py` asks them all).

Rows: route (URL name, or the pattern when it has none; `*`, `{a,b}` and `{edited}` group the
admin's many model routes; a later row for the same route, method and object replaces an earlier
one, and a row naming the route itself replaces any group row), method, object: `own` is the
case/order/evidence/seller page of `buyer` and `seller`, `other` the same between `other_buyer`
and `other_seller` (so for buyer and seller it is a case between two other people), `cross` asks
for the other case's evidence under the own case's address, `-` a route without one.

Cells: an HTTP status; `login` a redirect to the sign-in page (the admin's for /admin/) that comes
back to the page; `form` a 200 that writes nothing (the form shown again with its errors, or the
admin's "cannot delete" page). A write that is refused (`login`, `form`, 4xx) must leave every
record as it was. Each cell runs in a transaction rolled back after it, so cells never see each
other's writes. On a WS row, `accept` is a socket that opens and answers, a number is the close
code it is refused with before any data frame, `refuse` a handshake refused outright.
"""

import fnmatch
import re
from dataclasses import dataclass

from tests.security.conftest import ROLES

MATRIX = """
route                                      method object anonymous buyer  other_buyer seller other_seller agent  senior_agent admin  service
# Sign-in pages: open to everyone
login                                      GET    -      200       200    200         200    200          200    200          200    200
login                                      POST   -      302       302    302         302    302          302    302          302    302
logout                                     GET    -      405       405    405         405    405          405    405          405    405
logout                                     POST   -      200       200    200         200    200          200    200          200    200
password_change                            GET    -      login     200    200         200    200          200    200          200    login
password_change                            POST   -      login     302    302         302    302          302    302          302    login
password_change_done                       GET    -      login     200    200         200    200          200    200          200    login
password_reset                             GET    -      200       200    200         200    200          200    200          200    200
password_reset                             POST   -      302       302    302         302    302          302    302          302    302
password_reset_done                        GET    -      200       200    200         200    200          200    200          200    200
password_reset_confirm                     GET    -      302       302    302         302    302          302    302          302    302
password_reset_confirm                     POST   -      302       302    302         302    302          302    302          302    302
password_reset_complete                    GET    -      200       200    200         200    200          200    200          200    200

# The published policies: public
policies:list                              GET    -      200       200    200         200    200          200    200          200    200
policies:detail                            GET    -      200       200    200         200    200          200    200          200    200

# Reports (agents), trade feedback (the order's two sides), a seller's page (anyone signed in)
feedback:reports                           GET    -      login     403    403         403    403          200    200          200    login
feedback:report-csv                        GET    -      login     403    403         403    403          200    200          200    login
feedback:order-feedback                    GET    own    login     200    404         200    404          404    404          404    login
feedback:order-feedback                    GET    other  login     404    200         404    200          404    404          404    login
feedback:order-feedback                    POST   own    login     302    404         302    404          404    404          404    login
feedback:order-feedback                    POST   other  login     404    302         404    302          404    404          404    login
feedback:seller                            GET    own    login     200    200         200    200          200    200          200    login
feedback:seller                            GET    other  login     200    200         200    200          200    200          200    login

# The portal and the case page: a case that is not yours is a 404 (the integration reads every case, through the API)
disputes:home                              GET    -      login     200    200         200    200          200    200          200    login
disputes:order-list                        GET    -      login     200    200         200    200          200    200          200    login
disputes:case-list                         GET    -      login     200    200         200    200          200    200          200    login
disputes:case-file                         GET    -      login     200    200         200    200          200    200          200    login
disputes:case-file                         POST   -      login     302    form        form   form         form   form         form   login
disputes:case-detail                       GET    own    login     200    404         200    404          200    200          200    login
disputes:case-detail                       GET    other  login     404    200         404    200          200    200          200    login
disputes:case-action                       GET    own    login     405    405         405    405          405    405          405    login
disputes:case-action                       GET    other  login     405    405         405    405          405    405          405    login
disputes:case-action                       POST   own    login     403    404         302    404          403    403          403    login
disputes:case-action                       POST   other  login     404    403         404    302          403    403          403    login
disputes:message-create                    GET    own    login     405    405         405    405          405    405          405    login
disputes:message-create                    GET    other  login     405    405         405    405          405    405          405    login
disputes:message-create                    POST   own    login     302    404         302    404          302    302          302    login
disputes:message-create                    POST   other  login     404    302         404    302          302    302          302    login
disputes:evidence-create                   GET    own    login     405    405         405    405          405    405          405    login
disputes:evidence-create                   GET    other  login     405    405         405    405          405    405          405    login
disputes:evidence-create                   POST   own    login     302    404         302    404          302    302          302    login
disputes:evidence-create                   POST   other  login     404    302         404    302          302    302          302    login
disputes:evidence-file                     GET    own    login     200    404         200    404          200    200          200    login
disputes:evidence-file                     GET    other  login     404    200         404    200          200    200          200    login
disputes:evidence-file                     GET    cross  login     404    404         404    404          404    404          404    login
disputes:return-shipped                    GET    own    login     405    405         405    405          405    405          405    login
disputes:return-shipped                    GET    other  login     405    405         405    405          405    405          405    login
disputes:return-shipped                    POST   own    login     400    404         403    404          403    403          403    login
disputes:return-shipped                    POST   other  login     404    400         404    403          403    403          403    login
disputes:proposal-respond                  GET    own    login     405    405         405    405          405    405          405    login
disputes:proposal-respond                  GET    other  login     405    405         405    405          405    405          405    login
disputes:proposal-respond                  POST   own    login     400    404         400    404          400    400          400    login
disputes:proposal-respond                  POST   other  login     404    400         404    400          400    400          400    login
disputes:survey-respond                    GET    own    login     405    405         405    405          405    405          405    login
disputes:survey-respond                    GET    other  login     405    405         405    405          405    405          405    login
disputes:survey-respond                    POST   own    login     400    404         400    404          403    403          403    login
disputes:survey-respond                    POST   other  login     404    400         404    400          403    403          403    login
disputes:resolution-center                 GET    -      login     200    200         200    200          200    200          200    login
disputes:notification-list                 GET    -      login     200    200         200    200          200    200          200    login
disputes:notification-read                 GET    -      login     405    405         405    405          405    405          405    login
disputes:notification-read                 POST   -      login     302    302         302    302          302    302          302    login
disputes:account                           GET    -      login     200    200         200    200          200    200          200    login
disputes:account                           POST   -      login     302    302         302    302          302    302          302    login

# The console: agents only. Its queue pages are a 403 to anyone else; a case's pages are a 404 (a case that is
# not yours is not found, whoever you are on it); the open case is not in mediation yet
disputes:console-queue                     GET    -      login     403    403         403    403          200    200          200    login
disputes:console-take-next                 GET    -      login     403    403         403    403          405    405          405    login
disputes:console-take-next                 POST   -      login     403    403         403    403          302    302          302    login
disputes:console-availability              GET    -      login     403    403         403    403          405    405          405    login
disputes:console-availability              POST   -      login     403    403         403    403          302    302          302    login
disputes:console-case                      GET    own    login     404    404         404    404          200    200          200    login
disputes:console-case                      GET    other  login     404    404         404    404          200    200          200    login
disputes:console-claim                     GET    own    login     404    404         404    404          405    405          405    login
disputes:console-claim                     GET    other  login     404    404         404    404          405    405          405    login
disputes:console-claim                     POST   own    login     404    404         404    404          400    400          400    login
disputes:console-claim                     POST   other  login     404    404         404    404          400    400          400    login
disputes:console-appeal-take               GET    own    login     404    404         404    404          405    405          405    login
disputes:console-appeal-take               GET    other  login     404    404         404    404          405    405          405    login
disputes:console-appeal-take               POST   own    login     404    404         404    404          400    400          400    login
disputes:console-appeal-take               POST   other  login     404    404         404    404          400    400          400    login
disputes:console-message                   GET    own    login     404    404         404    404          405    405          405    login
disputes:console-message                   GET    other  login     404    404         404    404          405    405          405    login
disputes:console-message                   POST   own    login     404    404         404    404          302    302          302    login
disputes:console-message                   POST   other  login     404    404         404    404          302    302          302    login
disputes:console-note                      GET    own    login     404    404         404    404          405    405          405    login
disputes:console-note                      GET    other  login     404    404         404    404          405    405          405    login
disputes:console-note                      POST   own    login     404    404         404    404          302    302          302    login
disputes:console-note                      POST   other  login     404    404         404    404          302    302          302    login
disputes:console-canned                    GET    own    login     404    404         404    404          405    405          405    login
disputes:console-canned                    GET    other  login     404    404         404    404          405    405          405    login
disputes:console-canned                    POST   own    login     404    404         404    404          200    200          200    login
disputes:console-canned                    POST   other  login     404    404         404    404          200    200          200    login
disputes:console-evidence-request          GET    own    login     404    404         404    404          405    405          405    login
disputes:console-evidence-request          GET    other  login     404    404         404    404          405    405          405    login
disputes:console-evidence-request          POST   own    login     404    404         404    404          400    400          400    login
disputes:console-evidence-request          POST   other  login     404    404         404    404          400    400          400    login
disputes:console-propose                   GET    own    login     404    404         404    404          405    405          405    login
disputes:console-propose                   GET    other  login     404    404         404    404          405    405          405    login
disputes:console-propose                   POST   own    login     404    404         404    404          400    400          400    login
disputes:console-propose                   POST   other  login     404    404         404    404          400    400          400    login
disputes:console-decide                    GET    own    login     404    404         404    404          405    405          405    login
disputes:console-decide                    GET    other  login     404    404         404    404          405    405          405    login
disputes:console-decide                    POST   own    login     404    404         404    404          400    400          400    login
disputes:console-decide                    POST   other  login     404    404         404    404          400    400          400    login
disputes:console-decide-appeal             GET    own    login     404    404         404    404          405    405          405    login
disputes:console-decide-appeal             GET    other  login     404    404         404    404          405    405          405    login
disputes:console-decide-appeal             POST   own    login     404    404         404    404          400    400          400    login
disputes:console-decide-appeal             POST   other  login     404    404         404    404          400    400          400    login
disputes:console-reassign                  GET    own    login     404    404         404    404          405    405          405    login
disputes:console-reassign                  GET    other  login     404    404         404    404          405    405          405    login
disputes:console-reassign                  POST   own    login     404    404         404    404          400    400          400    login
disputes:console-reassign                  POST   other  login     404    404         404    404          400    400          400    login

# The API, with each person's token
api:order-list                             GET    -      401       200    200         200    200          200    200          200    200
api:order-detail                           GET    own    401       200    404         200    404          200    200          200    200
api:order-detail                           GET    other  401       404    200         404    200          200    200          200    200
api:order-detail                           PUT    own    401       403    403         403    403          403    403          403    200
api:order-detail                           PUT    other  401       403    403         403    403          403    403          403    200
api:order-shipment                         GET    own    401       403    403         403    403          403    403          403    405
api:order-shipment                         GET    other  401       403    403         403    403          403    403          403    405
api:order-shipment                         POST   own    401       403    403         403    403          403    403          403    400
api:order-shipment                         POST   other  401       403    403         403    403          403    403          403    400
api:case-list                              GET    -      401       200    200         200    200          200    200          200    200
api:case-list                              POST   -      401       201    400         400    400          400    400          400    403
api:case-detail                            GET    own    401       200    404         200    404          200    200          200    200
api:case-detail                            GET    other  401       404    200         404    200          200    200          200    200
api:case-transitions                       GET    own    401       405    405         405    405          405    405          405    405
api:case-transitions                       GET    other  401       405    405         405    405          405    405          405    405
api:case-transitions                       POST   own    401       403    404         200    404          403    403          403    403
api:case-transitions                       POST   other  401       404    403         404    200          403    403          403    403
api:case-return-shipment                   GET    own    401       405    405         405    405          405    405          405    405
api:case-return-shipment                   GET    other  401       405    405         405    405          405    405          405    405
api:case-return-shipment                   POST   own    401       409    404         403    404          403    403          403    403
api:case-return-shipment                   POST   other  401       404    409         404    403          403    403          403    403
api:case-proposal-answer                   GET    own    401       405    405         405    405          405    405          405    405
api:case-proposal-answer                   GET    other  401       405    405         405    405          405    405          405    405
api:case-proposal-answer                   POST   own    401       409    404         409    404          409    409          409    403
api:case-proposal-answer                   POST   other  401       404    409         404    409          409    409          409    403
api:case-history                           GET    own    401       200    404         200    404          200    200          200    200
api:case-history                           GET    other  401       404    200         404    200          200    200          200    200
api:case-messages                          GET    own    401       200    404         200    404          200    200          200    200
api:case-messages                          GET    other  401       404    200         404    200          200    200          200    200
api:case-messages                          POST   own    401       201    404         201    404          201    201          201    403
api:case-messages                          POST   other  401       404    201         404    201          201    201          201    403
api:case-evidence                          GET    own    401       200    404         200    404          200    200          200    200
api:case-evidence                          GET    other  401       404    200         404    200          200    200          200    200
api:case-evidence                          POST   own    401       201    404         201    404          201    201          201    403
api:case-evidence                          POST   other  401       404    201         404    201          201    201          201    403
api:case-evidence-file                     GET    own    401       200    404         200    404          200    200          200    200
api:case-evidence-file                     GET    other  401       404    200         404    200          200    200          200    200
api:case-evidence-file                     GET    cross  401       404    404         404    404          404    404          404    404
api/v1/                                    GET    -      404       404    404         404    404          404    404          404    404
api-schema                                 GET    -      200       200    200         200    200          200    200          200    200
api-docs                                   GET    -      200       200    200         200    200          200    200          200    200

# Django admin: the superuser only; anyone else is sent to the admin's sign-in page
admin:index                                GET    -      login     login  login       login  login        login  login        200    login
admin:login                                GET    -      200       200    200         200    200          200    200          302    200
admin:login                                POST   -      302       302    302         302    302          302    302          302    302
admin:logout                               GET    -      302       302    302         302    302          302    302          405    302
admin:logout                               POST   -      302       302    302         302    302          302    302          200    302
admin:password_change                      GET    -      login     login  login       login  login        login  login        200    login
admin:password_change                      POST   -      login     login  login       login  login        login  login        302    login
admin:password_change_done                 GET    -      login     login  login       login  login        login  login        200    login
admin:autocomplete                         GET    -      login     login  login       login  login        login  login        403    login
admin:jsi18n                               GET    -      login     login  login       login  login        login  login        200    login
admin:view_on_site                         GET    -      login     login  login       login  login        login  login        302    login
admin:app_list                             GET    -      login     login  login       login  login        login  login        200    login
admin/(?P<url>.*)$                         GET    -      login     login  login       login  login        login  login        404    login

# Every model's pages, asked about a real record; the records are read-only unless listed further down
admin:*_changelist                         GET    -      login     login  login       login  login        login  login        200    login
admin:*_history                            GET    -      login     login  login       login  login        login  login        200    login
admin:*_change                             GET    -      login     login  login       login  login        login  login        200    login
admin/*/<path:object_id>/                  GET    -      login     login  login       login  login        login  login        302    login
admin:*_simple_history                     GET    -      login     login  login       login  login        login  login        200    login
admin:*_simple_history                     POST   -      login     login  login       login  login        login  login        form   login
admin:*_add                                GET    -      login     login  login       login  login        login  login        403    login
admin:*_add                                POST   -      login     login  login       login  login        login  login        403    login
admin:*_change                             POST   -      login     login  login       login  login        login  login        403    login
admin:*_delete                             GET    -      login     login  login       login  login        login  login        403    login
admin:*_delete                             POST   -      login     login  login       login  login        login  login        403    login

# What the admin edits: groups, users, tokens, policies, canned replies, webhook endpoints
admin:{edited}_add                         GET    -      login     login  login       login  login        login  login        200    login
admin:{edited}_add                         POST   -      login     login  login       login  login        login  login        form   login
admin:{edited}_change                      POST   -      login     login  login       login  login        login  login        form   login
admin:{edited}_delete                      GET    -      login     login  login       login  login        login  login        200    login
admin:{edited}_delete                      POST   -      login     login  login       login  login        login  login        302    login
# a user with cases is kept; an endpoint's deliveries are not the admin's to delete
admin:auth_user_delete                     POST   -      login     login  login       login  login        login  login        form   login
admin:disputes_webhookendpoint_delete      POST   -      login     login  login       login  login        login  login        403    login
# a case: the form saves nothing, the state moves only by a transition (through the services)
admin:disputes_case_change                 POST   -      login     login  login       login  login        login  login        302    login
admin:disputes_case_simple_history         POST   -      login     login  login       login  login        login  login        302    login
admin:disputes_case_transition             GET    -      login     login  login       login  login        login  login        302    login
admin:disputes_case_transition             POST   -      login     login  login       login  login        login  login        302    login
admin:auth_user_password_change            GET    -      login     login  login       login  login        login  login        200    login
admin:auth_user_password_change            POST   -      login     login  login       login  login        login  login        302    login
# sign-in records (django-axes): read and delete only
admin:axes_*_change                        POST   -      login     login  login       login  login        login  login        302    login
admin:axes_*_delete                        GET    -      login     login  login       login  login        login  login        200    login
admin:axes_*_delete                        POST   -      login     login  login       login  login        login  login        302    login

# Sockets: a number is the close code of a refusal, sent before any data frame
ws/cases/<str:reference>/                  WS     own    4401      accept 4404        accept 4404         accept accept       accept 4401
ws/cases/<str:reference>/                  WS     other  4401      4404   accept      4404   accept       accept accept       accept 4401
ws/console/queue/                          WS     -      4401      4403   4403        4403   4403         accept accept       accept 4401
"""

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
OBJECT_PARAMS = {"reference", "external_id", "username", "pk"}  # a non-admin route with one is asked per object


# The table


@dataclass(frozen=True)
class Row:
    route: str
    method: str
    scope: str
    cells: dict


def table() -> list[Row]:
    lines = [line for line in MATRIX.strip().splitlines() if line.strip() and not line.startswith("#")]
    header, *rows = [line.split() for line in lines]
    assert header == ["route", "method", "object", *ROLES]
    parsed = []
    for row in rows:
        assert len(row) == 3 + len(ROLES), f"row has {len(row)} columns: {row}"
        parsed.append(Row(row[0], row[1], row[2], dict(zip(ROLES, row[3:], strict=True))))
    return parsed


# The models whose records the admin edits by hand; the desk writes the others through its services.
NAMED = {
    "edited": "auth_group,auth_user,authtoken_tokenproxy,policies_policy,disputes_cannedreply,disputes_webhookendpoint"
}


def _expand(pattern: str) -> list[str]:
    """`a{b,c}d` -> [abd, acd]; `{edited}` stands for the list NAMED gives it."""
    match = re.search(r"\{([^{}]*)\}", pattern)
    if not match:
        return [pattern]
    return [
        expanded
        for option in NAMED.get(match.group(1), match.group(1)).split(",")
        for expanded in _expand(pattern[: match.start()] + option + pattern[match.end() :])
    ]


def _is_group(row_route: str) -> bool:
    return "*" in row_route or "{" in row_route


def matches(row_route: str, key: str) -> bool:
    if row_route == key:
        return True
    return _is_group(row_route) and any(fnmatch.fnmatchcase(key, p) for p in _expand(row_route))


def rows_for(key: str, rows: list[Row]) -> dict[tuple[str, str], Row]:
    """The rows that apply to a route, by (method, object); a later row replaces an earlier one,
    and a row naming the route itself replaces any group row."""
    chosen: dict[tuple[str, str], Row] = {}
    for exact in (False, True):
        for row in rows:
            if (row.route == key) if exact else (_is_group(row.route) and matches(row.route, key)):
                chosen[(row.method, row.scope)] = row
    return chosen
