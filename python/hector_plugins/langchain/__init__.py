"""LangChain adapters: plugins loaded by hector-plugins as LangChain components (docs/langchain.md).

* ``HectorChatModel(client=pm.llm(name))``: a chat model (``BaseChatModel``) with streaming and
  tool calling (``bind_tools``), usable in LCEL chains and LangGraph agents.
* ``HectorEmbeddings(pm.embedder(name))``: ``Embeddings``.
* ``HectorVectorStore(pm.database(name), embedding, collection)``: a ``VectorStore``.
* ``await load_tools(pm.tools(name))``: the provider's tools as ``StructuredTool``s.

Needs ``langchain-core`` (``pip install 'hector-plugins[langchain]'``), nothing else of LangChain.
The async methods are the native ones; the sync ones run each call on an event loop of their own
and refuse to run in a thread whose event loop is running (``PluginUsageError``).
"""

from __future__ import annotations

try:
    import langchain_core  # noqa: F401  (checked first: the adapters below all import it)
except ImportError as error:
    raise ImportError(
        "hector_plugins.langchain needs langchain-core: pip install 'hector-plugins[langchain]'",
        name=error.name,
    ) from error

from ._chat import HectorChatModel
from ._embeddings import HectorEmbeddings
from ._tools import load_tools
from ._vectorstore import TEXT_KEY, HectorVectorStore

__all__ = ["TEXT_KEY", "HectorChatModel", "HectorEmbeddings", "HectorVectorStore", "load_tools"]
