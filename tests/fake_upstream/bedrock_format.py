"""Amazon Bedrock runtime: Converse (JSON), ConverseStream (binary AWS event stream) and
Titan embeddings through InvokeModel, each request's SigV4 signature checked.

When ``upstream.api_key`` is set it is the access key id the fake expects, and
the secret it checks signatures with is stored on the app by
``expect_aws_credentials`` (tests call it; nothing here is a module global).
The signature is recomputed from the request as received (raw path, headers,
body), independently of the adapter's signer.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import struct
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from aiohttp import web

from tests.fake_upstream.server import count_tokens, fake_embedding

if TYPE_CHECKING:
    from tests.fake_upstream.server import FakeReply, FakeUpstream


@dataclass
class BedrockState:
    """Per-app state: the secret access key signatures are checked against."""

    secret_access_key: str = ""


BEDROCK_STATE = web.AppKey("bedrock_state", BedrockState)
ERROR_TYPES = {
    400: "ValidationException",
    403: "AccessDeniedException",
    404: "ResourceNotFoundException",
    408: "ModelTimeoutException",
    424: "ModelErrorException",
    429: "ThrottlingException",
    500: "InternalServerException",
    503: "ServiceUnavailableException",
}
STOP_REASONS = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use"}
SIGNATURE_MAX_SKEW_SECONDS = 15 * 60  # what AWS allows between x-amz-date and its clock


def expect_aws_credentials(
    upstream: FakeUpstream, *, access_key_id: str, secret_access_key: str
) -> None:
    """Make the fake accept only requests signed with this key pair (until ``reset``)."""
    runner = upstream._runner
    if runner is None:
        raise RuntimeError("the fake upstream is not running")
    runner.app[BEDROCK_STATE].secret_access_key = secret_access_key
    upstream.api_key = access_key_id


# --- the event stream encoding ------------------------------------------------


def encode_event_message(headers: Mapping[str, str], payload: bytes) -> bytes:
    """One event-stream message with string headers (value type 7) and both CRC32s."""
    header_bytes = b""
    for name, value in headers.items():
        raw_name, raw_value = name.encode(), value.encode()
        header_bytes += struct.pack(">B", len(raw_name)) + raw_name
        header_bytes += struct.pack(">BH", 7, len(raw_value)) + raw_value
    total = 12 + len(header_bytes) + len(payload) + 4
    prelude = struct.pack(">II", total, len(header_bytes))
    head = prelude + struct.pack(">I", zlib.crc32(prelude)) + header_bytes + payload
    return head + struct.pack(">I", zlib.crc32(head))


def event(event_type: str, payload: dict[str, Any]) -> bytes:
    headers = {
        ":event-type": event_type,
        ":content-type": "application/json",
        ":message-type": "event",
    }
    # Bedrock pads events with a "p" field so lengths do not leak the content.
    body = {**payload, "p": "abcdefghijklmnopqrstuvwxyz"[: 1 + len(event_type) % 26]}
    return encode_event_message(headers, json.dumps(body, ensure_ascii=False).encode())


def exception_event(exception_type: str, message: str) -> bytes:
    headers = {
        ":exception-type": exception_type,
        ":content-type": "application/json",
        ":message-type": "exception",
    }
    return encode_event_message(headers, json.dumps({"message": message}).encode())


# --- requests -------------------------------------------------------------------


def aws_error(
    status: int, message: str, error_type: str | None = None, retry_after: float | None = None
) -> web.Response:
    name = error_type or ERROR_TYPES.get(status, "InternalServerException")
    headers = {"x-amzn-ErrorType": f"{name}:http://internal.amazon.com/coral/com.amazon.bedrock/"}
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return web.json_response({"message": message}, status=status, headers=headers)


def _sigv4_check(request: web.Request, body: bytes, access_key_id: str, secret: str) -> str | None:
    """None when the signature is right, else the AWS error type to answer with."""
    authorization = request.headers.get("Authorization", "")
    algorithm, _, rest = authorization.partition(" ")
    fields = dict(part.strip().split("=", 1) for part in rest.split(",") if "=" in part)
    scope = fields.get("Credential", "").split("/")
    if algorithm != "AWS4-HMAC-SHA256" or len(scope) != 5 or scope[0] != access_key_id:
        return "UnrecognizedClientException"
    amz_date = request.headers.get("X-Amz-Date", "")
    try:
        signed_at = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        return "InvalidSignatureException"
    if abs((datetime.now(UTC) - signed_at).total_seconds()) > SIGNATURE_MAX_SKEW_SECONDS:
        return "InvalidSignatureException"
    payload_hash = hashlib.sha256(body).hexdigest()
    claimed_hash = request.headers.get("X-Amz-Content-Sha256")
    signed_names = fields.get("SignedHeaders", "").split(";")
    if claimed_hash not in (None, payload_hash) or not {"host", "x-amz-date"} <= set(signed_names):
        return "InvalidSignatureException"
    path, _, query = request.raw_path.partition("?")
    canonical = "\n".join(
        [
            request.method,
            "/".join(quote(segment, safe="-_.~") for segment in path.split("/")),
            "&".join(sorted(query.split("&"))) if query else "",
            "".join(
                f"{name}:{','.join(' '.join(v.split()) for v in request.headers.getall(name))}\n"
                for name in signed_names
            ),
            ";".join(signed_names),
            payload_hash,
        ]
    )
    date, region, service = scope[1], scope[2], scope[3]
    to_sign = "\n".join(
        [
            "AWS4-HMAC-SHA256",
            amz_date,
            "/".join(scope[1:]),
            hashlib.sha256(canonical.encode()).hexdigest(),
        ]
    )
    key = f"AWS4{secret}".encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, fields.get("Signature", "")):
        return "InvalidSignatureException"
    return None


def _texts(blocks: list[dict[str, Any]]) -> list[str]:
    return [str(b["text"]) for b in blocks if isinstance(b, dict) and "text" in b]


def _tool_result_texts(blocks: list[dict[str, Any]]) -> list[str]:
    results = [b["toolResult"] for b in blocks if isinstance(b, dict) and "toolResult" in b]
    return [text for result in results for text in _texts(result.get("content") or [])]


def last_user_text(messages: list[dict[str, Any]]) -> str:
    """The last user turn's text; a turn of tool results only answers with their text."""
    for message in reversed(messages):
        if message.get("role") == "user":
            blocks = message.get("content") or []
            return " ".join(_texts(blocks) or _tool_result_texts(blocks))
    return ""


def prompt_text(body: dict[str, Any]) -> str:
    parts = _texts(body.get("system") or [])
    for message in body.get("messages") or []:
        blocks = message.get("content") or []
        parts += _texts(blocks) + _tool_result_texts(blocks)
    return " ".join(parts)


def usage_of(reply: FakeReply) -> dict[str, int]:
    return {
        "inputTokens": reply.prompt_tokens,
        "outputTokens": reply.completion_tokens,
        "totalTokens": reply.prompt_tokens + reply.completion_tokens,
    }


def stream_events(reply: FakeReply) -> tuple[list[bytes], list[bytes], list[bytes]]:
    """ConverseStream's events for a reply: ``(head, one per text piece, tail)``; a tool
    call's input arrives in two fragments, as Bedrock splits it."""
    head = [event("messageStart", {"role": "assistant"})]
    if reply.tool_name is not None:
        args = json.dumps(reply.tool_arguments, ensure_ascii=False)
        start = {"toolUse": {"toolUseId": "tooluse_fake1", "name": reply.tool_name}}
        head.append(event("contentBlockStart", {"contentBlockIndex": 0, "start": start}))
        for fragment in (args[: len(args) // 2], args[len(args) // 2 :]):
            delta = {"toolUse": {"input": fragment}}
            head.append(event("contentBlockDelta", {"contentBlockIndex": 0, "delta": delta}))
    pieces = [
        event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": piece}})
        for piece in reply.pieces()
    ]
    tail = [
        event("contentBlockStop", {"contentBlockIndex": 0}),
        event("messageStop", {"stopReason": STOP_REASONS[reply.finish]}),
        event("metadata", {"usage": usage_of(reply), "metrics": {"latencyMs": 1}}),
    ]
    return head, pieces, tail


def add_routes(app: web.Application, upstream: FakeUpstream) -> None:
    app[BEDROCK_STATE] = BedrockState()

    async def prelude(request: web.Request) -> tuple[dict[str, Any], Any, web.Response | None]:
        raw = await request.read()
        try:
            body = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            return {}, None, aws_error(400, "Malformed input request, please reformat your input")
        upstream.record(request, body)
        if upstream.api_key is not None:
            secret = request.app[BEDROCK_STATE].secret_access_key
            problem = _sigv4_check(request, raw, upstream.api_key, secret)
            if problem == "UnrecognizedClientException":
                return body, None, aws_error(403, "The security token is invalid.", problem)
            if problem is not None:
                message = (
                    "The request signature we calculated does not match the signature you "
                    "provided. Check your AWS Secret Access Key and signing method."
                )
                return body, None, aws_error(403, message, problem)
        fault = await upstream.suffer(request)
        if fault is not None and fault.status is not None:
            return body, fault, aws_error(fault.status, fault.message, None, fault.retry_after)
        return body, fault, None

    def plan(body: dict[str, Any]) -> FakeReply:
        tools = [t["toolSpec"]["name"] for t in (body.get("toolConfig") or {}).get("tools") or []]
        return upstream.reply_for(
            last_user_text(body.get("messages") or []),
            prompt_text=prompt_text(body),
            tool_names=tools,
            max_tokens=(body.get("inferenceConfig") or {}).get("maxTokens"),
        )

    async def converse(request: web.Request) -> web.Response:
        body, _fault, failure = await prelude(request)
        if failure is not None:
            return failure
        if not body.get("messages"):
            return aws_error(400, "A conversation must start with a user message.")
        reply = plan(body)
        content: list[dict[str, Any]] = []
        if reply.text:
            content.append({"text": reply.text})
        if reply.tool_name is not None:
            content.append(
                {
                    "toolUse": {
                        "toolUseId": "tooluse_fake1",
                        "name": reply.tool_name,
                        "input": reply.tool_arguments,
                    }
                }
            )
        return web.json_response(
            {
                "output": {"message": {"role": "assistant", "content": content}},
                "stopReason": STOP_REASONS[reply.finish],
                "usage": usage_of(reply),
                "metrics": {"latencyMs": 1},
            }
        )

    async def converse_stream(request: web.Request) -> web.StreamResponse:
        body, fault, failure = await prelude(request)
        if failure is not None:
            return failure
        if not body.get("messages"):
            return aws_error(400, "A conversation must start with a user message.")
        head, pieces, tail = stream_events(plan(body))
        response = web.StreamResponse(
            headers={"Content-Type": "application/vnd.amazon.eventstream"}
        )
        await response.prepare(request)
        for message in head:
            await response.write(message)
        drop_at = fault.drop_after_chunks if fault is not None else None
        delay = fault.chunk_delay if fault is not None else 0.0
        for index, message in enumerate(pieces):
            if drop_at is not None and index >= drop_at:
                await upstream.drop_connection(request)
                return response
            if delay:
                await asyncio.sleep(delay)
            await response.write(message)
        for message in tail:
            await response.write(message)
        await response.write_eof()
        return response

    async def invoke(request: web.Request) -> web.Response:
        body, _fault, failure = await prelude(request)
        if failure is not None:
            return failure
        text = body.get("inputText")
        if not isinstance(text, str) or not text:
            return aws_error(400, "Malformed input request: inputText is required")
        dimensions = int(body.get("dimensions") or 1024)
        return web.json_response(
            {
                "embedding": fake_embedding(text, dimensions),
                "inputTextTokenCount": count_tokens(text),
            }
        )

    app.router.add_post("/model/{model_id}/converse", converse)
    app.router.add_post("/model/{model_id}/converse-stream", converse_stream)
    app.router.add_post("/model/{model_id}/invoke", invoke)
