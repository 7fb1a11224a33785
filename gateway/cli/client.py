"""The CLI's HTTP side: one small httpx client for the gateway API, and its error type."""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import quote

import httpx
import orjson

DEFAULT_URL = "http://127.0.0.1:8080"


class ApiError(Exception):
    """The gateway answered with an error envelope (or could not be reached)."""

    def __init__(self, message: str, *, code: str = "", status: int = 0, request_id: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.request_id = request_id

    def __str__(self) -> str:
        where = f" (HTTP {self.status}, request {self.request_id})" if self.status else ""
        return f"{self.code + ': ' if self.code else ''}{self.message}{where}"


def path(*segments: str) -> str:
    return "/" + "/".join(quote(segment, safe="") for segment in segments)


class ApiClient:
    def __init__(self, url: str | None = None, token: str | None = None, timeout: float = 60.0) -> None:
        self.url = (url or os.environ.get("WASMTASK_URL") or DEFAULT_URL).rstrip("/")
        self.token = token
        self.http = httpx.Client(base_url=self.url, timeout=timeout, trust_env=False)

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.http.close()

    def send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", None) or {})
        if self.token and not any(name.lower() == "authorization" for name in headers):
            headers["authorization"] = f"Bearer {self.token}"
        try:
            return self.http.request(method, url, headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            raise ApiError(f"cannot reach {self.url}: {exc}") from exc

    def json(self, method: str, url: str, **kwargs: Any) -> Any:
        """The JSON of a successful answer; ``ApiError`` for an error envelope."""
        return raise_for_error(self.send(method, url, **kwargs)).json()


def raise_for_error(response: httpx.Response) -> httpx.Response:
    if response.status_code < 400:
        return response
    try:
        error = orjson.loads(response.content)["error"]
        raise ApiError(str(error.get("message", "")), code=str(error.get("code", "")), status=response.status_code,
                       request_id=str(error.get("request_id", "")))
    except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError):
        raise ApiError(response.text[:500], status=response.status_code) from None
