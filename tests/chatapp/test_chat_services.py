"""Chat services: the message tree, batched appends and crash recovery."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from chatapp.models import Message
from chatapp.selectors import (
    branch_leaf,
    conversation_list_for_user,
    message_path,
    sibling_neighbours,
)
from chatapp.services import (
    assistant_message_finish,
    assistant_message_start,
    assistant_text_append,
    conversation_create,
    conversation_delete,
    conversation_purge_expired,
    conversation_restore,
    user_message_add,
)
from chatapp.tasks import mark_interrupted_answers
from tests.personas import Personas

pytestmark = pytest.mark.django_db


def test_appends_concatenate_in_sql_and_finish_once(personas: Personas) -> None:
    conversation = conversation_create(user=personas.member, model_name="m")
    question = user_message_add(conversation, text="질문", parent=None)
    answer = assistant_message_start(conversation, parent=question, model_name="m", worker="w")
    assistant_text_append(answer.pk, "안녕")
    assistant_text_append(answer.pk, "하세요")
    done = assistant_message_finish(answer.pk, status="complete", tail="!")
    assert (done.content, done.status) == ("안녕하세요!", "complete")
    again = assistant_message_finish(answer.pk, status="error", tail="x")
    assert (again.content, again.status) == ("안녕하세요!", "complete")


def test_edits_and_regenerations_are_siblings_on_a_tree(personas: Personas) -> None:
    conversation = conversation_create(user=personas.member, model_name="m")
    first = user_message_add(conversation, text="first", parent=None)
    answer = assistant_message_start(conversation, parent=first, model_name="m", worker="w")
    assistant_message_finish(answer.pk, status="complete", tail="a1")
    edited = user_message_add(conversation, text="first, edited", parent=None)
    conversation.refresh_from_db()
    assert [m.content for m in message_path(conversation)] == ["first, edited"]
    neighbours = sibling_neighbours(conversation, message_path(conversation))
    assert neighbours[edited.pk] == {"position": 2, "count": 2, "previous": first.pk, "next": None}
    # choosing the first version again shows its branch down to its answer
    assert branch_leaf(first) == answer


def test_a_crashed_generation_is_marked_interrupted_not_complete(personas: Personas) -> None:
    conversation = conversation_create(user=personas.member, model_name="m")
    question = user_message_add(conversation, text="q", parent=None)
    answer = assistant_message_start(conversation, parent=question, model_name="m", worker="gone")
    assistant_text_append(answer.pk, "partial")
    Message.objects.filter(pk=answer.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=5))
    fresh = assistant_message_start(conversation, parent=question, model_name="m", worker="alive")
    assert mark_interrupted_answers() == 1
    answer.refresh_from_db()
    fresh.refresh_from_db()
    assert (answer.status, answer.content) == ("interrupted", "partial")
    assert fresh.status == "streaming"


def test_bin_restore_and_purge(personas: Personas) -> None:
    conversation = conversation_create(user=personas.member, model_name="m")
    conversation_delete(conversation)
    assert not conversation_list_for_user(personas.member).exists()
    assert conversation_list_for_user(personas.member, deleted=True).get() == conversation
    conversation_restore(conversation)
    assert conversation_list_for_user(personas.member).get() == conversation
    conversation_delete(conversation)
    assert conversation_purge_expired(now=timezone.now() + timedelta(days=31)) >= 1
    assert not conversation_list_for_user(personas.member, deleted=True).exists()


def test_search_finds_korean_in_titles_and_content(personas: Personas) -> None:
    conversation = conversation_create(user=personas.member, model_name="m")
    user_message_add(conversation, text="연차휴가 이월 규정", parent=None)
    other = conversation_create(user=personas.outsider, model_name="m")
    user_message_add(other, text="연차휴가 이월 규정", parent=None)
    assert list(conversation_list_for_user(personas.member, search="이월")) == [conversation]
    assert list(conversation_list_for_user(personas.member, search="없음")) == []


def test_a_comparison_needs_two_to_four_models_and_keeps_one_pick(personas: Personas) -> None:
    from chatapp.comparisons import comparison_create, comparison_vote
    from chatapp.forms import ComparisonForm

    form = ComparisonForm({"prompt": "p", "models": ["a"]}, model_names=["a", "b"])
    assert not form.is_valid()
    comparison = comparison_create(user=personas.member, prompt="비교", models=["a", "b"])
    assert comparison.columns.count() == 2
    assert not conversation_list_for_user(personas.member).exists()
    comparison_vote(comparison, model_name="b")
    with pytest.raises(ValueError, match="not a model"):
        comparison_vote(comparison, model_name="zzz")
    comparison.refresh_from_db()
    assert comparison.winner_model == "b"
