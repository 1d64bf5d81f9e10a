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
from typing import TYPE_CHECKING, Any

from pydantic import Field, ValidationError, model_validator

from compiler.cluster_model import ClusterModel
from compiler.components.base import ComponentOutput, HelmChart, KubeObject
from compiler.errors import SourceLocation, SpecError
from compiler.overlays.crd_files import crd_folder_errors
from compiler.overlays.errors import CLUSTERS, Problems
from compiler.overlays.objects import check_object
from compiler.pathsafety import regular_files, subfolders
from compiler.spec.build import PlatformModel, allowed_secrets, explain, secret_errors
from compiler.spec.cluster_facts import cluster_engine
from compiler.spec.loader import SourceDocument, display_path, load_file, load_text, to_plain
from compiler.spec.models import DNS_LABEL_PATTERN, DnsLabel, Strict
from compiler.spec.types import ChartVersion
from compiler.tree_contract import CONFIG_SUFFIX, OVERLAYS_UNIT, config_unit

if TYPE_CHECKING:  # Jinja loads only when a custom component has templates (it costs every compile)
    from jinja2 import Template, TemplateSyntaxError

CONFIG_FILE = "component.yaml"
TEMPLATE_SUFFIX = ".yaml.j2"
NAME_MAX = 63 - len(CONFIG_SUFFIX)  # its second sync unit is <name>-config


class ChartConfig(Strict):
    repository: str = Field(pattern=r"^(https|oci)://\S+$")
    chart: str = Field(min_length=1)
    version: ChartVersion
    namespace: DnsLabel
    release: DnsLabel | None = None
    values: dict[str, Any] = Field(default_factory=dict)
    crdGroups: list[str] = Field(default_factory=list)


class CrdRef(Strict):
    """Where the CRDs of a custom component are: exactly one of a URL, a folder of the chart
    archive, or a folder of CRD YAML inside the component folder (never emitted as objects)."""

    # https, or http from a loopback host only (a local mirror), as `schemas pull` fetches.
    url: str | None = Field(
        default=None, pattern=r"^(https://|http://(127\.0\.0\.1|localhost|\[::1\])[:/])\S+$"
    )
    chart: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$")
    folder: str | None = Field(
        default=None, pattern=r"^[A-Za-z0-9_-][A-Za-z0-9_.-]*(/[A-Za-z0-9_-][A-Za-z0-9_.-]*)*$"
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> CrdRef:
        if sum(v is not None for v in (self.url, self.chart, self.folder)) != 1:
            raise ValueError("expected exactly one of url, chart or folder")
        return self


class ComponentConfig(Strict):
    after: list[str] = Field(default_factory=list)
    clusters: list[str] | None = None
    environments: list[str] | None = None
    chart: ChartConfig | None = None
    crds: list[CrdRef] = Field(default_factory=list)

    def crd_folders(self, folder: Path) -> list[Path]:
        return [folder / ref.folder for ref in self.crds if ref.folder is not None]


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
            doc.start, f"{CONFIG_FILE} is not a mapping (expected after, clusters, environments, chart, crds)"
        )
        return ComponentConfig(), None
    try:
        return ComponentConfig.model_validate(to_plain(doc.data)), doc
    except ValidationError as exc:
        problems.extend([explain(e, ComponentConfig, doc) for e in exc.errors(include_url=False)])
        return ComponentConfig(), None


def load_component(root: Path, folder: Path, problems: Problems) -> CustomComponent:
    from jinja2 import TemplateError, TemplateSyntaxError

    from compiler.overlays.template_env import environment

    env = environment(folder, display_path(folder))
    config, config_doc = _load_config(folder, problems)
    templates: list[tuple[str, Template]] = []
    plain: list[tuple[SourceDocument, KubeObject]] = []
    link_errors: list[SpecError] = []
    crd_folders = config.crd_folders(folder)
    files = sorted(
        p
        for p in regular_files(folder, link_errors, display_path)
        if not any(p.is_relative_to(crds) for crds in crd_folders)
    )
    problems.extend(link_errors)
    problems.extend(crd_folder_errors(crd_folders))
    for path in files:
        shown = display_path(path)
        if path.name.endswith(TEMPLATE_SUFFIX):
            try:
                templates.append((shown, env.get_template(path.relative_to(folder).as_posix())))
            except TemplateSyntaxError as exc:
                problems.add(_jinja_location(exc, shown), f"template syntax error: {exc.message}")
            except UnicodeDecodeError as exc:
                problems.add(SourceLocation(shown, 1, 1), f"file is not UTF-8 text ({exc.reason})")
            except OSError as exc:  # unreadable (permissions) or vanished since it was listed
                problems.add(SourceLocation(shown, 0, 0), f"cannot read file: {exc.strerror or exc}")
            except TemplateError as exc:  # too large
                problems.add(SourceLocation(shown, 0, 0), f"template refused: {exc.message or exc}")
        elif path.suffix in (".yaml", ".yml") and path != folder / CONFIG_FILE:
            errors: list[SpecError] = []
            for doc in load_file(path, errors):
                checked = check_object(doc, errors)
                if checked is not None:
                    plain.append((doc, checked))
            problems.extend(errors)
    return CustomComponent(folder.name, folder, config, config_doc, tuple(templates), tuple(plain))


def declared_crds(root: Path) -> list[tuple[str, Path, CrdRef, ChartConfig | None]]:
    """(component, its folder, CRD reference, its chart) for every `crds` entry under `root`.
    Problems in component.yaml are left to the overlay loader, which reports them with the rest."""
    if not root.is_dir():
        return []
    found = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.is_symlink()):
        config, _ = _load_config(folder, Problems())
        found += [(folder.name, folder, ref, config.chart) for ref in config.crds]
    return found


def load_components(root: Path, problems: Problems) -> list[CustomComponent]:
    if not root.is_dir() or root.is_symlink():  # a linked folder is reported by load_overlays
        return []
    components = []
    link_errors: list[SpecError] = []
    found = subfolders(root, link_errors, display_path)
    problems.extend(link_errors)
    for folder in found:
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
            longest = f"{cluster_name}-{config_unit(component.name)}"
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
    reserved = {n for b in [OVERLAYS_UNIT, *builtin] for n in (b, config_unit(b))}
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


Rendered = tuple[ComponentOutput, tuple[SourceLocation, ...]]  # output and where each object came from


def render(component: CustomComponent, cluster: ClusterModel, problems: Problems) -> Rendered | None:
    """The component's output on this cluster, or None where it does not apply or renders nothing."""
    if not component.applies_to(cluster):
        return None
    objects: list[tuple[SourceDocument, KubeObject]] = list(component.plain)
    if component.templates:
        objects.extend(_render_templates(component, cluster, problems))
    charts = component.chart()
    if not objects and not charts:
        return None
    output = ComponentOutput(
        charts=charts, objects=tuple(o for _, o in objects), after=tuple(component.config.after)
    )
    return output, tuple(d.start for d, _ in objects)


def _render_templates(
    component: CustomComponent, cluster: ClusterModel, problems: Problems
) -> Iterator[tuple[SourceDocument, KubeObject]]:
    from jinja2 import TemplateError, TemplateSyntaxError, UndefinedError

    from compiler.overlays.template_env import plain_context, render_bounded

    values = plain_context(cluster)
    for shown, template in component.templates:
        try:
            text = render_bounded(template, values)
        except (
            TemplateError,
            TypeError,
            ValueError,
            ArithmeticError,
            LookupError,
            AttributeError,
            RecursionError,
            MemoryError,
        ) as exc:
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
        docs = list(load_text(text, shown, errors))
        errors.extend(secret_errors(docs, allowed_secrets(cluster.platform)))
        for doc in docs:
            checked = check_object(doc, errors)
            if checked is not None:
                yield doc, checked
        for error in errors:
            line = error.location.line
            rendered = f"{error.message}, at line {line} of the text rendered for cluster(s) {CLUSTERS}"
            problems.add(error.location, rendered, cluster.name)
