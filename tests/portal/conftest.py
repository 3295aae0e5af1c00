"""The browser tests' peers: a `hub serve --demo` process and Debian's headless Chromium.

``scripts/test`` installs Chromium, chromedriver, a CJK font and axe-core
(scripts/lib/chromium.sh) and says where they and the screenshots are; the tests fail, never
skip, without them.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from tests.federation.peers import Peer, hub_command, start, wait_until_ready

HERE = Path(__file__).resolve().parent
AXE = HERE / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS_ENV = "HUB_TEST_SCREENSHOTS"
#: Enough demo enterprises for more than one page of blacklist listings in force.
DEMO_ENTERPRISES = 2000

_screenshots: list[Path] = []


def _required(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.fail(
            f"{name} is not set: run the suite with scripts/test, whose chromium service "
            "installs Chromium, chromedriver and axe-core",
            pytrace=False,
        )
    return value


@pytest.fixture(scope="session")
def hub_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`hub serve --demo` on SQLite, on 127.0.0.1, with a public budget no test runs out of."""
    directory = tmp_path_factory.mktemp("portal-hub")
    port = _ephemeral_port()
    env = {
        "HUB_DATABASE_URL": f"sqlite+aiosqlite:///{directory / 'hub.db'}",
        "HUB_SIGNING_KEY_PATH": str(directory / "signing-key.pem"),
        "HUB_LIMITS__PUBLIC__RATE_LIMIT": "100000",
        "HUB_REDIS_URL": "",
        "HUB_SEARCH_URL": "",
    }
    command = hub_command(
        "serve", "--demo", "--enterprises", str(DEMO_ENTERPRISES), "--host", "127.0.0.1",
        "--port", str(port),
    )  # fmt: skip
    peer: Peer = start("hub", command, directory, env)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_ready(peer, f"{url}/readyz", deadline=time.monotonic() + 180)
        yield url
    finally:
        peer.stop()


def _ephemeral_port() -> int:
    """A port the kernel picks among its ephemeral ones: far from the fixed ranges that other
    suites' peers probe, so that two test runs on one machine do not race for it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where each page's screenshot goes: scripts/test's directory, else one of pytest's."""
    configured = os.environ.get(SCREENSHOTS_ENV)
    directory = Path(configured) if configured else tmp_path_factory.mktemp("screenshots")
    directory.mkdir(parents=True, exist_ok=True)
    _screenshots.append(directory)
    return directory


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE.is_file():
        pytest.fail(
            f"{AXE} is missing: scripts/test's chromium service runs `npm ci` in tests/portal",
            pytrace=False,
        )
    return AXE.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def browser() -> Iterator[webdriver.Chrome]:
    """Headless Chromium that cannot reach anything but this machine: a page that needs the
    internet (a CDN's script, a web font) fails to load it, and the test sees the error."""
    options = webdriver.ChromeOptions()
    options.binary_location = _required("HUB_TEST_CHROMIUM")
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1280,900",
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
        "--lang=zh-CN",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(_required("HUB_TEST_CHROMEDRIVER")), options=options)
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for directory in _screenshots:
        shots = sorted(directory.glob("*.png"))
        terminalreporter.write_line(f"portal screenshots: {len(shots)} in {directory}", bold=True)
