"""Google's GenerateContent wire format: the Gemini API (an API key) and Vertex AI
(access tokens from a service-account JWT, exchanged at ``POST /token``).

Routes: ``/v1beta/models/{model}:{generateContent|streamGenerateContent|
batchEmbedContents}``, ``/v1/projects/{p}/locations/{l}/publishers/google/models/
{model}:{generateContent|streamGenerateContent|predict}``, the same under Vertex
express mode (``/v1/publishers/google/models/...``) and ``/token``. aiohttp cannot
put a variable before the ``:``, so ``{model_action}`` is split by hand.

Token state (registered public keys, issued tokens, the count of token requests)
is a ``GeminiFakeState`` on the app; tests reach it with ``gemini_state(upstream)``.
Token requests are counted there, not recorded in ``upstream.requests``, and suffer
only faults injected with ``path="/token"``.
"""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from tests.fake_upstream.server import count_tokens, fake_embedding

if TYPE_CHECKING:
    from tests.fake_upstream.server import FakeReply, FakeUpstream, Fault

CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
Json = dict[str, Any]


@dataclass
class GeminiFakeState:
    """What the fake OAuth endpoint knows and saw."""

    public_keys: dict[str, str] = field(default_factory=dict)  # client_email → PEM
    expires_in: int = 3600  # what /token grants
    token_status: int | None = None  # when set, /token refuses with this status
    token_requests: list[str] = field(default_factory=list)  # client_email per grant
    issued: dict[str, str] = field(default_factory=dict)  # access token → client_email

    def register(self, client_email: str, public_key_pem: str) -> None:
        self.public_keys[client_email] = public_key_pem

    def grants_for(self, client_email: str) -> int:
        return self.token_requests.count(client_email)

    def reset(self) -> None:
        self.public_keys.clear()
        self.expires_in = 3600
        self.token_status = None
        self.token_requests.clear()
        self.issued.clear()


STATE = web.AppKey("gemini_state", GeminiFakeState)


def gemini_state(upstream: FakeUpstream) -> GeminiFakeState:
    """The running fake's token state (FakeUpstream keeps its app on the runner)."""
    runner = upstream._runner
    if runner is None:
        raise RuntimeError("the fake upstream is not running")
    return runner.app[STATE]


def new_service_account(
    token_uri: str, *, project_id: str = "fake-project"
) -> tuple[dict[str, str], str]:
    """A fresh service-account key file (as a dict, shaped like Google's) and the
    PEM of its public key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()
    public_pem = (
        key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
    )
    email = f"gateway-{secrets.token_hex(4)}@{project_id}.iam.gserviceaccount.com"
    info = {
        "type": "service_account",
        "project_id": project_id,
        "private_key_id": secrets.token_hex(20),
        "private_key": private_pem,
        "client_email": email,
        "client_id": str(secrets.randbelow(10**20)),
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": token_uri,
    }
    return info, public_pem


def register_service_account(
    upstream: FakeUpstream, *, project_id: str = "fake-project"
) -> dict[str, str]:
    """A service account whose token_uri is this fake's ``/token``, which accepts it."""
    info, public_pem = new_service_account(f"{upstream.origin}/token", project_id=project_id)
    gemini_state(upstream).register(info["client_email"], public_pem)
    return info


def error(status: int, message: str, retry_after: float | None = None) -> web.Response:
    body: Json = {"code": status, "message": message, "status": STATUS_NAMES.get(status, "UNKNOWN")}
    headers = None
    if retry_after is not None:
        body["details"] = [
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": f"{retry_after}s"}
        ]
        headers = {"Retry-After": str(retry_after)}
    return web.json_response({"error": body}, status=status, headers=headers)


def part_texts(parts: Any) -> list[str]:
    return [
        p["text"] for p in parts or [] if isinstance(p, dict) and isinstance(p.get("text"), str)
    ]


def last_turn_text(contents: list[Json]) -> tuple[str, bool]:
    """The last user turn's text, and whether it answered a function call."""
    for content in reversed(contents):
        if content.get("role", "user") != "user":
            continue
        parts = content.get("parts") or []
        answers = [p["functionResponse"] for p in parts if "functionResponse" in p]
        if answers:
            response = answers[-1].get("response") or {}
            result = response.get("result", response)
            return (result if isinstance(result, str) else json.dumps(result)), True
        return " ".join(part_texts(parts)), False
    return "", False


def missing_signature(model: str, contents: list[Json]) -> bool:
    """Gemini 3 refuses replayed function calls without a thoughtSignature."""
    if not model.startswith("gemini-3"):
        return False
    for content in contents:
        calls = [p for p in content.get("parts") or [] if "functionCall" in p]
        if content.get("role") == "model" and calls and "thoughtSignature" not in calls[0]:
            return True
    return False


def candidate(parts: list[Json], finish: str | None) -> Json:
    result: Json = {"content": {"role": "model", "parts": parts}, "index": 0}
    if finish is not None:
        result["finishReason"] = finish
    return result


def usage(reply: FakeReply, thoughts: int) -> Json:
    meta = {
        "promptTokenCount": reply.prompt_tokens,
        "candidatesTokenCount": reply.completion_tokens,
        "totalTokenCount": reply.prompt_tokens + reply.completion_tokens + thoughts,
    }
    if thoughts:
        meta["thoughtsTokenCount"] = thoughts
    return meta


def add_routes(app: web.Application, upstream: FakeUpstream) -> None:
    state = GeminiFakeState()
    app[STATE] = state

    def authorized(request: web.Request, *, vertex: bool) -> web.Response | None:
        key = request.headers.get("x-goog-api-key") or request.query.get("key")
        if vertex and request.headers.get("Authorization", "").removeprefix("Bearer ") in (
            state.issued
        ):
            return None
        if upstream.api_key is None and not vertex:
            return None
        if upstream.api_key is not None and key == upstream.api_key:
            return None
        if vertex:
            return error(401, "Request had invalid authentication credentials.")
        if key is None:
            return error(403, "Method doesn't allow unregistered callers.")
        return error(400, "API key not valid. Please pass a valid API key.")

    async def handle(
        request: web.Request, *, vertex: bool, actions: set[str]
    ) -> web.StreamResponse:
        model, _, action = request.match_info["model_action"].partition(":")
        if action not in actions:
            return error(404, f"Method {action!r} not found.")
        try:
            body = await request.json()
        except json.JSONDecodeError:
            return error(400, "Invalid JSON payload received.")
        upstream.record(request, body)
        refused = authorized(request, vertex=vertex)
        if refused is not None:
            return refused
        fault = await upstream.suffer(request)
        if fault is not None and fault.status is not None:
            return error(fault.status, fault.message, fault.retry_after)
        if action == "batchEmbedContents":
            return batch_embed(body, model)
        if action == "predict":
            return predict(body)
        return await generate(request, body, model, fault, stream=action != "generateContent")

    async def generate(
        request: web.Request, body: Json, model: str, fault: Fault | None, *, stream: bool
    ) -> web.StreamResponse:
        contents = body.get("contents")
        if not isinstance(contents, list) or not contents:
            return error(400, "* GenerateContentRequest.contents: contents is not specified")
        if missing_signature(model, contents):
            return error(400, "Function call is missing a thought_signature in functionCall parts.")
        user_text, answered = last_turn_text(contents)
        declared = [
            d["name"] for t in body.get("tools") or [] for d in t.get("functionDeclarations") or []
        ]
        config = body.get("generationConfig") or {}
        system = part_texts((body.get("systemInstruction") or {}).get("parts"))
        prompt = system + [t for c in contents for t in part_texts(c.get("parts"))]
        reply = upstream.reply_for(
            user_text,
            prompt_text=" ".join(prompt),
            tool_names=[] if answered else declared,
            max_tokens=config.get("maxOutputTokens"),
        )
        thought = ""
        if (config.get("thinkingConfig") or {}).get("includeThoughts"):
            thought = f"Thinking about: {user_text}"
        thoughts = count_tokens(thought)
        finish = "MAX_TOKENS" if reply.finish == "length" else "STOP"
        ident = f"fake-{secrets.token_hex(6)}"
        envelope: Json = {"modelVersion": model, "responseId": ident}
        call_part: Json | None = None
        if reply.tool_name is not None:
            signature = base64.b64encode(f"fake-thought:{reply.tool_name}".encode()).decode()
            call_part = {
                "functionCall": {"name": reply.tool_name, "args": reply.tool_arguments},
                "thoughtSignature": signature,
            }
        thought_parts: list[Json] = [{"text": thought, "thought": True}] if thought else []
        if not stream:
            parts = thought_parts + ([call_part] if call_part else [{"text": reply.text}])
            return web.json_response(
                {
                    **envelope,
                    "candidates": [candidate(parts, finish)],
                    "usageMetadata": usage(reply, thoughts),
                }
            )
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)

        async def send(parts: list[Json], last: bool) -> None:
            event: Json = {**envelope, "candidates": [candidate(parts, finish if last else None)]}
            if last:
                event["usageMetadata"] = usage(reply, thoughts)
            await response.write(f"data: {json.dumps(event, ensure_ascii=False)}\r\n\r\n".encode())

        if thought_parts:
            await send(thought_parts, last=False)
        if call_part is not None:
            await send([call_part], last=True)
        pieces = [] if call_part is not None else reply.pieces()
        drop_at = fault.drop_after_chunks if fault is not None else None
        delay = fault.chunk_delay if fault is not None else 0.0
        for index, piece in enumerate(pieces):
            if drop_at is not None and index >= drop_at:
                await upstream.drop_connection(request)
                return response
            if delay:
                await asyncio.sleep(delay)
            await send([{"text": piece}], last=index == len(pieces) - 1)
        await response.write_eof()
        return response

    def batch_embed(body: Json, model: str) -> web.Response:
        rows = body.get("requests")
        if not isinstance(rows, list) or not rows:
            return error(400, "* BatchEmbedContentsRequest.requests: requests is required")
        vectors = []
        for row in rows:
            if row.get("model") != f"models/{model}":
                return error(400, "Model in the request does not match the batch model.")
            text = " ".join(part_texts((row.get("content") or {}).get("parts")))
            vectors.append(
                {"values": fake_embedding(text, int(row.get("outputDimensionality") or 768))}
            )
        return web.json_response({"embeddings": vectors})

    def predict(body: Json) -> web.Response:
        instances = body.get("instances")
        if not isinstance(instances, list) or not instances:
            return error(400, "instances must not be empty")
        dimensions = int((body.get("parameters") or {}).get("outputDimensionality") or 768)
        predictions = [
            {
                "embeddings": {
                    "values": fake_embedding(str(i.get("content", "")), dimensions),
                    "statistics": {
                        "token_count": count_tokens(str(i.get("content", ""))),
                        "truncated": False,
                    },
                }
            }
            for i in instances
        ]
        return web.json_response({"predictions": predictions, "metadata": {}})

    def token_fault() -> Fault | None:
        """Only faults aimed at ``/token`` itself: a test's fault for "the next request"
        means the model call, not the token exchange in front of it."""
        fault = next((f for f in upstream.faults if f.path == "/token"), None)
        if fault is not None:
            fault.times -= 1
            if fault.times <= 0:
                upstream.faults.remove(fault)
        return fault

    async def token(request: web.Request) -> web.Response:
        fault = token_fault()
        if fault is not None and fault.latency:
            await asyncio.sleep(fault.latency)
        if fault is not None and fault.status is not None:
            return web.json_response({"error": "internal_failure"}, status=fault.status)
        if state.token_status is not None:
            return web.json_response(
                {"error": "invalid_grant", "error_description": "Account disabled."},
                status=state.token_status,
            )
        form = await request.post()
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return web.json_response({"error": "unsupported_grant_type"}, status=400)
        assertion = str(form.get("assertion") or "")
        try:
            issuer = jwt.decode(assertion, options={"verify_signature": False}).get("iss")
            key = state.public_keys[str(issuer)]
            claims = jwt.decode(
                assertion,
                key,
                algorithms=["RS256"],
                audience=f"{upstream.origin}/token",
                options={"require": ["iss", "aud", "iat", "exp", "scope"]},
            )
        except (jwt.PyJWTError, KeyError):
            return web.json_response(
                {"error": "invalid_grant", "error_description": "Invalid JWT Signature."},
                status=400,
            )
        if claims["scope"] != CLOUD_PLATFORM_SCOPE or claims["exp"] - claims["iat"] > 3600:
            return web.json_response({"error": "invalid_scope"}, status=400)
        access_token = f"ya29.fake-{secrets.token_hex(12)}"
        state.issued[access_token] = str(issuer)
        state.token_requests.append(str(issuer))
        return web.json_response(
            {"access_token": access_token, "expires_in": state.expires_in, "token_type": "Bearer"}
        )

    gemini_actions = {"generateContent", "streamGenerateContent", "batchEmbedContents"}
    vertex_actions = {"generateContent", "streamGenerateContent", "predict"}

    async def gemini(request: web.Request) -> web.StreamResponse:
        return await handle(request, vertex=False, actions=gemini_actions)

    async def vertex(request: web.Request) -> web.StreamResponse:
        return await handle(request, vertex=True, actions=vertex_actions)

    app.router.add_post("/v1beta/models/{model_action}", gemini)
    app.router.add_post(
        "/v1/projects/{project}/locations/{location}/publishers/google/models/{model_action}",
        vertex,
    )
    app.router.add_post("/v1/publishers/google/models/{model_action}", vertex)
    app.router.add_post("/token", token)
