from django.urls import path

from feedback import views

app_name = "feedback"
urlpatterns = [
    path("console/reports/", views.report_page, name="reports"),
    path("console/reports/<slug:table>.csv", views.report_csv, name="report-csv"),
    path("orders/<str:external_id>/feedback/", views.order_feedback, name="order-feedback"),
    path("sellers/<str:username>/", views.seller_page, name="seller"),
]
