"""Real server processes in tests (tests/test_operations.py, tests/test_process_faults.py): a free port,
waiting for `/ready`, the timer workers a supervisor started."""
from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.error
import urllib.request


def free_port() -> int:
    """A TCP port nobody listens on now, on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(url: str) -> tuple[int, dict]:
    """(status, JSON body) of a GET, error statuses included."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def wait_ready(url: str, seconds: float, server: subprocess.Popen | None = None) -> dict:
    """The body of the first 200 from `url`; fails after `seconds` or as soon as `server` has stopped."""
    deadline = time.monotonic() + seconds
    while True:
        assert server is None or server.poll() is None, f"the server stopped with {server.returncode}"
        try:
            status, body = get_json(url)
            if status == 200:
                return body
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        assert time.monotonic() < deadline, f"not ready after {seconds} s"
        time.sleep(0.3)


def timer_workers(parent: int) -> list[int]:
    """Pids of the timer workers `python -m engine serve` (pid `parent`) runs."""
    out = subprocess.run(["pgrep", "-P", str(parent), "-f", "engine worker"], capture_output=True, text=True)
    return [int(pid) for pid in out.stdout.split()]
