from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from chatapp import views, views_chat
from providers.ops import views as ops_views
from rag import views as rag_views
from rag import views_manage as rag_manage

urlpatterns = [
    path("", views_chat.chat_home, name="home"),
    path("chat/", include("chatapp.urls_chat")),
    path("healthz", views.healthz, name="healthz"),
    path("metrics", ops_views.metrics, name="metrics"),
    path("accounts/", include("allauth.urls")),
    path("org/", include("orgs.urls")),
    path("api/rag/", include("rag.api")),
    path("documents/", rag_views.document_list, name="documents"),
    path(
        "documents/<int:document_id>/download/",
        rag_views.document_download,
        name="document_download",
    ),
    path("documents/passages/<int:chunk_id>/", rag_views.passage_detail, name="passage"),
    path("documents/<int:document_id>/", rag_manage.document_page, name="document"),
    path(
        "documents/<int:document_id>/access/",
        rag_manage.document_access,
        name="document_access",
    ),
    path(
        "documents/<int:document_id>/replace/",
        rag_manage.document_replace_view,
        name="document_replace",
    ),
    path(
        "documents/<int:document_id>/delete/",
        rag_manage.document_delete_view,
        name="document_delete",
    ),
    path("budgets/", include("providers.budgets.urls")),
    path("keys/", include("providers.vault.urls")),
    path("pii/", include("providers.pii.urls")),
    path("finance/", include("providers.finance.urls")),
    path("ops/", include("providers.ops.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    # One sign-in page for everyone, so the local-login switch and SSO rules always apply.
    path(
        "admin/login/",
        RedirectView.as_view(pattern_name="account_login", query_string=True),
        name="admin_login_redirect",
    ),
    path("admin/", admin.site.urls),
]
