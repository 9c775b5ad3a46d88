"""``PluginConformance``: the rules every plugin type shares, and the machinery of a rule (load the
plugin, always stop it, fail with a message that says what the plugin did)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator, Awaitable, Mapping
from pathlib import Path
from typing import Any, Callable, ClassVar, NoReturn, Union

from .. import PluginManager
from .._core import PluginInfo
from ..errors import PluginCallError, PluginCrashedError, PluginError, PluginStartError
from ..literals import PluginTypeName
from . import _handshake, _process
from ._errors import describe, initialize_refusal, skip
from ._failure import ConformanceFailure, fail
from ._health import HEALTH_CHECK_PLUGIN, SERVING_STATUS, varint_field
from ._logs import LogCollector, json_line_problem

_Path = Union[str, "os.PathLike[str]"]
MANIFEST_SUFFIX = ".plugin.yaml"


class PluginConformance:
    """The rules every plugin must follow, whatever its type. Subclass a type's class
    (``LLMConformance``, ...), not this one; see the ``hector_plugins.testing`` docstring."""

    plugin: _Path | None = None
    """The plugin's executable, or its ``<exe>.plugin.yaml`` manifest."""
    config: Mapping[str, Any] = {}
    """A config ``Initialize`` accepts; every rule that loads the plugin loads it with this."""
    bad_config: Mapping[str, Any] | None = None
    """A config ``Initialize`` must refuse; None skips that rule (saying so)."""
    name: str = "under-test"
    """The name the plugin is loaded under (its logger: ``hector_plugins.plugin.<name>``)."""
    env: Mapping[str, str] | None = None
    """Extra environment variables for the plugin."""
    start_timeout: float = 30.0
    """Seconds the plugin may take to print its handshake line and answer ``Initialize``."""
    shutdown_grace: float = 2.0
    """Seconds the plugin may take to exit once asked to (``Shutdown``)."""
    call_timeout: float = 30.0
    """Seconds one call (or the wait for one stream item) may take."""
    concurrency: int = 16
    """How many calls ``test_concurrent_calls`` makes at once."""
    protocol_version: int = 1
    """The app protocol version the plugin speaks."""
    unsupported_protocol_version: int = 99
    """A version it cannot speak: offered only that, it must not load."""
    magic_cookie_key: str = "HECTOR_PLUGIN"
    magic_cookie_value: str = "hector_plugin_v1"
    require_grpc_health: bool = False
    """True: the plugin must serve ``grpc.health.v1`` (go-plugin plugins do); False: checked only
    when served (docs/protocol.md §8.4 makes it optional)."""

    plugin_type: ClassVar[PluginTypeName]
    """Set by each type's class."""

    _rule: str = "setup"

    # The machinery of a rule.

    def _run(self, rule: str, body: Callable[[], Awaitable[None]]) -> None:
        """Runs one rule's async body in a fresh event loop (no pytest-asyncio needed)."""
        self._rule = rule

        async def main() -> None:
            await body()

        asyncio.run(main())

    def _fail(self, expected: str, instead: str) -> NoReturn:
        fail(self._rule, self.plugin or "?", expected, instead)

    @property
    def executable(self) -> Path:
        """The executable ``plugin`` names (a manifest ``<exe>.plugin.yaml`` names ``<exe>``)."""
        if self.plugin is None:
            raise ConformanceFailure(
                "setup", f"setup: {type(self).__name__}.plugin is not set: give the executable or its manifest"
            )
        path = Path(os.fspath(self.plugin))
        if path.name.endswith(MANIFEST_SUFFIX):
            path = path.with_name(path.name[: -len(MANIFEST_SUFFIX)])
        if not path.is_file() or not os.access(path, os.X_OK):
            raise ConformanceFailure("setup", f"setup: {path} is not an executable file (plugin = {self.plugin!r})")
        return path.absolute()

    @property
    def _cookie(self) -> tuple[str, str]:
        return (self.magic_cookie_key, self.magic_cookie_value)

    def _load_options(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.plugin_type,
            "start_timeout": self.start_timeout,
            "shutdown_grace": self.shutdown_grace,
            "call_timeout": self.call_timeout,
            "env": dict(self.env or {}),
            "magic_cookie_key": self.magic_cookie_key,
            "magic_cookie_value": self.magic_cookie_value,
            "protocol_versions": [self.protocol_version],
        }

    @contextlib.asynccontextmanager
    async def _loaded(self) -> AsyncIterator[tuple[PluginManager, PluginInfo]]:
        """A manager with the plugin loaded with ``config``; always shut down afterwards."""
        executable = self.executable
        pm = PluginManager()
        try:
            try:
                info = await pm.load(executable, config=dict(self.config), **self._load_options())
            except PluginError as error:
                self._fail(
                    f"the plugin to load with config {dict(self.config)!r}",
                    f"did not load: {describe(error)}",
                )
            yield pm, info
        finally:
            await pm.shutdown()

    def _client(self, pm: PluginManager) -> Any:
        """The typed client of the plugin's type."""
        raise NotImplementedError

    async def _exercise(self, pm: PluginManager) -> None:
        """A few typical calls (for the rules about logs and processes)."""
        raise NotImplementedError

    async def _one_of_many(self, pm: PluginManager, index: int) -> str | None:
        """One of the concurrent calls: None when its answer is right, else what was wrong."""
        raise NotImplementedError

    @contextlib.asynccontextmanager
    async def _prepared(self, pm: PluginManager) -> AsyncIterator[None]:
        """What the concurrent calls need (a database's collection); nothing by default."""
        yield

    async def _still_serving(self, pm: PluginManager, after: str) -> None:
        """Fails unless the plugin still answers health() healthy, `after` something."""
        try:
            status = await self._client(pm).health(timeout=self.call_timeout)
        except PluginCrashedError as error:
            self._fail(f"the plugin to keep running {after}", f"crashed: {describe(error)}")
        except PluginError as error:
            self._fail(f"the plugin to answer health() {after}", f"failed: {describe(error)}")
        if not status.healthy:
            self._fail(f"the plugin to stay healthy {after}", f"reported unhealthy: {status.message!r}")

    async def _stderr_tail(self, process: _process.Started) -> str:
        lines = (await process.stderr()).strip().splitlines()
        return f"; its stderr ends with: {' / '.join(lines[-3:])!r}" if lines else "; its stderr is empty"

    # Handshake (docs/protocol.md §1-§2).

    def test_handshake_line(self) -> None:
        """With the cookie, one well-formed handshake line first on stdout within start_timeout,
        and the address it names is served."""
        self._run("handshake_line", self._handshake_line)

    async def _handshake_line(self) -> None:
        expected = (
            "a first stdout line `1|<app version>|unix|<socket>|grpc|` (or tcp and host:port) and nothing before it"
        )
        async with _process.started(self.executable, self.env, self._cookie, str(self.protocol_version)) as process:
            line = await process.first_line(self.start_timeout)
            if line is None:
                tail = await self._stderr_tail(process)
                self._fail(expected, f"printed no line within start_timeout ({self.start_timeout:g} s){tail}")
            if line == "":
                status = await process.exit_status(2)
                tail = await self._stderr_tail(process)
                self._fail(expected, f"closed stdout without printing one (exit status {status}){tail}")
            parsed = _handshake.parse(line, [self.protocol_version])
            if isinstance(parsed, str):
                self._fail(expected, f"printed {line!r}: {parsed}")
            problem = _handshake.address_problem(parsed)
            if problem is not None:
                self._fail("the address of the handshake line to be served", f"printed {line!r}, but {problem}")

    def test_cookie_refusal(self) -> None:
        """Without the magic cookie, or with a wrong one: a non-zero exit, no handshake line, a
        word on stderr."""
        self._run("cookie_refusal", self._cookie_refusal)

    async def _cookie_refusal(self) -> None:
        key = self.magic_cookie_key
        cases: list[tuple[str, tuple[str, str] | None]] = [
            (f"without {key}", None),
            (f"with {key}=wrong-cookie", (key, "wrong-cookie")),
        ]
        for case, cookie in cases:
            expected = f"started {case}, to exit with a non-zero status, print no handshake line and say why on stderr"
            async with _process.started(self.executable, self.env, cookie, without=(key,)) as process:
                status = await process.exit_status(self.start_timeout)
                if status is None:
                    line = await process.first_line(0.1)
                    shown = f" after printing {line!r}" if line else ""
                    self._fail(expected, f"was still running {self.start_timeout:g} s later{shown}")
                assert process.process.stdout is not None
                stdout = (await process.process.stdout.read()).decode(errors="replace")
                if status == 0:
                    self._fail(expected, "exited with status 0")
                if any(line.count("|") >= 3 for line in stdout.splitlines()):
                    self._fail(expected, f"printed a handshake line: {stdout.strip()!r}")
                if not (await process.stderr()).strip():
                    self._fail(expected, f"exited with status {status} and printed nothing on stderr")

    def test_version_negotiation(self) -> None:
        """Offered its version it announces it; offered only one it cannot speak, the host refuses
        to load it and no process is left."""
        self._run("version_negotiation", self._version_negotiation)

    async def _version_negotiation(self) -> None:
        version = self.protocol_version
        async with _process.started(self.executable, self.env, self._cookie, str(version)) as process:
            line = await process.first_line(self.start_timeout)
            fields = (line or "").split("|")
            if len(fields) < 2 or fields[1].strip() != str(version):
                tail = await self._stderr_tail(process)
                self._fail(
                    f"offered PLUGIN_PROTOCOL_VERSIONS={version}, a handshake line announcing app version {version}",
                    f"printed {line!r}{tail}",
                )
        unsupported = self.unsupported_protocol_version
        expected = (
            f"offered only PLUGIN_PROTOCOL_VERSIONS={unsupported}, the host to refuse the plugin and no process left"
        )
        before = _process.descendants(os.getpid())
        pm = PluginManager()
        try:
            options = {**self._load_options(), "protocol_versions": [unsupported]}
            try:
                info = await pm.load(self.executable, config=dict(self.config), **options)
            except PluginStartError:
                pass
            else:
                self._fail(expected, f"loaded: it announced version {info.protocol_version} and the host accepted it")
        finally:
            await pm.shutdown()
        if not await _process.poll(lambda: not (_process.descendants(os.getpid()) - before), timeout=5):
            left = sorted(_process.descendants(os.getpid()) - before)
            self._fail(expected, f"left processes {left} running 5 s after the refused load")

    # Lifecycle (docs/protocol.md §7.2, §8).

    def test_health(self) -> None:
        """health() reports healthy; grpc.health.v1 Check("plugin") answers SERVING when served."""
        self._run("health", self._health)

    async def _health(self) -> None:
        async with self._loaded() as (pm, _info):
            await self._still_serving(pm, "after loading")
            try:
                answer = await pm.raw(self.name).call(
                    "/grpc.health.v1.Health/Check", HEALTH_CHECK_PLUGIN, timeout=self.call_timeout
                )
            except PluginCallError as error:
                if error.code == "UNIMPLEMENTED" and not self.require_grpc_health:
                    return  # the service is optional (docs/protocol.md §9)
                self._fail('grpc.health.v1 Check(service="plugin") to answer SERVING', f"failed: {describe(error)}")
            try:
                status = varint_field(answer, 1)
            except ValueError as error:
                self._fail('grpc.health.v1 Check(service="plugin") to answer SERVING', f"answered {answer!r}: {error}")
            if status != 1:
                self._fail(
                    'grpc.health.v1 Check(service="plugin") to answer SERVING',
                    f"answered {SERVING_STATUS.get(status, status)}",
                )

    def test_initialize_config(self) -> None:
        """Initialize accepts ``config``: the plugin loads and is ready."""
        self._run("initialize_config", self._initialize_config)

    async def _initialize_config(self) -> None:
        pm = PluginManager()
        try:
            try:
                info = await pm.load(self.executable, config=dict(self.config), **self._load_options())
            except PluginError as error:
                expected = f"Initialize to accept the valid config {dict(self.config)!r}"
                refusal = initialize_refusal(error)
                if refusal is not None:
                    self._fail(expected, f"refused a valid config: {refusal!r}")
                self._fail(expected, f"did not load: {describe(error)}")
            if info.state != "ready":
                self._fail("the plugin to be ready after Initialize", f"is {info.state}")
        finally:
            await pm.shutdown()

    def test_bad_config_refused(self) -> None:
        """Initialize refuses ``bad_config`` with an error message of the plugin's own."""
        if self.bad_config is None:
            skip(f"{type(self).__name__}.bad_config is None: give a config Initialize must refuse to check this rule")
        self._run("bad_config_refused", self._bad_config_refused)

    async def _bad_config_refused(self) -> None:
        bad = dict(self.bad_config or {})
        expected = f"Initialize to refuse bad_config {bad!r} with an error message"
        pm = PluginManager()
        try:
            try:
                await pm.load(self.executable, config=bad, **self._load_options())
            except PluginStartError as error:
                refusal = initialize_refusal(error)
                if refusal is None:
                    self._fail(expected, f"did not refuse it in Initialize: {describe(error)}")
                if refusal in ("", "no reason given"):
                    self._fail(expected, f"refused it without saying why: {describe(error)}")
            except PluginError as error:
                self._fail(expected, f"was not started: the host refused the config first: {describe(error)}")
            else:
                self._fail(expected, "accepted it: the plugin loaded and is ready")
        finally:
            await pm.shutdown()

    def test_concurrent_calls(self) -> None:
        """``concurrency`` calls at once all answer correctly."""
        self._run("concurrent_calls", self._concurrent_calls)

    async def _concurrent_calls(self) -> None:
        async with self._loaded() as (pm, _info), self._prepared(pm):
            outcomes = await asyncio.gather(
                *(self._one_of_many(pm, index) for index in range(self.concurrency)), return_exceptions=True
            )
        wrong = [
            f"call {index}: {describe(outcome) if isinstance(outcome, BaseException) else outcome}"
            for index, outcome in enumerate(outcomes)
            if outcome is not None
        ]
        if wrong:
            self._fail(
                f"{self.concurrency} concurrent calls to all answer correctly",
                f"got {len(wrong)} wrong: {'; '.join(wrong[:3])}" + ("; ..." if len(wrong) > 3 else ""),
            )

    def test_graceful_shutdown(self) -> None:
        """Asked to stop (Shutdown, plugin.GRPCController/Shutdown), the plugin exits by itself, with
        status 0, within ``shutdown_grace``: the host does not have to kill it."""
        self._run("graceful_shutdown", self._graceful_shutdown)

    async def _graceful_shutdown(self) -> None:
        async with self._loaded() as (pm, _info):
            await self._exercise(pm)
            started = time.monotonic()
            await pm.shutdown()
            took = time.monotonic() - started
            [after] = [p for p in pm.plugins if p.name == self.name]
        expected = (
            f"the plugin to exit by itself with status 0 within shutdown_grace ({self.shutdown_grace:g} s) once asked"
        )
        if after.killed:
            self._fail(
                expected,
                f"ignores Shutdown: still running {took:.1f} s after the Shutdown RPC and "
                "plugin.GRPCController/Shutdown, so the host killed it",
            )
        if after.exit_code != 0:
            how = f"signal {after.exit_signal}" if after.exit_signal else f"status {after.exit_code}"
            self._fail(expected, f"exited with {how}")

    def test_logs_well_formed(self) -> None:
        """Every stderr line that starts with ``{`` is an hclog JSON record (a known ``@level``,
        ``@message``, ``@timestamp``); plain lines are allowed."""
        self._run("logs_well_formed", self._logs_well_formed)

    async def _logs_well_formed(self) -> None:
        with LogCollector(self.name) as logs:
            async with self._loaded() as (pm, _info):
                await self._exercise(pm)
            await asyncio.sleep(0.3)  # records reach Python from the core's own thread
        bad = [(record, problem) for record in logs.records if (problem := json_line_problem(record))]
        if bad:
            record, problem = bad[0]
            self._fail(
                "every stderr line that starts with '{' to be a JSON log record with a known @level, "
                "@message and @timestamp",
                f"wrote {len(bad)} that are not; the first, {record.getMessage()[:200]!r}, {problem}",
            )

    def test_no_process_left(self) -> None:
        """Once the manager shut down, the plugin's process and its process group are gone."""
        self._run("no_process_left", self._no_process_left)

    async def _no_process_left(self) -> None:
        async with self._loaded() as (pm, info):
            await self._exercise(pm)
        pid = info.pid

        def gone() -> bool:
            return _process.process_gone(pid) and not _process.group_members(pid)

        if not await _process.poll(gone, timeout=5):
            members = _process.group_members(pid)
            self._fail(
                "no process left once the manager shut down",
                f"left process {pid} (state {'gone' if _process.process_gone(pid) else 'running'}) and its group "
                f"{members} running 5 s after",
            )
