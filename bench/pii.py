"""PII guard benchmark, run by hand (never by the test suite):

    .venv/bin/python -m bench.pii [--repeat 30] [--kb 32]

Measures, on this machine, the CPU cost of what the gateway does on the event
loop before each call to an external model: ``find_pii`` per KB of Korean text
(prose without numbers, business text with dates and amounts, a table full of
personal data), and ``screen_chat`` in mask mode per message and per request
(a 12-message conversation, and one request carrying RAG context), with the memo
of recently seen texts cleared (cold) and filled (warm). Prints the median CPU
time of ``--repeat`` runs. Needs no database or Redis: Django is only set up
to import the guard.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import time
from collections.abc import Callable
from functools import partial

PROSE = (
    "인공지능 플랫폼 도입에 따라 각 부서는 사용 지침을 숙지해야 합니다. 외부 모델을 사용할 때에는 "
    "개인정보가 포함되지 않도록 주의하시고, 가능하면 사내 모델을 우선 사용해 주시기 바랍니다. "
    "문의 사항은 IT지원팀으로 보내 주세요.\n"
)
BUSINESS = (
    "2024년 3분기 매출은 1,234,567,890원으로 전년 대비 12.5% 증가했습니다. 영업이익률은 8.3%이며 "
    "신규 고객은 1,024곳입니다. 다음 회의는 2024-10-15 14:00에 3층 대회의실에서 열리고, 담당자 "
    "연락처는 02-123-4567입니다. 자료는 v2.3.10 기준입니다.\n"
)
TABLE_ROW = "김민수,개발본부,010-1234-5678,kim.minsu@acme.co.kr,900101-1234568,110-123-456789\n"


def _setup_django() -> None:
    """Import-only setup: nothing here opens a connection."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatapp.settings")
    os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(48))
    os.environ.setdefault("DATABASE_URL", "postgresql://bench@127.0.0.1:1/unused")
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:1/0")
    import django

    django.setup()


def _repeat(text: str, kb: float) -> str:
    size = len(text.encode())
    return text * max(1, round(kb * 1024 / size))


def _median_seconds(run: Callable[[], object], repeat: int) -> float:
    timings = []
    for _ in range(repeat):
        started = time.process_time()
        run()
        timings.append(time.process_time() - started)
    return statistics.median(timings)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.pii", description=__doc__)
    parser.add_argument("--repeat", type=int, default=30, help="runs per measurement")
    parser.add_argument("--kb", type=float, default=32.0, help="size of each text corpus")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    _setup_django()
    from providers.pii.detect import find_pii, mask_pii
    from providers.pii.guard import screen_chat
    from providers.pii.memo import findings_memo
    from providers.types import ChatMessage, ChatRequest, Role, ToolCall

    print(f"find_pii, median of {args.repeat} runs over {args.kb:g} KB of each text")
    print(f"{'text':<28}{'hits':>8}{'µs/KB find':>14}{'µs/KB mask':>14}")
    for name, unit in (
        ("prose, no digits", PROSE),
        ("business text, numbers", BUSINESS),
        ("table of personal data", TABLE_ROW),
    ):
        text = _repeat(unit, args.kb)
        kb = len(text.encode()) / 1024
        findings = find_pii(text)
        seconds = _median_seconds(partial(find_pii, text), args.repeat)
        masked = _median_seconds(partial(mask_pii, text, findings), args.repeat)
        print(f"{name:<28}{len(findings):>8}{seconds / kb * 1e6:>14.1f}{masked / kb * 1e6:>14.1f}")

    turns = [ChatMessage(role="system", content="당신은 사내 업무를 돕는 비서입니다.")]
    for index in range(11):
        role: Role = "user" if index % 2 == 0 else "assistant"
        turns.append(ChatMessage(role=role, content=(PROSE + BUSINESS)[: 280 + index * 7]))
    call = ToolCall("call_1", "lookup", '{"query": "3분기 매출", "limit": 10}')
    turns.append(ChatMessage(role="assistant", content=None, tool_calls=(call,)))
    conversation = ChatRequest(model="gpt-4o", messages=turns)
    rag_context = _repeat(BUSINESS + PROSE, 40)
    rag = ChatRequest(
        model="gpt-4o",
        messages=[
            ChatMessage(role="system", content="다음 문서를 근거로 답하세요.\n" + rag_context),
            ChatMessage(role="user", content="3분기 실적을 요약해 줘. 담당자 010-1234-5678"),
        ],
    )
    print()
    print(f"screen_chat (mask), median of {args.repeat} runs; warm: texts seen before (memo)")
    print(f"{'request':<28}{'messages':>9}{'KB':>7}{'µs cold':>10}{'µs/msg':>9}{'µs warm':>10}")
    memo = findings_memo()
    for name, request in (("12-message conversation", conversation), ("RAG context, 40 KB", rag)):
        size = sum(len(m.text().encode()) for m in request.messages) / 1024
        screen = partial(screen_chat, request, action="mask")

        def cold(screen: Callable[[], object] = screen) -> None:
            memo.clear()
            screen()

        cold_seconds = _median_seconds(cold, args.repeat)
        warm_seconds = _median_seconds(screen, args.repeat)
        count = len(request.messages)
        print(
            f"{name:<28}{count:>9}{size:>7.1f}{cold_seconds * 1e6:>10.0f}"
            f"{cold_seconds / count * 1e6:>9.1f}{warm_seconds * 1e6:>10.0f}"
        )


if __name__ == "__main__":
    main()
