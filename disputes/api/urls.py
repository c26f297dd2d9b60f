from django.urls import path, re_path

from disputes.api import views

app_name = "api"
urlpatterns = [
    path("orders/", views.OrderListApi.as_view(), name="order-list"),
    path("orders/<str:external_id>/", views.OrderApi.as_view(), name="order-detail"),
    path("orders/<str:external_id>/shipment/", views.OrderShipmentApi.as_view(), name="order-shipment"),
    path("cases/", views.CasesApi.as_view(), name="case-list"),
    path("cases/<str:reference>/", views.CaseDetailApi.as_view(), name="case-detail"),
    path("cases/<str:reference>/transitions/", views.CaseTransitionApi.as_view(), name="case-transitions"),
    path("cases/<str:reference>/return-shipment/", views.ReturnShipmentApi.as_view(), name="case-return-shipment"),
    path("cases/<str:reference>/proposal-answer/", views.ProposalAnswerApi.as_view(), name="case-proposal-answer"),
    path("cases/<str:reference>/history/", views.CaseHistoryApi.as_view(), name="case-history"),
    path("cases/<str:reference>/messages/", views.CaseMessagesApi.as_view(), name="case-messages"),
    path("cases/<str:reference>/evidence/", views.CaseEvidenceApi.as_view(), name="case-evidence"),
    path("cases/<str:reference>/evidence/<int:pk>/file/", views.EvidenceFileApi.as_view(), name="case-evidence-file"),
    # Anything else under /api/v1/ is a JSON 404, never the site's HTML page.
    re_path(r"", views.endpoint_not_found),
]
