from __future__ import annotations

from orgs.views import audit, members, org_chart, sso

app_name = "orgs"
urlpatterns = [
    *members.urlpatterns,
    *org_chart.urlpatterns,
    *audit.urlpatterns,
    *sso.urlpatterns,
]
