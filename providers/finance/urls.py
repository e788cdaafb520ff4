from __future__ import annotations

from django.urls import URLPattern, URLResolver, path, re_path

from providers.finance.views import dashboard, departments, rates, statements

app_name = "finance"
_DEPARTMENT = "departments/<int:department_id>/"
_STATEMENT = r"^departments/(?P<department_id>[0-9]+)/statements/(?P<month>[0-9]{4}-[0-9]{2})/"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", dashboard.dashboard, name="dashboard"),
    path("export/<slug:table>.csv", dashboard.dashboard_export, name="export"),
    path(_DEPARTMENT, departments.department_detail, name="department"),
    path(
        _DEPARTMENT + "export/<slug:table>.csv",
        departments.department_export,
        name="department_export",
    ),
    path(_DEPARTMENT + "users/<int:user_id>/", departments.member_requests, name="member"),
    path(
        _DEPARTMENT + "users/<int:user_id>/export.csv",
        departments.member_export,
        name="member_export",
    ),
    re_path(_STATEMENT + "$", statements.statement_page, name="statement"),
    re_path(_STATEMENT + r"statement\.csv$", statements.statement_export, name="statement_export"),
    path("rates/", rates.rate_list, name="rates"),
    path("rates/add/", rates.rate_add, name="rate_add"),
    path("rates/<int:rate_id>/edit/", rates.rate_edit, name="rate_edit"),
    path("rates/<int:rate_id>/delete/", rates.rate_delete, name="rate_delete"),
]
