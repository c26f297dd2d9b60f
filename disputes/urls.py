from django.urls import path

from disputes.views import account, console, portal, seller

app_name = "disputes"
urlpatterns = [
    path("", portal.home, name="home"),
    path("orders/", portal.order_list, name="order-list"),
    path("cases/", portal.case_list, name="case-list"),
    path("cases/new/", portal.case_file, name="case-file"),
    path("cases/<str:reference>/", portal.case_detail, name="case-detail"),
    path("cases/<str:reference>/actions/<slug:name>/", portal.case_action, name="case-action"),
    path("cases/<str:reference>/messages/", portal.message_create, name="message-create"),
    path("cases/<str:reference>/evidence/", portal.evidence_create, name="evidence-create"),
    path("cases/<str:reference>/evidence/<int:pk>/", portal.evidence_file, name="evidence-file"),
    path("cases/<str:reference>/return/", portal.return_shipped, name="return-shipped"),
    path("cases/<str:reference>/proposal/", portal.proposal_respond, name="proposal-respond"),
    path("cases/<str:reference>/rating/", portal.survey_respond, name="survey-respond"),
    path("seller/", seller.resolution_center, name="resolution-center"),
    path("notifications/", account.notification_list, name="notification-list"),
    path("notifications/read/", account.notification_read, name="notification-read"),
    path("account/", account.account_settings, name="account"),
    path("console/", console.queue, name="console-queue"),
    path("console/take-next/", console.take_next, name="console-take-next"),
    path("console/availability/", console.availability, name="console-availability"),
    path("console/cases/<str:reference>/", console.workspace, name="console-case"),
    path("console/cases/<str:reference>/claim/", console.claim, name="console-claim"),
    path("console/cases/<str:reference>/appeal/take/", console.appeal_take, name="console-appeal-take"),
    path("console/cases/<str:reference>/messages/", console.message_create, name="console-message"),
    path("console/cases/<str:reference>/notes/", console.note_create, name="console-note"),
    path("console/cases/<str:reference>/canned/", console.canned_insert, name="console-canned"),
    path(
        "console/cases/<str:reference>/evidence-requests/",
        console.evidence_request_create,
        name="console-evidence-request",
    ),
    path("console/cases/<str:reference>/proposal/", console.propose, name="console-propose"),
    path("console/cases/<str:reference>/decision/", console.decide, name="console-decide"),
    path("console/cases/<str:reference>/appeal/decision/", console.decide_appeal, name="console-decide-appeal"),
    path("console/cases/<str:reference>/reassign/", console.reassign, name="console-reassign"),
]
