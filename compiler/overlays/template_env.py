"""The sandbox custom-component templates render in: plain data, one folder, bounded work.

A PR author controls templates, so a template must not reach Python objects (a pydantic
model's deprecated `parse_raw(..., allow_pickle=True)` runs any command), read files outside
its component folder or through links, or run away with memory or time. Hence:

- the context is plain data (dicts, lists, strings, numbers, booleans) copied from the model;
- Jinja2's ImmutableSandboxedEnvironment (no `__class__`, `__globals__`, no mutation);
- a loader that serves only regular files inside the component folder, never through a link;
- output size, repetition (`*`, `**`, width arguments) and render time are bounded.
"""

from __future__ import annotations

import inspect
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from jinja2 import (
    BaseLoader,
    Environment,
    StrictUndefined,
    Template,
    TemplateError,
    TemplateNotFound,
    pass_context,
)
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

from compiler import naming
from compiler.cluster_model import ClusterModel

MAX_OUTPUT_CHARS = 8 * 1024 * 1024  # per template and cluster; the largest real one is a few KiB
MAX_TEMPLATE_BYTES = 1024 * 1024
MAX_SECONDS = 10.0
MAX_REPEAT = 1_000_000  # largest string/list a `*` or a width argument may build


class TemplateLimitError(TemplateError):
    """A template exceeded a bound (output size, render time, repetition)."""


class ComponentLoader(BaseLoader):
    """Templates of one component folder: relative names without '..', regular files, no links."""

    def __init__(self, folder: Path, shown: str):
        self.folder = folder
        self.shown = shown

    def get_source(self, environment: Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
        parts = template.split("/")
        if template.startswith("/") or any(p in ("", ".", "..") for p in parts):
            raise TemplateNotFound(
                template,
                f"template {template!r} is outside the component folder {self.shown} (expected a path "
                "relative to that folder, without '..')",
            )
        path = self.folder
        for part in parts:
            path = path / part
            if path.is_symlink():
                raise TemplateNotFound(
                    template,
                    f"template {template!r} is a symbolic link (refused: templates are read from regular "
                    f"files inside {self.shown} only)",
                )
        if not path.is_file():
            raise TemplateNotFound(template, f"template {template!r} not found in {self.shown}")
        data = path.read_bytes()
        if len(data) > MAX_TEMPLATE_BYTES:
            raise TemplateLimitError(f"template {template!r} is larger than {MAX_TEMPLATE_BYTES} bytes")
        mtime = path.stat().st_mtime
        return data.decode("utf-8"), str(path), lambda: path.stat().st_mtime == mtime


def _too_big(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_REPEAT


class BoundedSandbox(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, int | float) and abs(right) > 64:
            raise TemplateLimitError(f"exponent {right} is too large (expected at most 64)")
        sequences = (str, list, tuple)
        if operator == "*" and (isinstance(left, sequences) or isinstance(right, sequences)):
            sequence, count = (left, right) if isinstance(left, sequences) else (right, left)
            if isinstance(count, int) and len(sequence) * count > MAX_REPEAT:
                raise TemplateLimitError(f"repetition builds more than {MAX_REPEAT} items")
        return super().call_binop(context, operator, left, right)

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        if any(_too_big(a) for a in (*args, *kwargs.values())):
            raise TemplateLimitError(f"an argument larger than {MAX_REPEAT} is refused")
        return super().call(__context, __obj, *args, **kwargs)


def _bounded_filter(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
    def bounded(*args: Any, **kwargs: Any) -> Any:
        if any(_too_big(a) for a in (*args, *kwargs.values())):
            raise TemplateLimitError(f"filter {name}: an argument larger than {MAX_REPEAT} is refused")
        return original(*args, **kwargs)

    return bounded


def environment(folder: Path, shown: str) -> Environment:
    env = BoundedSandbox(
        loader=ComponentLoader(folder, shown),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    for name in ("center", "indent", "wordwrap", "truncate", "batch", "slice", "format"):
        env.filters[name] = _bounded_filter(name, env.filters[name])
    env.filters["gpu_resource"] = gpu_resource
    return env


@contextmanager
def _alarm(seconds: float) -> Iterator[None]:
    """SIGALRM-based deadline where possible (main thread): also stops loops that print nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expired(signum: int, frame: Any) -> None:
        raise TemplateLimitError(f"rendering took longer than {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expired)
    started = time.monotonic()
    outer, _ = signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer:  # a caller's own deadline keeps running
            signal.setitimer(signal.ITIMER_REAL, max(outer - (time.monotonic() - started), 0.001))


def render_bounded(template: Template, values: dict[str, Any]) -> str:
    """template.render(values), stopped past MAX_OUTPUT_CHARS characters or MAX_SECONDS seconds."""
    deadline = time.monotonic() + MAX_SECONDS
    chunks: list[str] = []
    size = 0
    with _alarm(MAX_SECONDS):
        for chunk in template.generate(values):
            size += len(chunk)
            if size > MAX_OUTPUT_CHARS:
                raise TemplateLimitError(f"output is larger than {MAX_OUTPUT_CHARS} characters")
            if time.monotonic() > deadline:
                raise TemplateLimitError(f"rendering took longer than {MAX_SECONDS:g} s")
            chunks.append(chunk)
    return "".join(chunks)


# --- the context: plain data only --------------------------------------------------------------


def _naming() -> dict[str, Callable[..., str]]:
    functions = inspect.getmembers(naming, inspect.isfunction)
    return {name: f for name, f in functions if f.__module__ == naming.__name__ and not name.startswith("_")}


def plain_context(cluster: ClusterModel) -> dict[str, Any]:
    """What a template sees, copied from the model as dicts, lists, strings and numbers."""
    return {
        "platform": cluster.platform.model_dump(mode="json"),
        "cluster": cluster.cluster.model_dump(mode="json"),
        "model": {
            "name": cluster.name,
            "kubernetes_version": cluster.kubernetes_version,
            "engine": cluster.engine,
            "dra": cluster.dra,
            "capacity": dict(cluster.capacity),
            "monitoring_namespace": cluster.monitoring_namespace,
            "gpu_resources": {f: cluster.gpu_resource(f) for f in cluster.flavors},
        },
        "environment": cluster.cluster.spec.environment,
        "teams": [
            {
                "name": t.name,
                "namespace": t.namespace,
                "labels": dict(t.labels),
                "team": t.team.model_dump(mode="json"),
                "entry": t.entry.model_dump(mode="json"),
            }
            for t in cluster.teams
        ],
        "flavors": {name: f.model_dump(mode="json") for name, f in cluster.flavors.items()},
        "serving_paths": [p.model_dump(mode="json") for p in cluster.serving_paths],
        "naming": _naming(),
    }


@pass_context
def gpu_resource(ctx: Context, flavor: str) -> str:
    """`{{ "h100" | gpu_resource }}`: the resource name pods request for a flavor on this cluster."""
    resources: dict[str, str] = ctx["model"]["gpu_resources"]
    if flavor not in resources:
        raise TemplateError(
            f"gpu_resource: unknown flavor {flavor!r} on this cluster (expected one of: "
            f"{', '.join(sorted(resources)) or 'none'})"
        )
    return resources[flavor]
