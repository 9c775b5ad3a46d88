"""Plugins advertised by installed packages: entry point group ``hector_plugins``.

A package that ships a plugin executable (with its ``<executable>.plugin.yaml`` manifest next
to it) declares, e.g. in its pyproject.toml::

    [project.entry-points.hector_plugins]
    my-llm = "my_package:plugin_path"

where ``plugin_path`` is the executable's path (str or PathLike), or a function returning it.
Discovery (``plugin_discovery``, with ``entry_points: true``, the default) then finds it.
"""

from __future__ import annotations

import os
from importlib.metadata import entry_points

GROUP = "hector_plugins"


def discover() -> list[tuple[str, str]]:
    try:
        advertised = entry_points(group=GROUP)
    except TypeError:  # Python 3.9: entry_points() returns a dict of groups
        advertised = entry_points().get(GROUP, [])  # type: ignore[attr-defined,arg-type]
    found = []
    for entry_point in advertised:
        distribution = getattr(entry_point, "dist", None)
        label = f"{entry_point.name} (package {distribution.name if distribution else '?'}, {entry_point.value})"
        try:
            target = entry_point.load()
            if callable(target):
                target = target()
            path = os.fspath(target)
        except Exception as error:
            raise RuntimeError(f"entry point {label} failed: {type(error).__name__}: {error}") from error
        found.append((label, os.path.abspath(path)))
    return found
