from __future__ import annotations

from django.urls import URLPattern, URLResolver

app_name = "budgets"
urlpatterns: list[URLPattern | URLResolver] = []
