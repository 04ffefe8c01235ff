"""The two sides of `af diff`: a git revision compiled from the object store, or a bundle.

Input: what the user typed for BASE or HEAD, the repository (``--repo``) and ``--env``.
Output: a `BundleView`, or the `Diagnostics` of a revision that does not compile. A path to a
bundle folder or a ``.tar.gz`` is read as a bundle; anything else is a git revision of the
repository, compiled exactly as `af build --rev` would, in memory (nothing is written).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from agentflow.bundle.read import BundleView, read_bundle, view_of
from agentflow.compiler.diagnostics.report import Diagnostic
from agentflow.compiler.source.provenance import NOT_IN_GIT, Provenance

if TYPE_CHECKING:
    from agentflow.compiler.pipeline import Validation


@dataclass(frozen=True, slots=True)
class Uncompiled:
    """A revision with errors: what `af validate --rev` would say."""

    label: str
    diagnostics: tuple[Diagnostic, ...]
    files_checked: int


def load_side(text: str, repo: Path, environment: str | None) -> BundleView | Uncompiled:
    path = Path(text)
    if path.is_dir() and (path / "bundle.json").is_file():
        return read_bundle(path, text)
    if path.is_file() and path.name.endswith((".tar.gz", ".tgz")):
        return read_bundle(path, text)
    from agentflow.compiler.pipeline import validate_snapshot
    from agentflow.compiler.source.read import read_source

    snapshot, provenance = read_source(repo, text)
    validation = validate_snapshot(snapshot, environment=environment)
    report = validation.report
    if report.has_errors():
        return Uncompiled(text, tuple(report.diagnostics()), report.files_checked)
    return compiled_view(validation, text, provenance)


def compiled_view(
    validation: Validation, label: str, provenance: Provenance = NOT_IN_GIT
) -> BundleView:
    """The bundle of a validation without errors, assembled in memory and read back."""
    from agentflow.compiler.build.assemble import assemble_bundle

    bundle = assemble_bundle(validation, provenance, provenance.committed_at or 0)
    return view_of(bundle.files, label)
