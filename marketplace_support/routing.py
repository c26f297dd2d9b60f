"""WebSocket routes: a room per case and the agents' queue feed."""

from django.urls import path

from disputes import consumers

websocket_urlpatterns = [
    path("ws/cases/<str:reference>/", consumers.CaseConsumer.as_asgi()),
    path("ws/console/queue/", consumers.QueueConsumer.as_asgi()),
]
