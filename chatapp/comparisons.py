"""Side-by-side comparison: one prompt, two to four models, the user's pick."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from chatapp.models import Comparison, Conversation
from chatapp.services import user_message_add

if TYPE_CHECKING:
    from orgs.models import User

MIN_MODELS, MAX_MODELS = 2, 4


@transaction.atomic
def comparison_create(*, user: User, prompt: str, models: list[str]) -> Comparison:
    """A column (conversation with the user's question) per model; the answers are
    started by each column's socket, like any other turn."""
    comparison = Comparison.objects.create(user=user, prompt=prompt)
    for model_name in models:
        column = Conversation.objects.create(
            user=user, model_name=model_name, comparison=comparison
        )
        user_message_add(column, text=prompt, parent=None)
    return comparison


@transaction.atomic
def comparison_vote(comparison: Comparison, *, model_name: str) -> Comparison:
    if not comparison.columns.filter(model_name=model_name).exists():
        raise ValueError("not a model of this comparison")
    comparison.winner_model = model_name
    comparison.voted_at = timezone.now()
    comparison.save(update_fields=["winner_model", "voted_at"])
    return comparison
