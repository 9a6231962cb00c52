"""The server's security rules on the real app over a real (empty) workspace: bind and
token, cross-site writes, body size, Host pinning, headers, escaping, paths in URLs."""

import io
import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from videoannotator.errors import VAError
from videoannotator.server import create_app, serve
from videoannotator.server.security import check_bind
from videoannotator.workspace import Workspace

TOKEN = "s3cret-token-for-tests"
BASE_URL = "http://127.0.0.1"  # a loopback Host; TestClient's default, "testserver", is refused
XSS = "<img src=x onerror=alert(1)>"
VA = str(Path(sys.executable).with_name("va"))


@pytest.fixture
def ws(tmp_home):
    return Workspace(tmp_home)


@pytest.fixture
def client(ws):
    with TestClient(create_app(ws), base_url=BASE_URL) as c:
        yield c


@pytest.fixture
def token_client(ws):
    with TestClient(create_app(ws, token=TOKEN), base_url=BASE_URL) as c:
        yield c


def assert_error(response, status, code=None):
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    if code:
        assert body["error"]["code"] == code
    return body["error"]


# -- bind and token ---------------------------------------------------------------------------
@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "example.com"])
def test_non_loopback_bind_without_token_refuses_to_start(ws, host):
    with pytest.raises(VAError) as info:
        serve(ws, host=host, port=1)  # refused before anything listens
    assert info.value.code == "token_required"
    assert "\n" not in info.value.message and "--token" in info.value.message


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_loopback_bind_needs_no_token(host):
    check_bind(host, None)


def test_public_bind_with_token_is_allowed_and_a_weak_token_is_not():
    check_bind("0.0.0.0", TOKEN)
    for weak in ("", "short", "has space in it", "semi;colon;token"):
        with pytest.raises(VAError):
            check_bind("0.0.0.0", weak)


@pytest.mark.slow
def test_va_serve_on_public_address_without_token_prints_one_line(tmp_home):
    env = {k: v for k, v in os.environ.items() if k != "VA_TOKEN"}
    result = subprocess.run(
        [VA, "--home", str(tmp_home), "serve", "--host", "0.0.0.0"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "token" in lines[0], result.stderr


def test_token_is_required_on_api_media_and_schema_when_set(token_client):
    for path in ("/api/labels", "/media/clips/0/thumb.jpg", "/openapi.json"):
        error = assert_error(token_client.get(path), 401, "unauthorized")
        assert "token" in error["message"]
    assert token_client.get("/api/labels").headers["www-authenticate"] == "Bearer"
    assert_error(token_client.get("/api/labels", headers={"authorization": "Bearer wrong-token-123"}), 401)
    ok = token_client.get("/api/labels", headers={"authorization": f"Bearer {TOKEN}"})
    assert ok.status_code == 200 and ok.json() == {"labels": []}
    assert token_client.get("/").status_code == 200  # the page shell holds no data


def test_token_cookie_is_set_once_from_the_page_url(token_client):
    assert_error(token_client.get("/?token=not-the-token", follow_redirects=False), 401)
    response = token_client.get(f"/?token={TOKEN}", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/"
    cookie = response.headers["set-cookie"].lower()
    assert "va_token=" in cookie and "httponly" in cookie and "samesite=strict" in cookie
    assert token_client.get("/api/labels").status_code == 200  # the client kept the cookie
    created = token_client.post("/api/labels", json={"name": "with-cookie"})
    assert created.status_code == 201


def test_with_a_token_any_host_name_is_served(token_client):
    headers = {"authorization": f"Bearer {TOKEN}", "host": "annotator.example.org:8765"}
    assert token_client.get("/api/labels", headers=headers).status_code == 200


@pytest.mark.slow
def test_real_server_on_loopback_answers(tmp_home):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [VA, "--home", str(tmp_home), "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/api/labels", timeout=2)
                break
            except httpx.TransportError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(
                        f"va serve did not answer: {proc.stderr.read() if proc.poll() is not None else 'timeout'}"
                    )
                time.sleep(0.2)
        assert response.status_code == 200 and response.json() == {"labels": []}
        assert "server" not in response.headers
        rebound = httpx.get(f"http://127.0.0.1:{port}/api/labels", headers={"host": "evil.example"}, timeout=5)
        assert rebound.status_code == 403
    finally:
        proc.terminate()
        proc.wait(timeout=30)


# -- the access log never shows the token -------------------------------------------------------
def test_access_log_line_redacts_the_token():
    """uvicorn's own access record and formatter, through the filter `va serve` installs."""
    from uvicorn.logging import AccessFormatter

    from videoannotator.server.run import log_config

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s', use_colors=False))
    redact = log_config()["filters"]["redact_tokens"]["()"]()
    logger = logging.getLogger("va-test-access")
    logger.propagate, logger.level = False, logging.INFO
    logger.addHandler(handler)
    logger.addFilter(redact)
    try:
        for path in (f"/?token={TOKEN}", f"/api/labels?x=1&token={TOKEN}&y=2", f"/?TOKEN={TOKEN}#here"):
            logger.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", path, "1.1", 303)
    finally:
        logger.removeHandler(handler)
        logger.removeFilter(redact)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 3 and TOKEN not in stream.getvalue()
    assert lines[0] == '127.0.0.1:5000 - "GET /?token=[redacted] HTTP/1.1" 303 See Other'
    assert "x=1&token=[redacted]&y=2" in lines[1]


@pytest.mark.slow
def test_va_serve_access_log_never_shows_the_token(tmp_home):
    port = _free_port()
    env = {**os.environ, "VA_TOKEN": TOKEN}
    proc = subprocess.Popen(
        [VA, "--home", str(tmp_home), "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        _wait_for(proc, port)
        assert httpx.get(f"http://127.0.0.1:{port}/?token={TOKEN}", timeout=5).status_code == 303
        assert httpx.get(f"http://127.0.0.1:{port}/api/labels?token={TOKEN}", timeout=5).status_code == 401
    finally:
        proc.terminate()
        stdout, stderr = proc.communicate(timeout=30)
    access = [line for line in (stdout + stderr).splitlines() if '"GET ' in line]
    assert not [line for line in access if TOKEN in line], access
    assert len([line for line in access if "token=[redacted]" in line]) == 2, stdout + stderr
    # (The start-up line on stderr shows the token once, on purpose: it is the link to open.)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(proc, port):
    deadline = time.monotonic() + 60
    while True:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
        except httpx.TransportError:
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"va serve did not answer: {proc.stderr.read() if proc.poll() is not None else 'timeout'}")
            time.sleep(0.2)


# -- cross-site writes, content type, size, Host ------------------------------------------------
@pytest.mark.parametrize(
    "headers",
    [
        {"origin": "http://evil.example"},
        {"origin": "http://127.0.0.1.evil.example"},
        {"origin": "null"},
        {"origin": "http://127.0.0.1:8080"},
        {"sec-fetch-site": "cross-site"},
        {"sec-fetch-site": "same-site"},
    ],
)
def test_cross_site_post_is_rejected(client, ws, headers):
    assert_error(client.post("/api/labels", json={"name": "csrf"}, headers=headers), 403, "cross_site")
    assert_error(client.patch("/api/labels/whatever", json={"archived": True}, headers=headers), 403)
    assert ws.labels.list(include_archived=True) == []


def test_same_origin_post_is_accepted(client):
    headers = {"origin": "http://127.0.0.1", "sec-fetch-site": "same-origin"}
    assert client.post("/api/labels", json={"name": "same-origin"}, headers=headers).status_code == 201


@pytest.mark.parametrize(
    "kwargs",
    [
        {"data": {"name": "form"}},
        {"content": '{"name": "text"}', "headers": {"content-type": "text/plain"}},
        {"files": {"name": ("x.txt", b"multipart")}},
        {"content": '{"name": "none"}'},
    ],
)
def test_non_json_writes_are_rejected(client, ws, kwargs):
    assert_error(client.post("/api/labels", **kwargs), 415, "unsupported_media_type")
    assert ws.labels.list() == []


def test_oversized_body_is_413(client, ws):
    big = {"name": "big", "description": "x" * (2 << 20)}
    assert_error(client.post("/api/labels", json=big), 413, "too_large")

    def chunks():  # no Content-Length: counted while it streams in
        yield b'{"name": "chunked", "description": "'
        for _ in range(40):
            yield b"y" * 65536
        yield b'"}'

    response = client.post("/api/labels", content=chunks(), headers={"content-type": "application/json"})
    assert_error(response, 413, "too_large")
    assert ws.labels.list() == []


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8765", "127.0.0.1.evil.example", "testserver"])
def test_foreign_host_header_is_rejected_without_token(client, host):
    assert_error(client.get("/api/labels", headers={"host": host}), 403, "forbidden_host")


def test_the_test_clients_default_host_is_refused(ws):
    with TestClient(create_app(ws)) as default:  # Host: testserver
        assert_error(default.get("/api/labels"), 403, "forbidden_host")


@pytest.mark.parametrize("host", ["127.0.0.1:8765", "localhost:8765", "[::1]:8765", "localhost"])
def test_loopback_host_header_is_served(client, host):
    assert client.get("/api/labels", headers={"host": host}).status_code == 200


# -- headers, escaping, paths -------------------------------------------------------------------
def test_security_headers_on_every_kind_of_response(client):
    for response in (
        client.get("/api/labels"),
        client.get("/"),
        client.get("/no/such/route"),
        client.post("/api/labels", data={"x": "1"}),
        client.get("/media/clips/7/thumb.jpg"),
    ):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    page_csp = client.get("/").headers["content-security-policy"]
    assert "script-src 'self'" in page_csp and "unsafe-inline" not in page_csp
    assert client.get("/api/labels").headers["cache-control"] == "no-store"


def test_markup_in_label_text_comes_back_as_json_data(client):
    assert_error(client.post("/api/labels", json={"name": XSS}), 422, "invalid_input")
    created = client.post("/api/labels", json={"name": "xss-check", "description": XSS, "keywords": [XSS, "</script>"]})
    assert created.status_code == 201
    for response in (client.get("/api/labels/xss-check"), client.get("/api/labels")):
        assert response.headers["content-type"] == "application/json"
        assert response.headers["content-security-policy"].endswith("sandbox")
        assert XSS in response.text  # data, verbatim: the page escapes when it renders
    label = client.get("/api/labels/xss-check").json()
    assert label["description"] == XSS and label["keywords"] == [XSS, "</script>"]
    assert_error(client.patch("/api/labels/xss-check", json={"name": "a<b"}), 422, "invalid_input")
    assert XSS not in client.get("/").text


@pytest.mark.parametrize(
    "path",
    [
        "/media/clips/../../etc/passwd",
        "/media/clips/..%2F..%2Fetc%2Fpasswd/thumb.jpg",
        "/media/clips/%2e%2e/thumb.jpg",
        "/media/clips/%2e%2e%2f%2e%2e%2fetc%2fpasswd/preview.webm",
        "/media/clips/-1/thumb.jpg",
        "/media/clips/1e3/thumb.jpg",
        "/media/clips/0x10/thumb.jpg",
        "/media/clips/99999999999999999999999/thumb.jpg",
        "/media/clips/0/../../../../etc/passwd",
        "/static/../../../../etc/passwd",
    ],
)
def test_path_like_clip_ids_never_reach_the_file_system(client, path):
    response = client.get(path)
    assert response.status_code in (404, 422), (path, response.status_code)
    assert_error(response, response.status_code)
    assert "root:" not in response.text


def test_unknown_clip_id_is_404(client):
    for path in ("/media/clips/12/thumb.jpg", "/media/clips/12/preview.webm", "/api/clips/12"):
        assert_error(client.get(path), 404, "not_found")
