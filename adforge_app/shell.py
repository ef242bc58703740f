"""How the `adforge` command meets the shell: one error style, Ctrl-C, secrets.

- **Errors.** Every command runs inside `ShellGroup`, which turns AdForge's own errors
  and invalid settings into a few lines (what is wrong, where, how to fix it) instead of
  a traceback: exit code 2 for bad input (`InputError`, settings), 1 for the others.
  `adforge --debug ...` or `ADFORGE_DEBUG=1` shows the traceback as well.
- **Ctrl-C.** While a campaign runs in this process, SIGINT marks its run `interrupted`
  in the tracking database, stops Prefect's temporary server, prints one line and
  leaves at once (exit 130): waiting for the stages' threads, or for a server that the
  same Ctrl-C already stopped, took minutes. The next run of the brief resumes it.
- **Secrets.** `--db` reaches the flow through `ADFORGE_DB_URL` in this process's
  environment, never as a flow parameter (Prefect stores parameters and shows them).
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

import typer
from pydantic import ValidationError
from rich.console import Console
from typer.core import TyperGroup

from adforge import interrupts
from adforge.errors import AdForgeError, InputError
from adforge.settings import settings_error

DEBUG_VARIABLE = "ADFORGE_DEBUG"
DB_VARIABLE = "ADFORGE_DB_URL"
EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 1, 2, 130
PREFECT_STATE_TIMEOUT_S = 2.0  # Ctrl-C tells Prefect's API the run stopped, if it answers

errors = Console(stderr=True, highlight=False, soft_wrap=True)


class ShellGroup(TyperGroup):
    """The `adforge` command group: AdForge's errors end a command in a few lines."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except ValidationError as exc:  # a settings model built outside load_settings
            _refuse(ctx, settings_error(exc), exc)
        except AdForgeError as exc:
            _refuse(ctx, exc, exc)
        return None


def _refuse(ctx: Any, error: AdForgeError, original: BaseException) -> None:
    if debug_wanted(ctx):
        raise original
    errors.print(f"[red]error:[/red] {error}", markup=True, highlight=False)
    errors.print(f"[dim](add --debug, or set {DEBUG_VARIABLE}=1, for the traceback)[/dim]")
    code = EXIT_BAD_INPUT if isinstance(error, InputError) else EXIT_FAILED
    raise typer.Exit(code) from None


def debug_wanted(ctx: Any = None) -> bool:
    """`--debug` given to `adforge`, or ADFORGE_DEBUG set to a true value."""
    if ctx is not None and ctx.params.get("debug"):
        return True
    return os.environ.get(DEBUG_VARIABLE, "").strip().lower() in ("1", "true", "yes", "on")


def debug_option(debug: bool = typer.Option(
        False, "--debug", envvar=DEBUG_VARIABLE,
        help="show the traceback of an error (also: ADFORGE_DEBUG=1)")) -> None:
    """AdForge: product photos + a brand kit -> platform-ready ads."""


@contextmanager
def database_in_environment(db_url: str | None) -> Iterator[None]:
    """`--db` as ADFORGE_DB_URL for the duration of a command, then as it was: the
    in-process flow reads it with its other settings, and no parameter carries it."""
    if db_url is None:
        yield
        return
    previous = os.environ.get(DB_VARIABLE)
    os.environ[DB_VARIABLE] = db_url
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(DB_VARIABLE, None)
        else:
            os.environ[DB_VARIABLE] = previous


@contextmanager
def stop_on_ctrl_c() -> Iterator[None]:
    """While a campaign runs in this process: Ctrl-C closes it as `interrupted` and
    leaves within seconds (see the module docstring). Only the main thread can take a
    signal; elsewhere this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, _leave_on_ctrl_c)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _leave_on_ctrl_c(signum: int, frame: Any) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C while leaving: ignored
    terminal = _quiet_other_threads()
    marked = interrupts.mark_interrupted()
    _tell_prefect_interrupted()
    _stop_temporary_server()
    if marked:
        line = (f"interrupted: run {', '.join(marked)} is marked interrupted; run the same "
                "command again to resume it")
    else:
        line = "interrupted before the run started; nothing was recorded"
    _show_cursor(terminal)
    os.write(terminal, f"\n{line}\n".encode())
    os._exit(EXIT_INTERRUPTED)  # the stages' threads cannot be stopped: leave without them


def _quiet_other_threads() -> int:
    """The stages' threads and Prefect's log shipper go on until we leave, and with the
    server stopping they fail loudly (tracebacks, "Error logging to API"). Standard output
    and error are pointed at the null device for the rest of this process; the returned
    descriptor is the terminal's error stream, for our one line."""
    logging.raiseExceptions = False  # a failing log handler prints nothing
    with suppress(OSError, ValueError):  # a closed or broken stream: nothing to keep
        sys.stdout.flush()
        sys.stderr.flush()
    terminal = os.dup(2)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.dup2(null, 2)
    os.close(null)
    return terminal


def _tell_prefect_interrupted() -> None:
    """Best effort, within a couple of seconds: the flow run `Cancelled` in Prefect's
    API (a server of its own; the temporary one has the same Ctrl-C and is going)."""
    from prefect.context import FlowRunContext

    context = FlowRunContext.get()
    if context is None or context.flow_run is None:
        return
    flow_run_id = context.flow_run.id

    def cancel() -> None:
        from prefect.client.orchestration import get_client
        from prefect.states import Cancelled

        try:
            with get_client(sync_client=True) as client:
                client.set_flow_run_state(flow_run_id, Cancelled(
                    message="interrupted (Ctrl-C); rerun the brief to resume"), force=True)
        except Exception:  # noqa: BLE001 - the API may be gone already
            return

    worker = threading.Thread(target=cancel, daemon=True)
    worker.start()
    worker.join(PREFECT_STATE_TIMEOUT_S)


def _stop_temporary_server() -> None:
    """Prefect's temporary server, if this process started one (it would outlive us)."""
    try:
        from prefect.server.api.server import SubprocessASGIServer
    except ImportError:
        return
    logging.getLogger("prefect").setLevel(logging.WARNING)  # no "Stopping ..." line
    for server in list(SubprocessASGIServer._instances.values()):
        try:
            server.stop()
        except Exception:  # noqa: BLE001 - stopping on the way out, best effort
            continue


def _show_cursor(terminal: int) -> None:
    """The progress display hides the terminal's cursor; leaving at once skips its
    cleanup, so the cursor is shown again here."""
    if os.isatty(terminal):
        os.write(terminal, b"\x1b[?25h")
