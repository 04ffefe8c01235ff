"""Compatibility: the Project (and templates) must admit this compiler's version.   AF8xx

Input: the `Index`. Output: diagnostics only. Ranges use npm semantics (``>=0.1 <1.0``,
``^0.1``, ``0.x``) through node-semver, the same library that resolves template versions.
"""

from __future__ import annotations

from agentflow.compiler import __version__
from agentflow.compiler.diagnostics import codes
from agentflow.compiler.diagnostics.report import Report
from agentflow.compiler.load.index import Index
from agentflow.compiler.load.resource import Resource
from agentflow.compiler.model.versions import admits, parse_range


def check_compatibility(index: Index, report: Report, compiler_version: str = __version__) -> None:
    if index.project is not None:
        _check(
            index.project,
            ("spec", "afVersion"),
            index.project.spec.af_version,
            compiler_version,
            report,
        )
    for instance in index.all("TemplateInstance"):
        if parse_range(instance.spec.version) is None:
            report.add(
                codes.BAD_RANGE,
                instance.file,
                instance.doc.span(("spec", "version")),
                f"{instance.spec.version!r} is not a valid version range",
                hint="write '~1.2', '1.x', '>=1.5 <2.0', '^1.2.0' or an exact '1.2.3'",
            )
    for template in index.all("Template"):
        compatibility = template.spec.compatibility
        if compatibility is not None:
            _check(
                template,
                ("spec", "compatibility", "afVersion"),
                compatibility.af_version,
                compiler_version,
                report,
            )


def _check(
    resource: Resource[object], path: tuple[str, ...], range_text: str, version: str, report: Report
) -> None:
    span = resource.doc.span(path)
    if parse_range(range_text) is None:
        report.add(
            codes.BAD_RANGE,
            resource.file,
            span,
            f"{range_text!r} is not a valid version range",
            hint="write an npm-style range such as '>=0.1 <1.0' or '^0.1'",
        )
    elif not admits(range_text, version):
        report.add(
            codes.COMPILER_NOT_ADMITTED,
            resource.file,
            span,
            f"afVersion {range_text!r} does not admit this compiler ({version})",
            hint="widen the range, or use a compiler version it admits",
        )
