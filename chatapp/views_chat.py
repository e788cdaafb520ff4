"""The chat pages: thin views over services, selectors and permissions (R1, R3)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_POST

from chatapp.artifacts import ARTIFACT_CSP, artifact_document
from chatapp.attachments import conversation_files
from chatapp.comparisons import comparison_create, comparison_vote
from chatapp.forms import (
    ComparisonForm,
    ConversationCreateForm,
    ConversationRenameForm,
    PromptTemplateForm,
    SystemPromptForm,
)
from chatapp.models import Comparison, Conversation, Message, PromptTemplate
from chatapp.permissions import access_conversation, access_message
from chatapp.rendering import render_markdown
from chatapp.selectors import (
    branch_leaf,
    conversation_list_for_user,
    message_path,
    sibling_neighbours,
)
from chatapp.services import (
    MessageBusy,
    conversation_branch_select,
    conversation_create,
    conversation_delete,
    conversation_restore,
    conversation_update,
    message_delete,
)
from chatapp.templates_prompts import prompt_template_create, prompt_template_list_for_user
from chatapp.turns import caller_for_user
from orgs.errors import AccessDenied
from orgs.models import User
from orgs.permissions import is_platform_admin
from providers import gateway


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # noqa: S101 - login_required ran first
    return request.user


def _conversation_or_404(
    request: HttpRequest, conversation_id: int, **kwargs: bool
) -> Conversation:
    try:
        return access_conversation(request.user, conversation_id, **kwargs)
    except AccessDenied:
        raise Http404 from None


def _sidebar(request: HttpRequest) -> dict[str, object]:
    search = request.GET.get("q", "").strip()[:100]
    return {
        "conversations": conversation_list_for_user(_user(request), search=search)[:100],
        "search": search,
    }


def rendered_answer(message: Message) -> str:
    """Sanitised HTML of a finished answer, cached: rendering a long answer in pure Python
    takes a noticeable fraction of a second. Button labels depend on the language."""
    if message.status == Message.Status.STREAMING:
        return render_markdown(message.content)
    key = f"chat:html:{message.pk}:{len(message.content)}:{get_language()}"
    return str(cache.get_or_set(key, lambda: render_markdown(message.content), timeout=86_400))


def _model_names(user: User) -> list[str]:
    return [m.name for m in gateway.models(caller_for_user(user), mode="chat")]


@login_required
@require_GET
def chat_home(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    infos = gateway.models(caller_for_user(user), mode="chat")
    form = ConversationCreateForm(models=[m.name for m in infos])
    return render(request, "chat/home.html", {**_sidebar(request), "models": infos, "form": form})


@login_required
@require_POST
def conversation_new(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = ConversationCreateForm(request.POST, models=_model_names(user))
    if not form.is_valid():
        messages.error(request, _("Choose a model you may use."))
        return redirect("home")
    conversation = conversation_create(
        user=user,
        model_name=form.cleaned_data["model"],
        system_prompt=form.cleaned_data["system_prompt"],
    )
    return redirect("chat:conversation", conversation_id=conversation.pk)


@login_required
@require_GET
def conversation_page(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = _conversation_or_404(request, conversation_id)
    path = message_path(conversation)
    neighbours = sibling_neighbours(conversation, path)
    turns = [
        {
            "message": m,
            "html": rendered_answer(m) if m.role == Message.Role.ASSISTANT else "",
            "siblings": neighbours[m.pk],
        }
        for m in path
    ]
    return render(
        request,
        "chat/conversation.html",
        {
            **_sidebar(request),
            "conversation": conversation,
            "turns": turns,
            "models": _model_names(_user(request)),
            "templates": prompt_template_list_for_user(_user(request)),
            "files": conversation_files(conversation),
            "max_upload_bytes": settings.RAG_MAX_UPLOAD_BYTES,
            "max_upload_mb": settings.RAG_MAX_UPLOAD_BYTES // (1024 * 1024),
        },
    )


@login_required
@require_POST
def conversation_action(request: HttpRequest, conversation_id: int, action: str) -> HttpResponse:
    conversation = _conversation_or_404(request, conversation_id, include_deleted=True)
    if action == "rename":
        form = ConversationRenameForm(request.POST)
        if form.is_valid():
            conversation_update(conversation, title=form.cleaned_data["title"])
    elif action in ("pin", "unpin"):
        conversation_update(conversation, pinned=action == "pin")
    elif action in ("archive", "unarchive"):
        conversation_update(conversation, archived=action == "archive")
    elif action in ("knowledge-on", "knowledge-off"):
        conversation_update(conversation, company_knowledge=action == "knowledge-on")
    elif action == "delete":
        conversation_delete(conversation)
        messages.success(request, _("Moved to the bin; you can restore it for 30 days."))
        return redirect("home")
    elif action == "restore":
        conversation_restore(conversation)
    elif action == "model":
        model = request.POST.get("model", "")
        if model in _model_names(_user(request)):
            conversation_update(conversation, model_name=model)
        else:
            messages.error(request, _("Choose a model you may use."))
    elif action == "system":
        system = SystemPromptForm(request.POST)
        if system.is_valid():
            conversation_update(conversation, system_prompt=system.cleaned_data["system_prompt"])
            messages.success(request, _("The system prompt applies from the next answer on."))
        else:
            messages.error(
                request, " ".join(str(e) for e in system.errors.get("system_prompt", []))
            )
    elif action == "delete-message":
        try:
            chosen = access_message(conversation, request.POST.get("message_id"))
        except AccessDenied:
            raise Http404 from None
        try:
            message_delete(conversation, message=chosen)
        except MessageBusy:
            messages.error(request, _("Stop the answer before deleting it."))
    elif action == "branch":
        try:
            chosen = access_message(conversation, request.POST.get("message_id"))
        except AccessDenied:
            raise Http404 from None
        conversation_branch_select(conversation, leaf=branch_leaf(chosen))
    else:
        raise Http404
    return redirect("chat:conversation", conversation_id=conversation.pk)


@login_required
@require_GET
def conversation_archive(request: HttpRequest) -> HttpResponse:
    archived = conversation_list_for_user(_user(request), archived=True)
    return render(request, "chat/archive.html", {**_sidebar(request), "archived": archived})


@login_required
@require_GET
def conversation_bin(request: HttpRequest) -> HttpResponse:
    deleted = conversation_list_for_user(_user(request), deleted=True)
    return render(request, "chat/bin.html", {**_sidebar(request), "deleted": deleted})


def answer_meta(message: Message) -> str:
    """The figures under an answer, in the reader's language."""
    parts = [message.model_name]
    if message.completion_tokens:
        parts.append(f"{message.prompt_tokens} + {message.completion_tokens} {_('tokens')}")
        parts.append(f"${message.cost_usd:.6f}")
    if message.ttft_ms:
        parts.append(f"{_('first token')} {message.ttft_ms:.0f} ms")
    if message.latency_ms:
        parts.append(f"{_('total')} {message.latency_ms:.0f} ms")
    return " · ".join(parts)


def _question_actions(request: HttpRequest, conversation: Conversation, answer: Message) -> str:
    question = answer.parent
    if question is None or question.role != Message.Role.USER:
        return ""
    return render_to_string(
        "chat/_question_actions.html",
        {"m": question, "conversation": conversation},
        request=request,
    )


@login_required
@require_GET
def message_html(request: HttpRequest, conversation_id: int, message_id: int) -> JsonResponse:
    """A finished answer as sanitised HTML, with its figures."""
    conversation = _conversation_or_404(request, conversation_id)
    try:
        message = access_message(conversation, message_id)
    except AccessDenied:
        raise Http404 from None
    return JsonResponse(
        {
            "id": message.pk,
            "status": message.status,
            "html": rendered_answer(message),
            "meta": answer_meta(message),
            # the same buttons as on a reloaded page (regenerate or retry, copy, delete)
            "actions": render_to_string(
                "chat/_answer_actions.html",
                {"m": message, "conversation": conversation},
                request=request,
            ),
            # the question's buttons (edit, copy, delete): a just-sent one has none yet
            "question_actions": _question_actions(request, conversation, message),
            "citations": [
                {
                    "ordinal": c.ordinal,
                    "title": c.title,
                    "page": c.page,
                    # opens the passage, if the reader may still read its document
                    "url": reverse("passage", args=[c.chunk_id]) if c.chunk_id else "",
                }
                for c in message.citations.all()
            ],
            "length": len(message.content),
            "model": message.model_name,
            "prompt_tokens": message.prompt_tokens,
            "completion_tokens": message.completion_tokens,
            "cost_usd": str(message.cost_usd),
            "ttft_ms": message.ttft_ms,
            "latency_ms": message.latency_ms,
            "error_code": message.error_code,
            "error_text": message.error_text,
        }
    )


@login_required
@require_GET
@xframe_options_sameorigin
def message_artifact(
    request: HttpRequest, conversation_id: int, message_id: int, index: int
) -> HttpResponse:
    """One HTML or SVG block of an answer, for the sandboxed artifact panel."""
    conversation = _conversation_or_404(request, conversation_id)
    try:
        message = access_message(conversation, message_id)
    except AccessDenied:
        raise Http404 from None
    document = artifact_document(message.content, index)
    if document is None:
        raise Http404
    content_type, body = document
    response = HttpResponse(body, content_type=content_type)
    response["Content-Security-Policy"] = ARTIFACT_CSP
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def prompt_templates(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = PromptTemplateForm(request.POST or None, may_share_org_wide=is_platform_admin(user))
    if request.method == "POST" and form.is_valid():
        prompt_template_create(owner=user, **form.cleaned_data)
        messages.success(request, _("Template saved."))
        return redirect("chat:templates")
    return render(
        request,
        "chat/templates.html",
        {
            **_sidebar(request),
            "form": form,
            "templates": prompt_template_list_for_user(user),
        },
    )


@login_required
@require_POST
def prompt_template_delete(request: HttpRequest, template_id: int) -> HttpResponse:
    deleted, _count = PromptTemplate.objects.filter(pk=template_id, owner=_user(request)).delete()
    if not deleted:
        raise Http404
    return redirect("chat:templates")


@login_required
def comparison_new(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = ComparisonForm(request.POST or None, model_names=_model_names(user))
    if request.method == "POST" and form.is_valid():
        comparison = comparison_create(
            user=user, prompt=form.cleaned_data["prompt"], models=form.cleaned_data["models"]
        )
        return redirect("chat:comparison", comparison_id=comparison.pk)
    return render(request, "chat/compare_new.html", {**_sidebar(request), "form": form})


def _comparison_or_404(request: HttpRequest, comparison_id: int) -> Comparison:
    comparison = Comparison.objects.filter(pk=comparison_id, user=_user(request)).first()
    if comparison is None:
        raise Http404
    return comparison


@login_required
@require_GET
def comparison_page(request: HttpRequest, comparison_id: int) -> HttpResponse:
    comparison = _comparison_or_404(request, comparison_id)
    columns = []
    for column in comparison.columns.order_by("id"):
        path = message_path(column)
        question = path[0] if path else None
        answer = path[1] if len(path) > 1 else None
        columns.append(
            {
                "conversation": column,
                "question": question,
                "answer": answer,
                "html": rendered_answer(answer) if answer is not None else "",
                "meta": answer_meta(answer) if answer is not None else "",
            }
        )
    return render(
        request,
        "chat/compare.html",
        {
            **_sidebar(request),
            "comparison": comparison,
            "columns": columns,
        },
    )


@login_required
@require_POST
def comparison_vote_view(request: HttpRequest, comparison_id: int) -> HttpResponse:
    comparison = _comparison_or_404(request, comparison_id)
    try:
        comparison_vote(comparison, model_name=request.POST.get("model", ""))
    except ValueError:
        raise Http404 from None
    messages.success(request, _("Thanks: your pick is recorded."))
    return redirect("chat:comparison", comparison_id=comparison.pk)
