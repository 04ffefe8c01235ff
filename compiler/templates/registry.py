"""Templates: the registry in the repo, version resolution and expansion of instances.  AF7xx

Input: the `Index` of hand-written resources and the `Snapshot` (for asset files). Output: an
`Expansion`: a new `Index` that also holds every rendered resource, and one `TemplateUse` per
rendered instance (template name and resolved version, for plan-cache keys and the bundle).

The registry is every ``templates/<name>/<version>/template.yaml``: the folder must match the
template's name and version, a name and version exist once, and only versions whose
``compatibility.afVersion`` admits this compiler take part in resolution (compat.py reports the
ones that do not). An instance's ``version`` is an npm range (node-semver); the highest
satisfying version wins, pre-releases only when the range asks for them.
"""

from __future__ import annotations

import fnmatch
import posixpath
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from agentflow.compiler import __version__
from agentflow.compiler.diagnostics import codes
from agentflow.compiler.diagnostics.positions import FILE_START
from agentflow.compiler.diagnostics.report import Report
from agentflow.compiler.load.index import Index
from agentflow.compiler.load.resource import Resource
from agentflow.compiler.load.yaml import decode_text
from agentflow.compiler.model.template import TemplateInstanceSpec, TemplateSpec
from agentflow.compiler.model.versions import admits, parse_range
from agentflow.compiler.source.snapshot import MAX_FILE_BYTES, Snapshot, SourceFile
from agentflow.compiler.templates.params import Value, bind_parameters, check_declarations
from agentflow.compiler.templates.render import RenderFailure, render_asset
from agentflow.compiler.templates.rendered import RenderedAsset, admit_rendered

TEMPLATE_FILE = "template.yaml"


@dataclass(frozen=True, slots=True)
class TemplateVersion:
    resource: Resource[TemplateSpec]
    folder: str
    """Repo-relative folder holding template.yaml and its assets."""
    compatible: bool
    """Whether its afVersion admits this compiler; incompatible versions are never chosen."""

    @property
    def name(self) -> str:
        return self.resource.name

    @property
    def version(self) -> str:
        return str(self.resource.spec.version)


@dataclass(frozen=True, slots=True)
class Registry:
    by_name: Mapping[str, tuple[TemplateVersion, ...]]
    """Each template's versions, lowest first."""

    def versions(self, name: str) -> tuple[TemplateVersion, ...]:
        return self.by_name.get(name, ())

    def resolve(self, name: str, constraint: str) -> TemplateVersion | None:
        """The highest compatible version of ``name`` that satisfies ``constraint``."""
        for candidate in reversed(self.versions(name)):
            if candidate.compatible and admits(constraint, candidate.version):
                return candidate
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class TemplateUse:
    """One instance rendered: what the build keys plans and lists bundle templates by."""

    instance: str
    instance_file: str
    template: str
    version: str
    resources: tuple[tuple[str, str], ...]
    """(kind, name) of every resource it rendered that joined the index."""


@dataclass(frozen=True, slots=True)
class Expansion:
    index: Index
    uses: tuple[TemplateUse, ...]


def build_registry(
    templates: Sequence[Resource[TemplateSpec]],
    report: Report | None = None,
    compiler: str = __version__,
) -> Registry:
    """Every valid template by name and version; problems go to ``report`` when given."""
    sink = report if report is not None else Report()
    found: dict[tuple[str, str], TemplateVersion] = {}
    for template in sorted(templates, key=lambda t: t.file):
        folder = posixpath.dirname(template.file)
        _check_folder(template, folder, sink)
        check_declarations(template, sink)
        _check_asset_globs(template, sink)
        key = (template.name, template.spec.version)
        if key in found:
            first = found[key].resource
            sink.add(
                codes.DUPLICATE_TEMPLATE,
                template.file,
                template.doc.span(("spec", "version")),
                f"template {template.name} {template.spec.version} is already defined",
                hint=f"first defined in {first.file}; publish a new version instead",
            )
            continue
        compatibility = template.spec.compatibility
        compatible = compatibility is None or (
            parse_range(compatibility.af_version) is not None
            and admits(compatibility.af_version, compiler)
        )
        found[key] = TemplateVersion(template, folder, compatible)
    by_name: dict[str, list[TemplateVersion]] = {}
    for entry in found.values():
        by_name.setdefault(entry.name, []).append(entry)
    return Registry(
        MappingProxyType(
            {name: tuple(sorted(v, key=_semver_key)) for name, v in sorted(by_name.items())}
        )
    )


def _semver_key(entry: TemplateVersion) -> tuple[int, int, int, bool, str]:
    """Order by semver precedence; pre-releases before their release (SemVer §11)."""
    import nodesemver

    parsed = nodesemver.make_semver(entry.version, loose=False)
    prerelease = ".".join(map(str, parsed.prerelease))
    return (parsed.major, parsed.minor, parsed.patch, not prerelease, prerelease)


def _check_folder(template: Resource[TemplateSpec], folder: str, report: Report) -> None:
    version_folder = posixpath.basename(folder)
    name_folder = posixpath.basename(posixpath.dirname(folder))
    expected = f"templates/{template.name}/{template.spec.version}/{TEMPLATE_FILE}"
    if version_folder != template.spec.version:
        report.add(
            codes.TEMPLATE_FOLDER,
            template.file,
            template.doc.span(("spec", "version")),
            f"version {template.spec.version} lives in folder '{version_folder}'",
            hint=f"move it to {expected}: the folder name is the version",
        )
    elif name_folder != template.name:
        report.add(
            codes.TEMPLATE_FOLDER,
            template.file,
            template.doc.span(("metadata", "name")),
            f"template '{template.name}' lives in folder '{name_folder}'",
            hint=f"move it to {expected}",
        )


def _check_asset_globs(template: Resource[TemplateSpec], report: Report) -> None:
    for i, pattern in enumerate(template.spec.assets):
        if _escapes(pattern):
            report.add(
                codes.ASSET_OUTSIDE_FOLDER,
                template.file,
                template.doc.span(("spec", "assets", i)),
                f"asset glob {pattern!r} reaches outside the template's folder",
                hint="assets are globs relative to the folder of template.yaml, e.g. '*.yaml.j2'",
            )


def _escapes(pattern: str) -> bool:
    return pattern.startswith(("/", "~")) or "\\" in pattern or ".." in pattern.split("/")


def match_assets(pattern: str, names: Sequence[str]) -> list[str]:
    """Folder-relative ``names`` that ``pattern`` matches; ``*`` stays within one folder level
    and ``**`` spans any number of them."""
    parts = pattern.split("/")
    return [name for name in names if _match(parts, name.split("/"))]


def _match(pattern: Sequence[str], parts: Sequence[str]) -> bool:
    if not pattern:
        return not parts
    if pattern[0] == "**":
        return any(_match(pattern[1:], parts[i:]) for i in range(len(parts) + 1))
    return (
        bool(parts) and fnmatch.fnmatchcase(parts[0], pattern[0]) and _match(pattern[1:], parts[1:])
    )


def expand_templates(index: Index, snapshot: Snapshot, report: Report) -> Expansion:
    """Render every instance whose template resolves; rendered resources join the index."""
    registry = build_registry(index.all("Template"), report)
    files = {f.path: f for f in snapshot.files}
    outputs: list[RenderedAsset] = []
    chosen: list[tuple[Resource[TemplateInstanceSpec], TemplateVersion]] = []
    for instance in index.all("TemplateInstance"):
        template = _resolve(instance, registry, report)
        if template is None:
            continue
        values = bind_parameters(instance, template.resource, report)
        if values is None:
            continue
        chosen.append((instance, template))
        outputs.extend(render_instance(instance, template, values, files, report))
    expanded, produced = admit_rendered(index, outputs, report)
    uses = tuple(
        TemplateUse(
            instance=instance.name,
            instance_file=instance.file,
            template=template.name,
            version=template.version,
            resources=produced.get(instance.file, ()),
        )
        for instance, template in chosen
    )
    return Expansion(expanded, uses)


def _resolve(
    instance: Resource[TemplateInstanceSpec], registry: Registry, report: Report
) -> TemplateVersion | None:
    name, constraint = instance.spec.template, instance.spec.version
    versions = registry.versions(name)
    if not versions or parse_range(constraint) is None:
        return None  # an unknown template (AF305) or a malformed range (AF213)
    chosen = registry.resolve(name, constraint)
    if chosen is None:
        listed = ", ".join(
            v.version + ("" if v.compatible else " (does not admit this compiler)")
            for v in versions
        )
        report.add(
            codes.NO_MATCHING_VERSION,
            instance.file,
            instance.doc.span(("spec", "version")),
            f"no version of template '{name}' satisfies {constraint!r}; there are: {listed}",
            hint="widen the constraint, or publish a version it admits",
        )
    return chosen


def render_instance(
    instance: Resource[TemplateInstanceSpec],
    template: TemplateVersion,
    values: Mapping[str, Value],
    files: Mapping[str, SourceFile],
    report: Report,
) -> list[RenderedAsset]:
    prefix = template.folder + "/"
    names = [
        p[len(prefix) :] for p in files if p.startswith(prefix) and p != prefix + TEMPLATE_FILE
    ]
    texts = _usable_texts(prefix, files)
    outputs = []
    for i, pattern in enumerate(template.resource.spec.assets):
        if _escapes(pattern):
            continue  # reported with the registry
        matched = match_assets(pattern, names)
        if not matched:
            report.add(
                codes.NO_ASSETS,
                template.resource.file,
                template.resource.doc.span(("spec", "assets", i)),
                f"asset glob {pattern!r} matches no file in {prefix}",
                hint=f"instantiated by {instance.file}",
            )
        for name in sorted(matched):
            path = prefix + name
            if path not in texts:
                _report_unusable(files[path], prefix, report)
                continue
            result = render_asset(template.folder, texts, path, values)
            if isinstance(result, RenderFailure):
                where = report.register_rendered(result.file, instance.file)
                report.add(result.code, where, result.span, result.message, hint=result.hint)
            else:
                outputs.append(RenderedAsset(instance, result))
    return outputs


def _usable_texts(prefix: str, files: Mapping[str, SourceFile]) -> dict[str, str]:
    """The folder's files a template may read: decoded, inside the folder, of sane size."""
    texts = {}
    for path, source in files.items():
        if path.startswith(prefix) and _leaves_folder(source, prefix) is None:
            if source.problem is None and len(source.data) <= MAX_FILE_BYTES:
                text = decode_text(source, Report())
                if text is not None:
                    texts[path] = text
    return texts


def _leaves_folder(source: SourceFile, prefix: str) -> str | None:
    """Where a symbolic link out of the folder leads, if ``source`` is one."""
    if source.link is not None and not source.link.startswith(prefix):
        return source.link
    if source.problem is not None and "symbolic link" in source.problem:
        return "a file outside the repository"
    return None


def _report_unusable(source: SourceFile, prefix: str, report: Report) -> None:
    target = _leaves_folder(source, prefix)
    if target is not None:
        report.add(
            codes.ASSET_OUTSIDE_FOLDER,
            source.path,
            FILE_START,
            f"asset is a symbolic link to {target}, outside the template's folder",
            hint="copy the file into the folder; a template reads only its own files",
        )
    elif source.problem is not None:
        report.add(codes.UNREADABLE_FILE, source.path, FILE_START, f"file {source.problem}")
    elif len(source.data) > MAX_FILE_BYTES:
        report.add(
            codes.FILE_TOO_LARGE,
            source.path,
            FILE_START,
            f"asset is larger than {MAX_FILE_BYTES // 1024} KiB",
        )
    else:
        decode_text(source, report)  # reports where the bad byte is
