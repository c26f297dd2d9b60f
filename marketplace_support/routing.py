"""WebSocket routes (`/ws/...`). The case rooms and the agents' queue feed plug in here."""

websocket_urlpatterns: list = []
