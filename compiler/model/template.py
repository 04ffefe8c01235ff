"""The Template and TemplateInstance kinds: versioned Jinja assets and their parameters."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, Strict

from agentflow.compiler.model.base import (
    IDENTIFIER_PATTERN,
    Bool,
    Model,
    Name,
    Number,
    SemVer,
    Str,
    VersionRange,
    matcher,
)

# --- Template ------------------------------------------------------------------------------


class Parameter(Model):
    name: Annotated[
        str,
        Strict(),
        Field(json_schema_extra={"pattern": IDENTIFIER_PATTERN}),
        matcher("af_identifier", IDENTIFIER_PATTERN, "parameter name", "kb_domain"),
    ]
    type: Literal["string", "number", "integer", "boolean", "enum", "secret"]
    description: Str = ""
    required: Bool = False
    default: Any = None
    minimum: Number | None = None
    maximum: Number | None = None
    values: tuple[Str, ...] | None = None


class Compatibility(Model):
    af_version: VersionRange = Field(alias="afVersion")


class TemplateSpec(Model):
    version: SemVer
    description: Str = ""
    compatibility: Compatibility | None = None
    parameters: tuple[Parameter, ...] = ()
    assets: tuple[Str, ...] = Field(description="Globs inside the template's folder.")


class TemplateInstanceSpec(Model):
    template: Name = Field(description="The Template to render, by name.")
    version: VersionRange = Field(description="Template versions that fit; the newest is used.")
    parameters: dict[Str, Any] = Field(
        default_factory=dict, description="Values for the template's parameters."
    )
