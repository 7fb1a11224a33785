"""The OpenAPI description names every route of the app with its methods, and nothing else."""

from __future__ import annotations

import re

from starlette.routing import Route

from gateway.errors import STATUS_BY_CODE
from gateway.routes import routes
from gateway.routes.openapi import UNDOCUMENTED, openapi_document
from tests.gateway.support import Api


def app_operations() -> set[tuple[str, str]]:
    """(path, method) for every route the app mounts, paths in OpenAPI's spelling ({path:path} -> {path}).
    HEAD is left out: Starlette adds it to every GET route."""
    found = set()
    for route in routes:
        assert isinstance(route, Route)
        if route.path in UNDOCUMENTED:
            continue
        path = re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path)
        found |= {(path, method.lower()) for method in route.methods or () if method != "HEAD"}
    return found


def test_the_description_and_the_routes_agree() -> None:
    document = openapi_document()
    described = {(path, method) for path, operations in document["paths"].items() for method in operations
                 if method != "head"}

    assert described == app_operations()
    assert "head" in document["paths"]["/run/{tenant}/{name}"]


def test_every_operation_declares_its_path_parameters_and_answers() -> None:
    for path, operations in openapi_document()["paths"].items():
        names = set(re.findall(r"\{(\w+)\}", path))
        for method, operation in operations.items():
            declared = {p["name"] for p in operation["parameters"] if p["in"] == "path"}
            assert declared == names, (method, path)
            assert operation["responses"], (method, path)


def test_the_error_schema_lists_every_code() -> None:
    codes = openapi_document()["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"]["enum"]

    assert set(codes) == set(STATUS_BY_CODE)


def test_the_description_and_its_page_are_served(api: Api) -> None:
    document = api.http.get("/openapi.json")
    page = api.http.get("/docs")

    assert document.status_code == 200 and document.json()["openapi"].startswith("3.1")
    assert "/api/functions/{tenant}/{name}/rollback" in document.json()["paths"]
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "/api/functions/{tenant}/{name}/rollback" in page.text and "<script" not in page.text
