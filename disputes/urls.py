from django.urls import path

from disputes.views import account, portal, seller

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
]
