from __future__ import annotations

from django.urls import path

from chatapp import views_chat, views_files

app_name = "chat"
urlpatterns = [
    path("new/", views_chat.conversation_new, name="new"),
    path("bin/", views_chat.conversation_bin, name="bin"),
    path("archive/", views_chat.conversation_archive, name="archive"),
    path("compare/", views_chat.comparison_new, name="compare"),
    path("compare/<int:comparison_id>/", views_chat.comparison_page, name="comparison"),
    path("compare/<int:comparison_id>/vote/", views_chat.comparison_vote_view, name="compare_vote"),
    path("templates/", views_chat.prompt_templates, name="templates"),
    path(
        "templates/<int:template_id>/delete/",
        views_chat.prompt_template_delete,
        name="template_delete",
    ),
    path("<int:conversation_id>/", views_chat.conversation_page, name="conversation"),
    path("<int:conversation_id>/m/<int:message_id>/", views_chat.message_html, name="message"),
    path(
        "<int:conversation_id>/m/<int:message_id>/artifact/<int:index>/",
        views_chat.message_artifact,
        name="artifact",
    ),
    path("<int:conversation_id>/files/", views_files.conversation_file_upload, name="file_upload"),
    path(
        "<int:conversation_id>/files/<int:document_id>/remove/",
        views_files.conversation_file_remove,
        name="file_remove",
    ),
    path("<int:conversation_id>/<slug:action>/", views_chat.conversation_action, name="action"),
]
