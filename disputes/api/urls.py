from django.urls import path, re_path

from disputes.api.views import cases, common, conversation, orders

app_name = "api"
urlpatterns = [
    path("orders/", orders.OrderListApi.as_view(), name="order-list"),
    path("orders/<str:external_id>/", orders.OrderApi.as_view(), name="order-detail"),
    path("orders/<str:external_id>/shipment/", orders.OrderShipmentApi.as_view(), name="order-shipment"),
    path("cases/", cases.CasesApi.as_view(), name="case-list"),
    path("cases/<str:reference>/", cases.CaseDetailApi.as_view(), name="case-detail"),
    path("cases/<str:reference>/transitions/", cases.CaseTransitionApi.as_view(), name="case-transitions"),
    path("cases/<str:reference>/return-shipment/", cases.ReturnShipmentApi.as_view(), name="case-return-shipment"),
    path("cases/<str:reference>/proposal-answer/", cases.ProposalAnswerApi.as_view(), name="case-proposal-answer"),
    path("cases/<str:reference>/history/", cases.CaseHistoryApi.as_view(), name="case-history"),
    path("cases/<str:reference>/messages/", conversation.CaseMessagesApi.as_view(), name="case-messages"),
    path("cases/<str:reference>/evidence/", conversation.CaseEvidenceApi.as_view(), name="case-evidence"),
    path(
        "cases/<str:reference>/evidence/<int:pk>/file/",
        conversation.EvidenceFileApi.as_view(),
        name="case-evidence-file",
    ),
    # Anything else under /api/v1/ is a JSON 404, never the site's HTML page.
    re_path(r"", common.endpoint_not_found),
]
