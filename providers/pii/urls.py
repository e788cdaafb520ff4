from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from providers.pii import views

app_name = "pii"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.policies, name="policies"),
    path("<int:policy_id>/", views.policy_edit, name="policy_edit"),
    path("<int:policy_id>/delete/", views.policy_delete, name="policy_delete"),
    path("try/", views.try_text, name="try"),
]
