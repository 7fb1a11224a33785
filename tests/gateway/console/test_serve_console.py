"""``wasmtask serve`` starts the console on its own port, prints its URL, and lets only it call the API."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.gateway.support import ADMIN_KEY, REPO, free_port


def test_serve_prints_the_console_url_and_allows_its_origin(console_assets: None, tmp_path: Path) -> None:
    port, control, console = free_port(), free_port(), free_port()
    log = tmp_path / "serve.log"
    command = [sys.executable, "-m", "gateway.cli", "serve", "--port", str(port), "--control-port", str(control),
               "--console-port", str(console), "--data-dir", str(tmp_path / "data")]
    with open(log, "w") as out:
        process = subprocess.Popen(command, cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
                                   env={**os.environ, "WASMTASK_ADMIN_KEY": ADMIN_KEY})
    try:
        console_url = f"http://127.0.0.1:{console}"
        deadline = time.monotonic() + 60
        while f"console: {console_url}" not in log.read_text():
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        page = httpx.get(console_url + "/")
        assert page.status_code == 200
        assert f"connect-src 'self' http://127.0.0.1:{port}" in page.headers["content-security-policy"]
        script = re.search(r'src="(/assets/console-[A-Z0-9]+\.js)"', page.text)
        assert script is not None and httpx.get(console_url + script.group(1)).status_code == 200
        preflight = httpx.options(f"http://127.0.0.1:{port}/api/functions/demo", headers={
            "origin": console_url, "access-control-request-method": "GET",
            "access-control-request-headers": "authorization"})
        assert preflight.headers.get("access-control-allow-origin") == console_url
        assert httpx.get(f"{console_url}/run/demo/hello").status_code == 404
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
