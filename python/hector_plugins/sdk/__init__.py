"""Write a plugin in Python: a class with the methods of its type, and one call.

::

    from hector_plugins import GenerateResponse, Message, ModelInfo, ToolDefinition
    from hector_plugins.sdk import serve

    class EchoLLM:
        def initialize(self, config: dict[str, str]) -> None:   # optional; raise to refuse
            self.prefix = config.get("prefix", "Echo")

        async def generate(self, messages: list[Message], tools: list[ToolDefinition]) -> GenerateResponse:
            return GenerateResponse(text=f"{self.prefix}: {messages[-1].content}")

        def model_info(self) -> ModelInfo:                     # optional
            return ModelInfo("echo", max_tokens=4096)

    if __name__ == "__main__":
        serve(EchoLLM())

The methods of each type are those of an in-process provider (``hector_plugins.providers``:
``LLMProvider``, ``EmbedderProvider``, ``DatabaseProvider``, ``ToolProvider``,
``ReasoningStrategy``), with the same argument and result types as the host API; each may be
``async def`` or a plain ``def``. Every plugin may also have ``initialize(config)`` (a dict of
str, the host's config with the manifest's defaults; an exception refuses the config with its
message), ``shutdown()``, ``health()`` (a ``HealthStatus`` or bool) and ``manifest()`` (a
``PluginManifest`` or a dict of its fields, answered by ``GetManifest``).

``serve`` does the protocol in Rust (the ``hector-plugins-sdk`` crate; no grpcio): the cookie
check (run by hand, the plugin prints go-plugin's message and exits 1), version negotiation, a
unix socket in a private directory, the handshake line, ``grpc.health.v1.Health``,
``plugin.GRPCController/Shutdown``, and a graceful stop on the controller, SIGTERM or SIGINT.
Calls run concurrently as tasks on the asyncio event loop; a call the host abandons is
cancelled. An exception in a method is the call's failure: the host's caller gets a
``PluginCallError`` with the exception's type and message (code ``UNKNOWN``; raise
``hector_plugins.PluginCallError(message, code="NOT_FOUND")`` to choose the code), and it is
logged with its traceback on stderr; the plugin keeps serving. Logging goes to stderr as JSON
lines the host reads as the plugin's log records (docs/writing-plugins-python.md).
"""

from __future__ import annotations

from ._serve import PluginType, serve, serve_async

__all__ = ["PluginType", "serve", "serve_async"]
