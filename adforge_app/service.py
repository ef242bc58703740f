"""A local Prefect server and its workers as background processes (Prefect-free).

`adforge server up` starts `prefect server start` (SQLite under `<state>/prefect/`, the
UI on) and one `prefect worker start` per pool, each in its own process group, writes
their pids and the API address under `<state>/`, and waits until the server answers and
the pools exist. `down` ends those process groups; `status` reports them.
`running_server_url` tells `adforge run` and `demo` that such a server is up, so they use
it instead of starting Prefect's temporary one.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from adforge.processes import is_alive
from adforge_app.prefect_env import SERVICE_SWITCHES, client_environment

POOLS = ("adforge-gpu", "adforge-cpu")
STATE_FOLDER = "service"  # under ADFORGE_HOME, unless `--state-dir` says otherwise
HEALTH_WAIT_S = 1.0  # a server slower than this to answer counts as not running
SERVER_ENV = {
    "PREFECT_UI_ENABLED": "true",  # the local-mode default (false) must not reach the server
    "PREFECT_SERVER_UI_ENABLED": "true",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
} | dict.fromkeys(SERVICE_SWITCHES, "true")  # a real server runs schedules and automations


@dataclass(frozen=True)
class ServiceState:
    """Where one local service keeps its pids, logs and Prefect home."""

    folder: Path

    @property
    def prefect_home(self) -> Path:
        return self.folder / "prefect"

    @property
    def info_file(self) -> Path:
        return self.folder / "server.json"

    def pid_file(self, name: str) -> Path:
        return self.folder / f"{name}.pid"

    def log_file(self, name: str) -> Path:
        return self.folder / f"{name}.log"

    def api_url(self) -> str | None:
        if not self.info_file.is_file():
            return None
        return json.loads(self.info_file.read_text())["api_url"]

    def processes(self) -> dict[str, int]:
        return {p.stem: int(p.read_text()) for p in sorted(self.folder.glob("*.pid"))}


def state_under(home: Path) -> ServiceState:
    """The default state of `adforge server up`: `<ADFORGE_HOME>/service`."""
    return ServiceState(home / STATE_FOLDER)


def running_server_url(home: Path) -> str | None:
    """The API address of the server that `adforge server up` started under `home`, if
    the process recorded there is alive and the server answers within about a second;
    else None. The pid check keeps a stale state folder from pointing at whatever else
    listens on that port now."""
    state = state_under(home)
    try:
        api_url, pid = state.api_url(), state.processes().get("server")
    except (OSError, ValueError, KeyError):  # a half-written or damaged state folder
        return None
    if not api_url or pid is None or not is_alive(pid):
        return None
    return api_url if _get(f"{api_url}/health", timeout=HEALTH_WAIT_S) == 200 else None


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def prefect_bin() -> str:
    return str(Path(sys.executable).with_name("prefect"))


def _spawn(state: ServiceState, name: str, argv: list[str], env: dict[str, str]) -> int:
    log = state.log_file(name).open("ab")
    process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env,
                               start_new_session=True, cwd=Path.cwd())
    state.pid_file(name).write_text(str(process.pid))
    return process.pid


def _get(url: str, timeout: float = 2.0) -> int:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except (urllib.error.URLError, OSError):
        return 0


def wait_until(check, timeout_s: float, what: str) -> None:  # noqa: ANN001 - a callable
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not ready after {timeout_s:.0f} s")
        time.sleep(0.5)


def start_server(state: ServiceState, host: str, port: int, timeout_s: float = 180) -> str:
    """Start `prefect server start` on host:port; return the API URL once it answers."""
    state.folder.mkdir(parents=True, exist_ok=True)
    state.prefect_home.mkdir(parents=True, exist_ok=True)
    api_url = f"http://{host}:{port}/api"
    env = os.environ | SERVER_ENV | {"PREFECT_HOME": str(state.prefect_home.resolve()),
                                     "PREFECT_SERVER_API_HOST": host,
                                     "PREFECT_SERVER_API_PORT": str(port)}
    env.pop("PREFECT_API_URL", None)
    if host not in ("0.0.0.0", "::"):  # the browser calls the API at this address
        env.setdefault("PREFECT_UI_API_URL", api_url)
    pid = _spawn(state, "server", [prefect_bin(), "server", "start", "--host", host,
                                   "--port", str(port)], env)
    state.info_file.write_text(json.dumps({"api_url": api_url, "ui_url": f"http://{host}:{port}",
                                           "server_pid": pid}))

    def healthy() -> bool:
        if not is_alive(pid):
            raise RuntimeError(f"the Prefect server exited; see {state.log_file('server')}")
        return _get(f"{api_url}/health") == 200

    wait_until(healthy, timeout_s, "Prefect server")
    return api_url


def start_worker(state: ServiceState, api_url: str, pool: str, name: str,
                 limit: int | None = None) -> int:
    """Start one process worker on `pool` (it creates the pool if missing). Its flow runs
    inherit its environment, Prefect's client settings of `prefect_env` included."""
    env = client_environment(api_url, os.environ) | {"PREFECT_HOME": str(state.prefect_home)}
    argv = [prefect_bin(), "worker", "start", "--pool", pool, "--type", "process",
            "--name", name, "--install-policy", "never"]
    if limit:
        argv += ["--limit", str(limit)]
    return _spawn(state, name, argv, env)


def wait_for_pools(api_url: str, pools: tuple[str, ...] = POOLS, timeout_s: float = 120) -> None:
    wait_until(lambda: all(_get(f"{api_url}/work_pools/{p}") == 200 for p in pools),
               timeout_s, f"work pools {', '.join(pools)}")


def stop_all(state: ServiceState, grace_s: float = 15) -> list[str]:
    """End every process group this state started (workers first); return their names."""
    names = sorted(state.processes(), key=lambda n: n == "server")
    for name in names:
        _signal_group(state.processes()[name], signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    for name in names:
        pid = state.processes()[name]
        while is_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        _signal_group(pid, signal.SIGKILL)
        state.pid_file(name).unlink(missing_ok=True)
    state.info_file.unlink(missing_ok=True)
    return names


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def status(state: ServiceState) -> dict[str, object]:
    api_url = state.api_url()
    return {"api_url": api_url,
            "healthy": bool(api_url) and _get(f"{api_url}/health") == 200,
            "processes": {name: is_alive(pid) for name, pid in state.processes().items()}}
