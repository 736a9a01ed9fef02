"""A local stand-in for a browser vendor's push service (tests only).

`FakePushService` is a threaded HTTPS server (a self-signed certificate for
127.0.0.1, trusted through REQUESTS_CA_BUNDLE by the `push_service` fixture)
whose paths are subscription endpoints. `FakeBrowser` is the browser's side
of one subscription: its own P-256 key pair and auth secret, made here with
cryptography, so the test can decrypt what arrived (aes128gcm, RFC 8291,
with http_ece, which pywebpush itself uses) and check the VAPID
Authorization header (RFC 8292) against the configured public key."""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import json
import os
import secrets
import ssl
import tempfile
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.x509.oid import NameOID


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class PushRequest:
    path: str
    headers: dict
    body: bytes


@dataclass
class FakeBrowser:
    """One browser's subscription keys (what PushManager.subscribe makes)."""

    endpoint: str
    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    auth_secret: bytes = field(default_factory=lambda: secrets.token_bytes(16))

    @property
    def p256dh(self) -> str:
        return b64url(
            self.key.public_key().public_bytes(
                serialization.Encoding.X962,
                serialization.PublicFormat.UncompressedPoint,
            )
        )

    @property
    def auth(self) -> str:
        return b64url(self.auth_secret)

    def decrypt(self, request: PushRequest) -> dict:
        """The JSON payload of a push that reached this browser."""
        assert request.headers["content-encoding"] == "aes128gcm"
        plain = http_ece.decrypt(
            request.body,
            private_key=self.key,
            auth_secret=self.auth_secret,
            version="aes128gcm",
        )
        return json.loads(plain)


def vapid_claims_verified(authorization: str, public_key: str) -> dict:
    """The claims of a `vapid t=<JWT>, k=<public key>` header, after checking
    that `k` is `public_key` and that the JWT's ES256 signature verifies with
    it; raises AssertionError (or InvalidSignature) otherwise."""
    assert authorization.startswith("vapid "), authorization
    parts = dict(item.strip().split("=", 1) for item in authorization[6:].split(","))
    assert parts["k"] == public_key
    header, payload, signature = parts["t"].split(".")
    assert json.loads(b64url_decode(header)) == {"typ": "JWT", "alg": "ES256"}
    raw = b64url_decode(signature)
    der = encode_dss_signature(
        int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")
    )
    key = ec.EllipticCurvePublicKey.from_encoded_point(
        ec.SECP256R1(), b64url_decode(public_key)
    )
    key.verify(der, f"{header}.{payload}".encode(), ec.ECDSA(hashes.SHA256()))
    return json.loads(b64url_decode(payload))


def _self_signed(directory: str) -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path = os.path.join(directory, "cert.pem")
    key_path = os.path.join(directory, "key.pem")
    with open(cert_path, "wb") as out:
        out.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as out:
        out.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    return cert_path, key_path


class FakePushService:
    """Records every push; answers each with the next of `statuses` (then
    201), a `Location` header naming the stored message on success."""

    def __init__(self) -> None:
        self.requests: list[PushRequest] = []
        self.statuses: list[int] = []
        self.directory = tempfile.mkdtemp(prefix="fake-push-")
        self.cert_path, key_path = _self_signed(self.directory)
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                service.requests.append(
                    PushRequest(
                        path=self.path,
                        headers={k.lower(): v for k, v in self.headers.items()},
                        body=body,
                    )
                )
                status = service.statuses.pop(0) if service.statuses else 201
                answer = b"" if status < 300 else b'{"reason": "fake"}'
                self.send_response(status)
                if status < 300:
                    self.send_header(
                        "Location", f"{service.origin}/m/{len(service.requests)}"
                    )
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_path, key_path)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.origin = f"https://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def browser(self, name: str) -> FakeBrowser:
        return FakeBrowser(endpoint=f"{self.origin}/push/{name}")

    def to(self, browser: FakeBrowser) -> list[PushRequest]:
        path = browser.endpoint.removeprefix(self.origin)
        return [r for r in self.requests if r.path == path]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
