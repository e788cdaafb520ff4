"""daphne's HTTP requests without Twisted's form parsing.

Twisted parses the body of every form POST for ``request.args`` (and reads each
POST's Content-Type with the e-mail package to decide): daphne never reads those
args, it hands the raw body to the ASGI application, where Django parses it. For
a multipart upload that is a second parse of the whole file; for every API POST
it was 7 % of the gateway's CPU per request (bench.gateway profile).
"""

from __future__ import annotations

from typing import Any

from daphne import http_protocol


class AsgiWebRequest(http_protocol.WebRequest):  # type: ignore[misc]
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("parsePOSTFormSubmission", False)
        super().__init__(*args, **kwargs)


def install() -> None:
    """daphne builds each connection's requests from this module attribute."""
    http_protocol.WebRequest = AsgiWebRequest
