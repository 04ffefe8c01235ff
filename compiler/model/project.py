"""The Project kind (``af.yaml``): version, compilers admitted, policy packs, environments."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from agentflow.compiler.model.base import (
    Bool,
    Int,
    Model,
    Name,
    Number,
    PackRef,
    SecretOnly,
    SemVer,
    Str,
    Url,
    VersionRange,
)

# --- Project -------------------------------------------------------------------------------


class Provider(Model):
    base_url: Url = Field(
        alias="baseUrl",
        description="The provider's OpenAI-compatible API (OpenAI, vLLM, Ollama, TGI) in this "
        "environment: https://vllm.eu.internal.example.com/v1, or a loopback host for "
        "development (http://127.0.0.1:8089/v1).",
    )
    api_key: SecretOnly | None = Field(
        None, alias="apiKey", description="The API key, by reference: {secretRef: NAME}."
    )


class Environment(Model):
    sandbox: Literal["gvisor", "docker", "process"] | None = None
    residency: Literal["strict", "lenient", "off"] = Field(
        "off", description='Quote "off": unquoted, YAML 1.1 tools read it as false.'
    )
    region: Str | None = None
    egress: tuple[Str, ...] | None = Field(
        None,
        description="The in-region hosts tools may reach under strict or lenient residency "
        "(*.example.com wildcards allowed). Without it, tools reach what their roles grant.",
    )
    toggles: dict[Str, Str | Bool | Int | Number] = Field(
        default_factory=dict, description="Environment toggles, visible to CEL as `env`."
    )
    providers: dict[Str, Provider] = Field(
        default_factory=dict,
        description="Where each model provider that agents name (model.provider) is reached in "
        "this environment; ExecProfiles carry it as model.baseUrl and model.apiKey.",
    )


class ProjectSpec(Model):
    version: SemVer = Field(description="The bundle version is derived from it.")
    af_version: VersionRange = Field(
        alias="afVersion", description="Compilers that may build this repo."
    )
    description: Str = ""
    policy_packs: tuple[PackRef, ...] = Field(
        (),
        alias="policyPacks",
        description="Built-in policy packs, by name and optional npm range: baseline, baseline@^1.",
    )
    environments: dict[Name, Environment] = Field(default_factory=dict)
