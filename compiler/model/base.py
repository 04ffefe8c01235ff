"""Strict scalars, patterns and the pieces every kind shares (metadata, retry, resources).

Scalars are strict: YAML's ``"1"`` is not a number and ``yes`` is not a boolean. A pattern check
says what was expected with an example (`matcher`), never the regular expression.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Strict,
    Tag,
)
from pydantic_core import PydanticCustomError

from agentflow.bundle.secrets import SECRET_NAME

# --- scalar types --------------------------------------------------------------------------

Str = Annotated[str, Strict()]
Int = Annotated[int, Strict()]
Bool = Annotated[bool, Strict()]
Number = Annotated[float, Strict()]
"""Strict float: accepts YAML integers and floats, never strings."""
JsonObject = dict[str, Any]
"""A JSON value written by the user (a JSON Schema, step input): checked elsewhere."""

NAME_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
DURATION_PATTERN = r"^([0-9]+(ms|s|m|h))+$"
QUANTITY_PATTERN = r"^[0-9]+(\.[0-9]+)?(m|k|Ki|M|Mi|G|Gi|T|Ti|P|Pi|E|Ei)?$"
SEMVER_PATTERN = (
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)
STATE_PATTERN = r"^[A-Za-z_][A-Za-z0-9_-]*$"
IDENTIFIER_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
ENTRYPOINT_PATTERN = r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$"
PACK_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(@[^@]+)?$"
SECRET_PATTERN = f"^{SECRET_NAME.pattern}$"
URL_PATTERN = r"^https?://[^\s/?#]+([/?#]\S*)?$"
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
"""Hosts valid for development wherever a host or URL is written (permissions, endpoints, MCP
servers, providers): a tool server or a model on the developer's own machine."""


def matcher(
    error_type: str, pattern: str, what: str, example: str, max_length: int = 1024
) -> AfterValidator:
    """A pattern check with a message a user can act on (pydantic's names the regex)."""
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if len(value) > max_length or not compiled.fullmatch(value):
            raise PydanticCustomError(
                error_type,
                "'{value}' is not a valid {what} (for example {example})",
                {"value": value, "what": what, "example": example},
            )
        return value

    return AfterValidator(check)


def is_loopback(host: str) -> bool:
    """``localhost``, ``127.0.0.1``, ``::1`` (and the rest of 127.0.0.0/8)."""
    host = host.lower().rstrip(".")
    if host in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_url(value: str) -> str:
    """An absolute http(s) URL with a host, and a port that is a number when there is one."""
    why = _url_problem(value)
    if why is not None:
        raise PydanticCustomError(
            "af_url",
            "'{value}' is not a valid URL ({why})",
            {
                "value": value,
                "what": f"URL ({why})",
                "example": "https://kb.example.com/search, or http://127.0.0.1:8080/ for "
                "development",
            },
        )
    return value


def _url_problem(value: str) -> str | None:
    if len(value) > 2048 or any(c.isspace() for c in value):
        return "it holds white space" if len(value) <= 2048 else "it is too long"
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as error:
        return str(error)
    if parts.scheme not in ("http", "https"):
        return "it must start with https:// or http://"
    if not parts.hostname:
        return "it names no host"
    if port == 0:
        return "port 0 cannot be reached"
    return None


Name = Annotated[
    str,
    Strict(),
    Field(json_schema_extra={"pattern": NAME_PATTERN, "maxLength": 63}),
    matcher(
        "af_name",
        NAME_PATTERN,
        "name (lowercase letters, digits and '-', at most 63)",
        "kb-search",
        63,
    ),
]
Duration = Annotated[
    str,
    Strict(),
    Field(
        description="A duration: 500ms, 30s, 5m, 1h.",
        json_schema_extra={"pattern": DURATION_PATTERN},
    ),
    matcher("af_duration", DURATION_PATTERN, "duration", "500ms, 30s, 5m or 1h"),
]
Quantity = Annotated[
    str,
    Strict(),
    Field(
        description="A Kubernetes quantity: 256Mi, 500m.",
        json_schema_extra={"pattern": QUANTITY_PATTERN},
    ),
    matcher("af_quantity", QUANTITY_PATTERN, "quantity", "256Mi, 1Gi or 500m"),
]
SemVer = Annotated[
    str,
    Strict(),
    Field(description="A semantic version: 1.4.0.", json_schema_extra={"pattern": SEMVER_PATTERN}),
    matcher("af_semver", SEMVER_PATTERN, "semantic version", "1.4.0"),
]
StateName = Annotated[
    str,
    Strict(),
    Field(json_schema_extra={"pattern": STATE_PATTERN}),
    matcher("af_state", STATE_PATTERN, "state name", "knowledge_search"),
]
PackRef = Annotated[
    str,
    Strict(),
    Field(json_schema_extra={"pattern": PACK_PATTERN}),
    matcher("af_pack", PACK_PATTERN, "policy pack (NAME or NAME@RANGE)", "baseline@^1", 128),
]
Url = Annotated[
    str,
    Strict(),
    Field(json_schema_extra={"format": "uri", "pattern": URL_PATTERN}),
    AfterValidator(_check_url),
]
"""An http(s) URL. Loopback hosts (``http://127.0.0.1:8089/v1``) are valid for development."""
VersionRange = Annotated[
    str, Strict(), Field(description="An npm-style version range: ~1.2, 1.x, >=1.5 <2.0, ^1.2.0.")
]
Cel = Annotated[str, Strict(), Field(description="A CEL expression.")]
Permissions = Annotated[
    dict[Str, Any],
    Field(
        description="Permission name → allow-list (domains, paths, scopes, resources) or true. "
        "Default deny: anything not listed is not granted.",
        json_schema_extra={
            "propertyNames": {
                "pattern": r"^(network\.(http|smtp|dns)|fs\.(read|tmp)|db\.(read|write)"
                r"|k8s\.[a-z]+|none)$"
            },
            "additionalProperties": {
                "anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "boolean"}]
            },
        },
    ),
]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- shared pieces -------------------------------------------------------------------------


class Metadata(Model):
    name: Name = Field(description="Unique per kind; DNS-label style.")
    labels: dict[Str, Str] = Field(
        default_factory=dict, description="Key/value labels; Policy rules can match on them."
    )
    annotations: dict[Str, Str] = Field(default_factory=dict)


class Retry(Model):
    max_attempts: Int = Field(
        alias="maxAttempts", ge=1, description="Attempts, the first included."
    )
    backoff: Literal["exponential", "linear", "constant"] = "exponential"
    initial_delay: Duration | None = Field(None, alias="initialDelay")
    max_delay: Duration | None = Field(None, alias="maxDelay")
    jitter: Bool = False


class Resources(Model):
    memory: Quantity | None = None
    cpu: Quantity | None = None


class SecretRef(Model):
    """A secret by name, {secretRef: NAME}: the runtime resolves it when it makes the call."""

    secret_ref: Annotated[
        str,
        Strict(),
        Field(
            alias="secretRef",
            description="The secret's name in the runtime's secret store (AF_SECRET_<NAME>, "
            "$AF_SECRETS_DIR/<name>); never its value.",
            json_schema_extra={"pattern": SECRET_PATTERN},
        ),
        matcher("af_secret", SECRET_PATTERN, "secret name", "kb-token", 253),
    ]


def _no_literal(value: Any) -> Any:
    if isinstance(value, str):
        raise PydanticCustomError(
            "af_secret_literal",
            "a secret is written out here; it must be a reference",
            {"hint": "store it in the runtime's secret store and write {secretRef: NAME}"},
        )
    return value


SecretOnly = Annotated[SecretRef, BeforeValidator(_no_literal)]
"""Where only a secret belongs (an API key): a string is a secret written out (AF613)."""


def _text_kind(value: Any) -> str:
    return "secret" if isinstance(value, dict | SecretRef) else "text"


Text = Annotated[
    Annotated[Str, Tag("text")] | Annotated[SecretRef, Tag("secret")],
    Discriminator(_text_kind),
    Field(description="A string, or a secret by reference: {secretRef: NAME}."),
]
"""A value written out, or a secret's name (a header). A mapping is read as a reference, so
its mistakes are named precisely (``secretRef`` missing, an unknown key)."""


class JsonSchemaRef(Model):
    schema_: JsonObject = Field(alias="schema", description="A JSON Schema.")
