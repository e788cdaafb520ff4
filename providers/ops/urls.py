from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from providers.ops import views

app_name = "ops"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.dashboard, name="dashboard"),
    # The same endpoint as the top-level /metrics, for setups that route only /ops/.
    path("metrics", views.metrics, name="metrics"),
]
