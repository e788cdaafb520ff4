"""One chat turn as named steps (R1: keep it a sequence of calls, not branches).

retrieve company passages the user may read → store the user message (and the
citations) → build the prompt from the branch on screen → start the
answer (a task independent of the socket) → the generator streams and persists.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import transaction

from chatapp.attachments import conversation_attachment_ids
from chatapp.dbthread import blocking_call, db_call
from chatapp.generation import generate_answer
from chatapp.knowledge import Passage, citations_store, knowledge_prompt, passages_for
from chatapp.models import Conversation, Message
from chatapp.runtime import get_chat_runtime
from chatapp.selectors import message_path
from chatapp.services import assistant_message_start, user_message_add
from providers.keys import Caller
from providers.keys import caller_for_user as caller_for_person
from providers.types import ChatMessage, ChatRequest

if TYPE_CHECKING:
    from orgs.models import User


@dataclass(frozen=True)
class TurnStart:
    user_message: Message
    assistant_message: Message
    request: ChatRequest
    caller: Caller
    title: str


def caller_for_user(user: User) -> Caller:
    return caller_for_person(user, source="chat")


def prompt_for(
    conversation: Conversation, path: list[Message], passages: list[Passage] | None = None
) -> ChatRequest:
    messages: list[ChatMessage] = []
    if conversation.system_prompt:
        messages.append(ChatMessage(role="system", content=conversation.system_prompt))
    if passages:
        messages.append(ChatMessage(role="system", content=knowledge_prompt(passages)))
    for message in path:
        unfinished = message.status != Message.Status.COMPLETE
        if message.role == Message.Role.ASSISTANT and unfinished and not message.content:
            continue  # a failed or interrupted answer with nothing worth sending back
        messages.append(ChatMessage(role=message.role, content=message.content))  # type: ignore[arg-type]
    return ChatRequest(model=conversation.model_name, messages=messages)


@transaction.atomic
def turn_prepare(
    conversation: Conversation,
    *,
    user: User,
    text: str | None,
    parent: Message | None,
    worker: str,
    passages: list[Passage] | None = None,
) -> TurnStart:
    """With ``text``: a new user message under ``parent`` (an edit when a sibling exists).
    Without: regenerate the answer to ``parent``, an existing user message."""
    if text is not None:
        user_message = user_message_add(conversation, text=text, parent=parent)
    else:
        if parent is None or parent.role != Message.Role.USER:
            raise ValueError("regenerating needs the user message to answer")
        user_message = parent
    assistant = assistant_message_start(
        conversation, parent=user_message, model_name=conversation.model_name, worker=worker
    )
    if passages:
        citations_store(assistant, passages)
    request = prompt_for(conversation, message_path(conversation)[:-1], passages)
    return TurnStart(user_message, assistant, request, caller_for_user(user), conversation.title)


def turn_passages(conversation: Conversation, user: User, question: str) -> list[Passage]:
    """What the answer may draw on: the conversation's files, and the company's
    documents unless the conversation leaves them out."""
    return passages_for(
        user,
        question,
        conversation_attachment_ids(conversation),
        company=conversation.company_knowledge,
    )


async def turn_start(
    conversation: Conversation, *, user: User, text: str | None, parent: Message | None
) -> TurnStart:
    runtime = get_chat_runtime()
    question = text if text is not None else (parent.content if parent is not None else "")
    # Outside the turn's transaction: the search embeds the question through the gateway.
    # (Mostly waiting on the network: not on db_call's few threads.)
    passages = await blocking_call(turn_passages)(conversation, user, question)
    start = await db_call(turn_prepare)(
        conversation,
        user=user,
        text=text,
        parent=parent,
        worker=runtime.worker_id,
        passages=passages,
    )
    # Following its stop requests before anyone learns the answer's id: a stop cannot
    # be missed, so the generation need not read the stored request first.
    await runtime.hub().generation_begin(start.assistant_message.pk)
    runtime.spawn(
        generate_answer(
            conversation_id=conversation.pk,
            message_id=start.assistant_message.pk,
            request=start.request,
            caller=start.caller,
        )
    )
    return start
