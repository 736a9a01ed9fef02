"""loyalty_site.csp: the headers django-csp's own middleware writes, in every
case it distinguishes, with the policy built once."""

from __future__ import annotations

import re

import pytest
from csp.constants import HEADER, NONCE
from csp.decorators import csp_exempt, csp_update
from csp.exceptions import CSPNonceError
from csp.middleware import CSPMiddleware as StockCSPMiddleware
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse

from loyalty_site.csp import CSPMiddleware

HEADERS = ("Content-Security-Policy", "Content-Security-Policy-Report-Only")


def _headers(middleware_class, path="/dashboard/", view=None, nonce=False, status=200):
    request = RequestFactory().get(path)
    middleware = middleware_class(lambda request: None)
    middleware.process_request(request)
    if nonce:
        str(request.csp_nonce)
    response = (view or (lambda request: HttpResponse(status=status)))(request)
    middleware.process_response(request, response)
    return {name: response.get(name) for name in HEADERS}, request


def _both(**kwargs):
    ours, request = _headers(CSPMiddleware, **kwargs)
    stock, _stock_request = _headers(StockCSPMiddleware, **kwargs)
    return ours, stock, request


def test_a_page_gets_the_policy_of_the_settings():
    ours, stock, request = _both()
    assert ours == stock
    assert "frame-ancestors 'none'" in ours["Content-Security-Policy"]
    with pytest.raises(CSPNonceError):
        str(request.csp_nonce)  # asked for after the header was written


def test_per_view_policies_nonces_and_exemptions_are_django_csps():
    updated = csp_update({"img-src": ["https://maps.example.com"]})(
        lambda request: HttpResponse()
    )
    exempt = csp_exempt()(lambda request: HttpResponse())
    for case in ({"view": updated}, {"view": exempt}, {"nonce": True}):
        ours, stock, _request = _both(**case)
        assert ours == stock, case


def test_a_page_that_used_a_nonce_gets_it_in_its_policy(settings):
    settings.CONTENT_SECURITY_POLICY = {
        "DIRECTIVES": {"default-src": ["'self'"], "script-src": ["'self'", NONCE]}
    }
    ours, request = _headers(CSPMiddleware, nonce=True)
    stock, _request = _headers(StockCSPMiddleware, nonce=True)
    nonce = f"'nonce-{request._csp_nonce}'"
    assert nonce in ours["Content-Security-Policy"]
    assert re.sub(r"'nonce-[^']+'", "", stock["Content-Security-Policy"]) == (
        ours["Content-Security-Policy"].replace(nonce, "")
    )
    assert "nonce" not in _headers(CSPMiddleware)[0]["Content-Security-Policy"]


def test_settings_changes_are_followed(settings):
    settings.CONTENT_SECURITY_POLICY = {
        "DIRECTIVES": {"default-src": ["'none'"]},
        "EXCLUDE_URL_PREFIXES": ["/admin/"],
    }
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = {
        "DIRECTIVES": {"default-src": ["'self'"], "report-uri": "/csp-report"}
    }
    for path in ("/dashboard/", "/admin/"):
        ours, stock, _request = _both(path=path)
        assert ours == stock, path
    assert ours["Content-Security-Policy"] is None
    assert "report-uri /csp-report" in ours["Content-Security-Policy-Report-Only"]
    settings.DEBUG = True
    ours, stock, _request = _both(status=404)
    assert ours == stock == dict.fromkeys(HEADERS)


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
