"""loyalty_site.csp writes the headers django-csp writes, built once."""

from __future__ import annotations

import pytest
from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CSPMiddleware as BaseCSPMiddleware
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse

from loyalty_site.csp import CSPMiddleware

REPORT_ONLY = {"DIRECTIVES": {"default-src": ["'none'"], "report-uri": "/csp"}}


def _both(request_path: str, response_attrs: dict | None = None, nonce=False):
    """The headers of each middleware for the same request and response."""
    headers = []
    for middleware in (BaseCSPMiddleware, CSPMiddleware):
        request = RequestFactory().get(request_path)
        response = HttpResponse("x")
        for name, value in (response_attrs or {}).items():
            setattr(response, name, value)
        instance = middleware(lambda request, response=response: response)
        instance.process_request(request)
        if nonce:
            str(request.csp_nonce)  # a template asked for it
        instance.process_response(request, response)
        headers.append(
            {h: response.get(h) for h in (HEADER, HEADER_REPORT_ONLY)}
            | {"nonce": request._csp_nonce if nonce else None}
        )
    return headers


@pytest.mark.parametrize(
    ("response_attrs", "nonce"),
    [
        ({}, False),
        ({"_csp_update": {"style-src": ["'unsafe-inline'"]}}, False),
        ({"_csp_exempt": True}, False),
        ({}, True),
    ],
)
def test_the_headers_are_django_csps(settings, response_attrs, nonce):
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = REPORT_ONLY
    base, ours = _both("/healthz", response_attrs, nonce)

    if nonce:  # each made its own nonce: the same header but for it
        assert ours[HEADER].replace(ours["nonce"], "N") == base[HEADER].replace(
            base["nonce"], "N"
        )
    else:
        assert ours == base
    assert ours[HEADER_REPORT_ONLY] is not None


def test_a_changed_setting_changes_the_header(settings):
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'none'"]}}
    base, ours = _both("/healthz")

    assert ours == base
    assert ours[HEADER] == "default-src 'none'"


def test_a_nonce_asked_for_after_the_header_is_an_error():
    request = RequestFactory().get("/healthz")
    middleware = CSPMiddleware(lambda request: HttpResponse("x"))
    middleware.process_request(request)
    middleware.process_response(request, HttpResponse("x"))

    with pytest.raises(Exception, match="not available after the CSP header"):
        str(request.csp_nonce)


@pytest.mark.django_db
def test_the_api_docs_page_keeps_its_own_policy(client):
    response = client.get(reverse("api-v1:docs"))

    assert "'unsafe-inline'" in response[HEADER]
    assert "'unsafe-inline'" not in client.get(reverse("healthz"))[HEADER]
