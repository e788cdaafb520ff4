"""Provider calls over aiohttp's connections.

Model calls (``exchange`` and ``open``) go straight to aiohttp: httpx's request and
response objects cost 15 % of the gateway's CPU per non-streamed request
(bench.gateway profile). Everything else that speaks httpx (credential exchanges
such as Vertex's token, tests) goes through the same pool as an httpx transport.
aiohttp parses responses in C and its pool finds a connection in constant time,
where httpx's own connection layer spent more CPU per streamed chunk than the rest
of the gateway together (bench.gateway: 83 → 41 µs per relayed chunk).

URLs go out exactly as httpx encoded them (a signed path such as Bedrock's
``.../model/x-v1%3A0/converse`` must not be re-encoded), and aiohttp's errors
become the httpx errors the gateway maps to its own.
"""

from __future__ import annotations

import contextlib
import functools
import ssl
from collections.abc import AsyncIterator, Iterator, Mapping

import aiohttp
import httpx
from yarl import URL


@contextlib.contextmanager
def httpx_errors() -> Iterator[None]:
    try:
        yield
    except aiohttp.ConnectionTimeoutError as exc:
        raise httpx.ConnectTimeout(str(exc) or "connect timeout") from exc
    except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
        raise httpx.ReadTimeout(str(exc) or "read timeout") from exc
    except aiohttp.ClientConnectorError as exc:
        raise httpx.ConnectError(str(exc)) from exc
    except aiohttp.InvalidURL as exc:
        raise httpx.UnsupportedProtocol(str(exc)) from exc
    except aiohttp.ClientError as exc:  # disconnected, reset, a broken body
        raise httpx.ReadError(str(exc) or type(exc).__name__) from exc


@functools.lru_cache(maxsize=1024)
def wire_url(url: str) -> URL:
    """``url`` encoded as httpx encodes it, parsed once per distinct URL: a
    deployment's URL is the same for every call."""
    return URL(str(httpx.URL(url)), encoded=True)


def finish(response: aiohttp.ClientResponse) -> None:
    """Done with ``response``: its connection goes back to the pool if the body was
    read to the end; otherwise it is closed, so the upstream stops generating."""
    if response.content.at_eof():
        response.release()
    else:
        response.close()


class _ResponseBody(httpx.AsyncByteStream):
    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with httpx_errors():
            async for data in self._response.content.iter_any():
                yield data

    async def aclose(self) -> None:
        finish(self._response)


class AiohttpTransport(httpx.AsyncBaseTransport):
    def __init__(
        self, *, tls: ssl.SSLContext, max_connections: int, keepalive_seconds: float
    ) -> None:
        self._tls = tls
        self._max_connections = max_connections
        self._keepalive_seconds = keepalive_seconds
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        # Made on first use, inside the event loop it belongs to.
        if self._session is None:
            connector = aiohttp.TCPConnector(
                limit=self._max_connections,
                keepalive_timeout=self._keepalive_seconds,
                ssl=self._tls,
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                auto_decompress=False,  # httpx decodes, from the headers it is given
                trust_env=False,
                # One caller's upstream cookie must never ride along with another's call.
                cookie_jar=aiohttp.DummyCookieJar(),
            )
        return self._session

    async def open(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes,
        timeout: aiohttp.ClientTimeout,
    ) -> aiohttp.ClientResponse:
        """Send a request; the response's headers are read, its body is not. The
        caller reads it and calls ``finish``. Errors are httpx's, as for any call."""
        with httpx_errors():
            return await self._client().request(
                method,
                wire_url(url),
                headers=headers,
                data=body or None,
                allow_redirects=False,
                compress=None,
                auto_decompress=True,
                timeout=timeout,
            )

    async def exchange(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes,
        timeout: aiohttp.ClientTimeout,
    ) -> tuple[int, Mapping[str, str], bytes]:
        """Send a request and read the whole answer: status, headers and body."""
        response = await self.open(method, url, headers, body, timeout)
        try:
            with httpx_errors():
                content = await response.read()
        finally:
            finish(response)
        return response.status, response.headers, content

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeout = request.extensions.get("timeout", {})
        body = await request.aread()
        with httpx_errors():
            response = await self._client().request(
                request.method,
                URL(str(request.url), encoded=True),
                headers=[
                    (k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw
                ],
                data=body or None,
                allow_redirects=False,
                compress=None,
                timeout=aiohttp.ClientTimeout(
                    total=None,
                    connect=timeout.get("pool"),
                    sock_connect=timeout.get("connect"),
                    sock_read=timeout.get("read"),
                ),
            )
        extensions = {"http_version": b"HTTP/1.1"}
        if response.reason:
            extensions["reason_phrase"] = response.reason.encode()
        return httpx.Response(
            status_code=response.status,
            headers=response.raw_headers,
            stream=_ResponseBody(response),
            request=request,
            extensions=extensions,
        )

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
