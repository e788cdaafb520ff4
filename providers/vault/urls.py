from __future__ import annotations

from django.urls import URLPattern, URLResolver

from providers.vault import views

app_name = "vault"
urlpatterns: list[URLPattern | URLResolver] = [*views.urlpatterns]
