from __future__ import annotations

from django.urls import path

from providers.budgets import views

app_name = "budgets"
urlpatterns = [
    path("", views.budget_list, name="list"),
    path("<int:budget_id>/", views.budget_edit, name="edit"),
    path("<int:budget_id>/delete/", views.budget_remove, name="delete"),
    path("rate-limits/", views.rate_limits, name="rate_limits"),
    path("notices/", views.notices, name="notices"),
]
