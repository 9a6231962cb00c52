"""Real browser tests' plumbing: the real app under uvicorn on a free loopback port (in a
thread, or `va serve` in its own process for measurements), Debian's Chromium driven by
Playwright, console errors and failed requests collected, screenshots.

Needs ``apt-get install chromium`` (/usr/bin/chromium) and ``pip install playwright``;
never ``playwright install`` (it downloads a browser). VA_CHROMIUM overrides the path.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import httpx

try:
    from playwright.sync_api import expect, sync_playwright  # noqa: F401  (expect: for the tests)
except ImportError as exc:  # pragma: no cover - a setup problem, said plainly
    raise ImportError(
        "the browser tests need Playwright: pip install playwright (and apt-get install chromium; "
        "never `playwright install`)"
    ) from exc

CHROMIUM = os.environ.get("VA_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
VIEWPORT = {"width": 1440, "height": 900}
SMALL = {"width": 1024, "height": 700}  # the narrow screen every view is also checked at
# The annotator name already chosen, as after a first visit (a test may set another first).
ANNOTATOR_INIT = "if (!localStorage.getItem('va.annotator')) localStorage.setItem('va.annotator', 'Tess');"


@contextmanager
def running_server(app):
    """Serve ``app`` on 127.0.0.1 at a free port; yields the base URL ('http://127.0.0.1:PORT/')."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    # log_config=None: keep the test's logging setup (ERROR records still fail a test).
    config = uvicorn.Config(
        app, log_config=None, log_level="warning", access_log=False, server_header=False, lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@contextmanager
def va_serve_process(home):
    """`va --home HOME serve` in its own process, as a user runs it; yields the base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    va = Path(sys.executable).with_name("va")
    log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - closed in the finally below; not a pipe: a full pipe would stall the server
    process = subprocess.Popen(
        [str(va), "--home", str(home), "serve", "--port", str(port)], stdout=log, stderr=subprocess.STDOUT, text=True
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(url + "api/info", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"va serve did not start: {log.read()[-2000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError("va serve did not answer within 60 s")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@contextmanager
def chromium():
    """Debian's Chromium under Playwright, for one module's tests."""
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            yield browser
        finally:
            browser.close()


def launch_chromium(playwright):
    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"{CHROMIUM} not found: apt-get install chromium (or set VA_CHROMIUM)")
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


class PageProblems:
    """Console errors, uncaught exceptions, failed requests and dialogs (alert/confirm) a page produced."""

    def __init__(self, page):
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        page.on("console", lambda m: self.errors.append(f"console: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"exception: {e}"))
        page.on("dialog", self._dialog)
        page.on("response", lambda r: self.errors.append(f"http {r.status}: {r.url}") if r.status >= 400 else None)

    def _dialog(self, dialog):
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def unexpected(self, *allowed: str) -> list[str]:
        return [e for e in self.errors if not any(a in e for a in allowed)]


def shot(page, name: str) -> Path:
    """Save a screenshot as test-artifacts/NAME.png (look at them: they are the UI's record)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


@contextmanager
def new_page(browser, viewport=VIEWPORT, timeout_ms: int = 20_000, init: str = ANNOTATOR_INIT):
    """A page in a fresh browser context (its own storage, ``init`` run before the page's
    scripts), closed afterwards."""
    context = browser.new_context(viewport=viewport)
    context.set_default_timeout(timeout_ms)
    if init:
        context.add_init_script(init)
    try:
        yield context.new_page()
    finally:
        context.close()


def both_sizes(page, name: str, at_small=None) -> None:
    """Screenshots NAME-1440.png at 1440×900 and NAME-1024.png at 1024×700; ``at_small(page)``
    runs at 1024×700 before the page goes back to the large size."""
    shot(page, f"{name}-1440")
    page.set_viewport_size(SMALL)
    page.wait_for_timeout(150)  # one layout at the new size
    shot(page, f"{name}-1024")
    if at_small:
        at_small(page)
    page.set_viewport_size(VIEWPORT)


def sideways_scroll(page) -> float:
    """How far the page scrolls sideways (0: nothing is wider than the window)."""
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
