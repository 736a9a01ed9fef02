"""Local stand-ins for Apple and Google in the wallet tests (no network):

- `apple_credentials`: a self-signed "WWDR" CA and a Pass Type ID certificate
  it issued, with the key, written as Apple hands them out (the WWDR as DER).
- `FakeApns`: an HTTP/2 server (h2, prior knowledge on a local port) that
  records every push and answers `statuses[token]` in turn (then 200).
- `FakeGoogle`: the OAuth token endpoint and the Wallet API's loyalty
  objects; records requests and answers `patch_statuses` in turn (then 200).
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import h2.config
import h2.connection
import h2.events
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

PASS_TYPE_ID = "pass.com.example.loyalty"
TEAM_ID = "TEAM123456"


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _name(common: str, *extra) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common), *extra])


def apple_credentials(folder: Path) -> dict[str, str]:
    """Settings for a pass signed by a test certificate: WALLET_APPLE_* paths."""
    now = dt.datetime.now(dt.UTC)
    ca_key = _key()
    ca_name = _name("Test Apple Worldwide Developer Relations CA")
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = _key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(
            _name(
                f"Pass Type ID: {PASS_TYPE_ID}",
                x509.NameAttribute(NameOID.USER_ID, PASS_TYPE_ID),
                x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, TEAM_ID),
            )
        )
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    paths = {
        "WALLET_APPLE_CERT": folder / "pass.pem",
        "WALLET_APPLE_KEY": folder / "pass.key",
        "WALLET_APPLE_WWDR": folder / "wwdr.cer",
    }
    paths["WALLET_APPLE_CERT"].write_bytes(
        cert.public_bytes(serialization.Encoding.PEM)
    )
    paths["WALLET_APPLE_KEY"].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    paths["WALLET_APPLE_WWDR"].write_bytes(ca.public_bytes(serialization.Encoding.DER))
    (folder / "wwdr.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    return {
        "WALLET_APPLE_PASS_TYPE_ID": PASS_TYPE_ID,
        "WALLET_APPLE_TEAM_ID": TEAM_ID,
        **{name: str(path) for name, path in paths.items()},
    }


class FakeApns:
    """APNs on a local port, HTTP/2 without TLS (prior knowledge)."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.statuses: dict[str, list[tuple[int, str]]] = {}
        self.delay = 0.0  # seconds before each answer (races)
        self.lock = threading.Lock()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def tokens(self) -> list[str]:
        return [r["path"].rsplit("/", 1)[1] for r in self.requests]

    def _accept(self) -> None:
        while not self._closed:
            try:
                conn, _addr = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        h2conn = h2.connection.H2Connection(
            config=h2.config.H2Configuration(client_side=False, header_encoding="utf-8")
        )
        h2conn.initiate_connection()
        conn.sendall(h2conn.data_to_send())
        streams: dict[int, dict] = {}
        with conn:
            while True:
                try:
                    data = conn.recv(65535)
                except OSError:
                    return
                if not data:
                    return
                for event in h2conn.receive_data(data):
                    if isinstance(event, h2.events.RequestReceived):
                        streams[event.stream_id] = {
                            "headers": dict(event.headers),
                            "body": b"",
                        }
                    elif isinstance(event, h2.events.DataReceived):
                        streams[event.stream_id]["body"] += event.data
                        h2conn.acknowledge_received_data(
                            event.flow_controlled_length, event.stream_id
                        )
                    elif isinstance(event, h2.events.StreamEnded):
                        self._answer(
                            h2conn, event.stream_id, streams.pop(event.stream_id)
                        )
                    elif isinstance(event, h2.events.ConnectionTerminated):
                        conn.sendall(h2conn.data_to_send())
                        return
                conn.sendall(h2conn.data_to_send())

    def _answer(self, h2conn, stream_id: int, request: dict) -> None:
        if self.delay:
            time.sleep(self.delay)
        headers = request["headers"]
        token = headers[":path"].rsplit("/", 1)[1]
        with self.lock:
            self.requests.append(
                {
                    "method": headers[":method"],
                    "path": headers[":path"],
                    "headers": headers,
                    "body": request["body"],
                }
            )
            queued = self.statuses.get(token) or []
            status, reason = queued.pop(0) if queued else (200, "")
        body = json.dumps({"reason": reason}).encode() if status != 200 else b""
        h2conn.send_headers(
            stream_id,
            [(":status", str(status)), ("apns-id", str(uuid.uuid4()))]
            + ([("content-type", "application/json")] if body else []),
            end_stream=not body,
        )
        if body:
            h2conn.send_data(stream_id, body, end_stream=True)

    def close(self) -> None:
        self._closed = True
        self.sock.close()


def google_service_account(
    folder: Path, token_uri: str
) -> tuple[str, rsa.RSAPublicKey]:
    """A service account key file (as the Cloud console downloads it) whose
    token_uri is the fake's; returns its path and the public key."""
    key = _key()
    data = {
        "type": "service_account",
        "project_id": "loyalty-test",
        "private_key_id": "test",
        "private_key": key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode(),
        "client_email": "wallet@loyalty-test.iam.gserviceaccount.com",
        "token_uri": token_uri,
    }
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "service-account.json"
    path.write_text(json.dumps(data))
    return str(path), key.public_key()


class FakeGoogle:
    """Google's OAuth token endpoint (/token) and the Wallet API's
    /walletobjects/v1/loyaltyObject/<id> on a local port."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.patch_statuses: list[int] = []
        self.objects: dict[str, dict] = {}  # saved by members, PATCH updates them
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _read(self) -> bytes:
                return self.rfile.read(int(self.headers.get("Content-Length", 0)))

            def _send(self, status: int, body: dict) -> None:
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_POST(self):  # noqa: N802 - http.server's name
                raw = self._read()
                with fake.lock:
                    fake.requests.append(
                        {"method": "POST", "path": self.path, "body": raw}
                    )
                if self.path == "/token":
                    form = parse_qs(raw.decode())
                    if form.get("grant_type") != [
                        "urn:ietf:params:oauth:grant-type:jwt-bearer"
                    ]:
                        self._send(400, {"error": "unsupported_grant_type"})
                        return
                    self._send(
                        200,
                        {"access_token": "fake-token", "expires_in": 3600},
                    )
                    return
                self._send(404, {"error": "not found"})

            def do_PATCH(self):  # noqa: N802 - http.server's name
                raw = self._read()
                object_id = self.path.rsplit("/", 1)[1]
                with fake.lock:
                    fake.requests.append(
                        {
                            "method": "PATCH",
                            "path": self.path,
                            "headers": dict(self.headers),
                            "body": raw,
                        }
                    )
                    status = fake.patch_statuses.pop(0) if fake.patch_statuses else 200
                    if status == 200 and object_id not in fake.objects:
                        status = 404
                    if status == 200:
                        fake.objects[object_id].update(json.loads(raw))
                if status == 200:
                    self._send(200, fake.objects[object_id])
                else:
                    self._send(status, {"error": {"code": status}})

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def patches(self) -> list[dict]:
        return [r for r in self.requests if r["method"] == "PATCH"]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
