"""Custom components: overlays/components/<name>/ with Jinja2 templates, plain YAML and component.yaml.

Each becomes a component like the built-in ones (its own sync unit, ordered by the same
rules), so a platform team can add what the spec does not model without forking the
compiler. Templates render per cluster with StrictUndefined: a misspelt variable is an
error at its template line, never an empty string in a manifest.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError, TemplateSyntaxError, UndefinedError, pass_context
from jinja2.loaders import FileSystemLoader
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment
from pydantic import Field, ValidationError

from compiler import naming
from compiler.cluster_model import ClusterModel
from compiler.components.base import ComponentOutput, HelmChart, KubeObject
from compiler.errors import SourceLocation, SpecError
from compiler.overlays.errors import CLUSTERS, Problems
from compiler.overlays.objects import check_object
from compiler.spec.build import PlatformModel, explain
from compiler.spec.cluster_facts import cluster_engine
from compiler.spec.loader import SourceDocument, display_path, load_file, load_text, to_plain
from compiler.spec.models import DNS_LABEL_PATTERN, DnsLabel, Strict
from compiler.tree_contract import CONFIG_SUFFIX

CONFIG_FILE = "component.yaml"
TEMPLATE_SUFFIX = ".yaml.j2"
NAME_MAX = 63 - len(CONFIG_SUFFIX)  # its second sync unit is <name>-config


class ChartConfig(Strict):
    repository: str = Field(pattern=r"^(https|oci)://\S+$")
    chart: str = Field(min_length=1)
    version: str = Field(min_length=1)
    namespace: DnsLabel
    release: DnsLabel | None = None
    values: dict[str, Any] = Field(default_factory=dict)
    crdGroups: list[str] = Field(default_factory=list)


class ComponentConfig(Strict):
    after: list[str] = Field(default_factory=list)
    clusters: list[str] | None = None
    environments: list[str] | None = None
    chart: ChartConfig | None = None


@dataclass(frozen=True)
class CustomComponent:
    name: str
    folder: Path
    config: ComponentConfig
    config_doc: SourceDocument | None
    templates: tuple[tuple[str, Template], ...]  # (file as shown in errors, compiled template)
    plain: tuple[tuple[SourceDocument, KubeObject], ...]

    def applies_to(self, cluster: ClusterModel) -> bool:
        clusters, environments = self.config.clusters, self.config.environments
        return (clusters is None or cluster.name in clusters) and (
            environments is None or cluster.cluster.spec.environment in environments
        )

    def chart(self) -> tuple[HelmChart, ...]:
        c = self.config.chart
        if c is None:
            return ()
        release = c.release or self.name
        return (
            HelmChart(
                c.repository, c.chart, c.version, release, c.namespace, c.values, frozenset(c.crdGroups)
            ),
        )


@pass_context
def _gpu_resource(ctx: Context, flavor: str) -> str:
    """`{{ "h100" | gpu_resource }}`: the resource name pods request for a flavor on this cluster."""
    return ctx["model"].gpu_resource(flavor)


def _environment(root: Path) -> ImmutableSandboxedEnvironment:
    # Sandboxed and immutable: a template reads the typed model, it can neither call into
    # Python internals nor modify the model other components see.
    env = ImmutableSandboxedEnvironment(
        loader=FileSystemLoader(str(root)),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    env.filters["gpu_resource"] = _gpu_resource
    return env


def _load_config(folder: Path, problems: Problems) -> tuple[ComponentConfig, SourceDocument | None]:
    path = folder / CONFIG_FILE
    if not path.is_file():
        return ComponentConfig(), None
    errors: list[SpecError] = []
    docs = list(load_file(path, errors))
    problems.extend(errors)
    if errors or not docs:
        return ComponentConfig(), None
    doc = docs[0]
    for extra in docs[1:]:
        problems.add(extra.start, f"{CONFIG_FILE} holds several documents (expected one mapping)")
    if not isinstance(doc.data, dict):
        problems.add(
            doc.start, f"{CONFIG_FILE} is not a mapping (expected after, clusters, environments, chart)"
        )
        return ComponentConfig(), None
    try:
        return ComponentConfig.model_validate(to_plain(doc.data)), doc
    except ValidationError as exc:
        problems.extend([explain(e, ComponentConfig, doc) for e in exc.errors(include_url=False)])
        return ComponentConfig(), None


def load_component(root: Path, folder: Path, problems: Problems) -> CustomComponent:
    env = _environment(root)
    config, config_doc = _load_config(folder, problems)
    templates: list[tuple[str, Template]] = []
    plain: list[tuple[SourceDocument, KubeObject]] = []
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    for path in files:
        shown = display_path(path)
        if path.name.endswith(TEMPLATE_SUFFIX):
            try:
                templates.append((shown, env.get_template(path.relative_to(root).as_posix())))
            except TemplateSyntaxError as exc:
                problems.add(_jinja_location(exc, shown), f"template syntax error: {exc.message}")
            except UnicodeDecodeError as exc:
                problems.add(SourceLocation(shown, 1, 1), f"file is not UTF-8 text ({exc.reason})")
            except OSError as exc:  # unreadable (permissions) or vanished since it was listed
                problems.add(SourceLocation(shown, 0, 0), f"cannot read file: {exc.strerror or exc}")
        elif path.suffix in (".yaml", ".yml") and path != folder / CONFIG_FILE:
            errors: list[SpecError] = []
            for doc in load_file(path, errors):
                checked = check_object(doc, errors)
                if checked is not None:
                    plain.append((doc, checked))
            problems.extend(errors)
    return CustomComponent(folder.name, folder, config, config_doc, tuple(templates), tuple(plain))


def load_components(root: Path, problems: Problems) -> list[CustomComponent]:
    if not root.is_dir():
        return []
    components = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        if not re.match(DNS_LABEL_PATTERN, folder.name) or len(folder.name) > NAME_MAX:
            problems.add(
                SourceLocation(display_path(folder), 1, 1),
                f"invalid custom component name '{folder.name}' "
                f"(expected a DNS-1123 label of at most {NAME_MAX} characters: it names the sync units "
                f"'<name>' and '<name>-config', which are label values)",
            )
            continue
        components.append(load_component(root, folder, problems))
    return components


def check_application_names(components: list[CustomComponent], model: PlatformModel) -> Iterator[SpecError]:
    """On Argo CD clusters a component's units become Applications `<cluster>-<name>[-config]`,
    which must stay within 63 characters."""
    for component in components:
        clusters, environments = component.config.clusters, component.config.environments
        for cluster_name, cluster in model.clusters.items():
            if cluster_engine(model, cluster) != "argocd":
                continue
            if clusters is not None and cluster_name not in clusters:
                continue
            if environments is not None and cluster.spec.environment not in environments:
                continue
            longest = f"{cluster_name}-{component.name}-config"
            if len(longest) > 63:
                where = (
                    component.config_doc.start
                    if component.config_doc
                    else SourceLocation(display_path(component.folder), 1, 1)
                )
                yield SpecError(
                    where,
                    f"custom component '{component.name}' would become the Argo CD Application '{longest}' "
                    f"on cluster '{cluster_name}', {len(longest)} characters (expected at most 63: shorten "
                    "the component's folder name)",
                )
                break


def check_references(
    components: list[CustomComponent], builtin: list[str], clusters: list[str], environments: list[str]
) -> Iterator[SpecError]:
    """Names in component.yaml must exist: a typo would silently drop an ordering or a cluster."""
    reserved = {"overlays", "overlays-config"} | {n for b in builtin for n in (b, f"{b}-config")}
    known = sorted(set(builtin) | {c.name for c in components})
    for component in components:
        doc = component.config_doc
        if component.name in reserved:
            where = doc.start if doc else SourceLocation(display_path(component.folder), 1, 1)
            yield SpecError(
                where,
                f"custom component name '{component.name}' is taken by a built-in component or sync unit "
                f"(expected a name other than: {', '.join(sorted(reserved))})",
            )
        if doc is None:
            continue
        for field, allowed in (("after", known), ("clusters", clusters), ("environments", environments)):
            for i, name in enumerate(getattr(component.config, field) or ()):
                if name not in allowed or name == component.name:
                    what = {"after": "component", "clusters": "cluster", "environments": "environment"}[field]
                    yield SpecError(
                        doc.location((field, i)),
                        f"'{field}' names unknown {what} '{name}' "
                        f"(expected one of: {', '.join(a for a in allowed if a != component.name)})",
                    )


def _jinja_location(exc: TemplateSyntaxError, shown: str) -> SourceLocation:
    file = display_path(Path(exc.filename)) if exc.filename else shown
    return SourceLocation(file, exc.lineno or 1, 1)


def _template_line(tb: TracebackType | None, root: Path) -> tuple[str | None, int | None]:
    """Jinja rewrites tracebacks so frames of template code carry the template's file and line;
    the innermost such frame is where rendering failed (possibly in an included template)."""
    found: tuple[str | None, int | None] = (None, None)
    while tb is not None:
        code_file = tb.tb_frame.f_code.co_filename
        if Path(code_file).is_relative_to(root):
            found = (code_file, tb.tb_lineno)
        tb = tb.tb_next
    return found


def context(cluster: ClusterModel) -> dict[str, Any]:
    """What a template sees: the typed spec models and the cluster model, read-only."""
    return {
        "platform": cluster.platform,
        "cluster": cluster.cluster,
        "model": cluster,
        "environment": cluster.cluster.spec.environment,
        "teams": cluster.teams,
        "flavors": cluster.flavors,
        "serving_paths": cluster.serving_paths,
        "naming": naming,
    }


Rendered = tuple[ComponentOutput, tuple[SourceLocation, ...]]  # output and where each object came from


def render(component: CustomComponent, cluster: ClusterModel, problems: Problems) -> Rendered | None:
    """The component's output on this cluster, or None where it does not apply or renders nothing."""
    if not component.applies_to(cluster):
        return None
    objects: list[tuple[SourceDocument, KubeObject]] = list(component.plain)
    values = context(cluster)
    for shown, template in component.templates:
        try:
            text = template.render(values)
        except (TemplateError, TypeError, ValueError, ArithmeticError, LookupError, AttributeError) as exc:
            file, line = _template_line(sys.exc_info()[2], component.folder.parent)
            where = SourceLocation(display_path(Path(file)) if file else shown, line or 1, 1)
            if isinstance(exc, TemplateSyntaxError):  # in an {% include %}d template, found at render time
                where = _jinja_location(exc, shown)
            reason = exc.message if isinstance(exc, TemplateError) and exc.message else str(exc)
            expected = (
                f"a defined variable or attribute; the context has: {', '.join(values)}"
                if isinstance(exc, UndefinedError)
                else "a template that renders for every cluster it applies to"
            )
            problems.add(
                where,
                f"template error on cluster(s) {CLUSTERS}: {reason} (expected {expected})",
                cluster.name,
            )
            continue
        errors: list[SpecError] = []
        for doc in load_text(text, shown, errors):
            checked = check_object(doc, errors)
            if checked is not None:
                objects.append((doc, checked))
        for error in errors:
            line = error.location.line
            rendered = f"{error.message}, at line {line} of the text rendered for cluster(s) {CLUSTERS}"
            problems.add(error.location, rendered, cluster.name)
    charts = component.chart()
    if not objects and not charts:
        return None
    output = ComponentOutput(
        charts=charts, objects=tuple(o for _, o in objects), after=tuple(component.config.after)
    )
    return output, tuple(d.start for d, _ in objects)
