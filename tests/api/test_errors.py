"""Every response under /api/ is JSON in the documented error shape, whatever fails.

The operations are walked from the OpenAPI schema, and the schema is checked
against the URL resolver, so an operation added later is walked too. Each is
sent a body over DATA_UPLOAD_MAX_MEMORY_SIZE (413) and a request while the
database is unreachable (500), and must answer {"detail": str, "errors": {}}
with no HTML and no traceback, and document both statuses.
"""

from __future__ import annotations

import re

import pytest
from django.db import OperationalError, connection

from members.api.views import TillApiView
from tests.url_walk import url_routes

pytestmark = pytest.mark.django_db

SCHEMA_URL = "/api/v1/schema/?format=json"
# Every operation lists these, in the Error shape (loyalty_site.api_errors).
EVERY_OPERATION = {"401", "413", "429", "500"}
PATH_VALUE = "1"


def _schema(client) -> dict:
    response = client.get(SCHEMA_URL)
    assert response.status_code == 200
    return response.json()


def _operations(schema: dict) -> list[tuple[str, str]]:
    return [
        (path, method)
        for path, item in schema["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    ]


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", PATH_VALUE, path)


def _till_routes() -> list[str]:
    """Every route of the URL resolver whose view is a till endpoint."""
    found = []
    for route, _name, pattern in url_routes():
        view = getattr(pattern.callback, "view_class", None)
        if view is not None and issubclass(view, TillApiView):
            found.append("/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route))
    return found


def assert_api_error(response, status: int) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].split(";")[0] == "application/json", response[
        "Content-Type"
    ]
    body = response.json()
    assert set(body) >= {"detail", "errors"}, body
    assert isinstance(body["detail"], str) and body["detail"]
    assert isinstance(body["errors"], dict)
    text = response.content.decode()
    for leak in ("Traceback", "<html", "OperationalError", 'File "'):
        assert leak not in text, text[:300]
    return body


@pytest.fixture
def till(api_client):
    api_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    # Django sends got_request_exception for a 500, which the test client would
    # re-raise; a till sees only the response.
    api_client.raise_request_exception = False
    return api_client


def test_the_schema_has_every_till_route_of_the_resolver(client):
    routes = set(_till_routes())
    documented = {path for path, _method in _operations(_schema(client))}

    assert routes, "no till routes found"
    assert routes <= documented, routes - documented


def test_every_operation_documents_the_errors_every_request_can_meet(client):
    schema = _schema(client)
    error_ref = "#/components/schemas/Error"

    for path, method in _operations(schema):
        operation = schema["paths"][path][method]
        wanted = set(EVERY_OPERATION)
        if "requestBody" in operation:
            wanted.add("400")
        assert wanted <= set(operation["responses"]), (path, method)
        for status in wanted:
            content = operation["responses"][status]["content"]["application/json"]
            ref = content["schema"]["$ref"]
            # The Error component or one that extends it (RedemptionConflictError...).
            assert ref == error_ref or {"detail", "errors"} <= set(
                schema["components"]["schemas"][ref.rsplit("/", 1)[1]]["properties"]
            ), (path, method, status)


def test_a_body_over_the_limit_is_413_json_on_every_operation(till, client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440  # Django's default, 2.5 MB
    body = b'{"receipt_id": "' + b"x" * 3_000_000 + b'"}'

    for path, method in _operations(_schema(client)):
        response = till.generic(
            method.upper(), _concrete(path), body, content_type="application/json"
        )
        detail = assert_api_error(response, 413)["detail"]
        assert "2621440" in detail, (path, method, detail)


def _database_gone(execute, sql, params, many, context):
    raise OperationalError("server closed the connection unexpectedly")


@pytest.mark.parametrize("debug", [False, True])
def test_a_lost_database_is_500_json_on_every_operation(till, client, settings, debug):
    operations = _operations(_schema(client))
    settings.DEBUG = debug  # DEBUG's technical page shows the traceback

    with connection.execute_wrapper(_database_gone):
        for path, method in operations:
            response = till.generic(
                method.upper(),
                _concrete(path),
                b'{"receipt_id": "R-1"}',
                content_type="application/json",
            )
            assert_api_error(response, 500)


def test_a_database_lost_inside_the_view_is_500_json(till, member):
    def gone_after_authentication(execute, sql, params, many, context):
        if "apitoken" in sql.lower():
            return execute(sql, params, many, context)
        raise OperationalError("server closed the connection unexpectedly")

    with connection.execute_wrapper(gone_after_authentication):
        response = till.post(
            "/api/v1/purchases",
            {"card_number": member.card_number, "receipt_id": "R-1", "total": "10"},
            format="json",
        )

    assert_api_error(response, 500)


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize(
    "path", ["/api/v1/nothing", "/api/v2/members", "/api/", "/api/v1/members/1/x"]
)
def test_an_unknown_api_path_is_404_json(till, settings, path, debug):
    settings.DEBUG = debug  # DEBUG's technical 404 page is HTML too

    assert_api_error(till.get(path), 404)
    assert_api_error(till.post(path, {}, format="json"), 404)


def test_a_method_an_operation_lacks_is_405_json_on_every_operation(till, client):
    schema = _schema(client)
    for path in schema["paths"]:
        response = till.delete(_concrete(path))
        assert_api_error(response, 405)
        assert response["Allow"]


def test_pages_outside_the_api_keep_their_html_errors(client):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
