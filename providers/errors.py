"""Typed gateway errors; each interface translates them once (R11)."""

from __future__ import annotations


class GatewayError(Exception):
    """Base of every error the gateway raises. ``message`` is safe to show to users."""

    status = 500
    code = "gateway_error"
    error_type = ""  # OpenAI's error "type"; empty: the one usual for the status
    retry_after: float | None = None  # seconds, sent as Retry-After when set

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigError(GatewayError):
    status = 400
    code = "invalid_config"


class ModelNotFound(GatewayError):
    status = 404
    code = "model_not_found"


class ProviderError(GatewayError):
    """An upstream failed. ``retryable`` tells the router whether another try may help."""

    status = 502
    code = "upstream_error"

    def __init__(
        self,
        message: str,
        *,
        status: int = 502,
        retryable: bool = False,
        provider_code: str = "",
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.retryable = retryable
        self.provider_code = provider_code
        self.retry_after = retry_after


class SecretUnavailable(GatewayError):
    status = 500
    code = "secret_unavailable"


class ContextWindowExceeded(GatewayError):
    status = 400
    code = "context_length_exceeded"


class InvalidRequest(GatewayError):
    """The caller's request is malformed; ``param`` names the offending field."""

    status = 400
    code = "invalid_request_error"

    def __init__(self, message: str, *, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param


class AuthenticationFailed(GatewayError):
    status = 401
    code = "invalid_api_key"


class ModelNotAllowed(GatewayError):
    status = 403
    code = "model_not_allowed"
