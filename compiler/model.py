"""The source format as typed, frozen models: one class per kind of SPEC §1.

These models are the single source of truth for the resource schema: `schema.py` validates
documents with them and `schemas/*.schema.json` are generated from them (`python -m
agentflow.compiler.schema_export`). Scalars are strict (YAML's ``"1"`` is not a number and
``yes`` is not a boolean); sequences become tuples. Field descriptions are what editors show.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Discriminator, Field, Strict, Tag
from pydantic_core import PydanticCustomError

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


def _matcher(
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


Name = Annotated[
    str,
    Strict(),
    Field(json_schema_extra={"pattern": NAME_PATTERN, "maxLength": 63}),
    _matcher(
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
    _matcher("af_duration", DURATION_PATTERN, "duration", "500ms, 30s, 5m or 1h"),
]
Quantity = Annotated[
    str,
    Strict(),
    Field(
        description="A Kubernetes quantity: 256Mi, 500m.",
        json_schema_extra={"pattern": QUANTITY_PATTERN},
    ),
    _matcher("af_quantity", QUANTITY_PATTERN, "quantity", "256Mi, 1Gi or 500m"),
]
SemVer = Annotated[
    str,
    Strict(),
    Field(description="A semantic version: 1.4.0.", json_schema_extra={"pattern": SEMVER_PATTERN}),
    _matcher("af_semver", SEMVER_PATTERN, "semantic version", "1.4.0"),
]
StateName = Annotated[
    str,
    Strict(),
    Field(json_schema_extra={"pattern": STATE_PATTERN}),
    _matcher("af_state", STATE_PATTERN, "state name", "knowledge_search"),
]
PackRef = Annotated[
    str,
    Strict(),
    Field(json_schema_extra={"pattern": PACK_PATTERN}),
    _matcher("af_pack", PACK_PATTERN, "policy pack (NAME or NAME@RANGE)", "baseline@^1", 128),
]
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


class JsonSchemaRef(Model):
    schema_: JsonObject = Field(alias="schema", description="A JSON Schema.")


# --- Project -------------------------------------------------------------------------------


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


# --- Tool ----------------------------------------------------------------------------------


class McpRef(Model):
    server: Str = Field(description="The MCP server URL; network permission derives from its host.")
    tool: Str


class Cost(Model):
    per_call: Number = Field(alias="perCall", ge=0)


class CircuitBreaker(Model):
    failure_threshold: Int = Field(
        5, alias="failureThreshold", ge=1, description="Failures in a row that open the circuit."
    )
    reset_after: Duration = Field(
        "30s", alias="resetAfter", description="How long the circuit stays open."
    )


class _ToolBase(Model):
    version: SemVer
    description: Str = ""
    input_schema: JsonObject | None = Field(
        None, alias="inputSchema", description="A JSON Schema of the tool's input."
    )
    output_schema: JsonObject | None = Field(
        None,
        alias="outputSchema",
        description="A JSON Schema of the tool's output; it types `output` in CEL conditions.",
    )
    permissions: Permissions = Field(default_factory=dict)
    timeout: Duration | None = Field(None, description="Timeout of one call.")
    resources: Resources | None = None
    cost: Cost | None = None
    circuit_breaker: CircuitBreaker | None = Field(
        None,
        alias="circuitBreaker",
        description="When to stop calling a failing tool; defaults to 5 failures, 30s.",
    )


class HttpTool(_ToolBase):
    type: Literal["http"] = Field(description="http | mcp | python")
    endpoint: Str = Field(description="The URL the tool calls.")


class McpTool(_ToolBase):
    type: Literal["mcp"] = Field(description="http | mcp | python")
    mcp: McpRef = Field(description="The MCP server and the tool on it.")


class PythonTool(_ToolBase):
    type: Literal["python"] = Field(description="http | mcp | python")
    entrypoint: Annotated[
        str,
        Strict(),
        Field(
            description="The Python callable to run, module:function.",
            json_schema_extra={"pattern": ENTRYPOINT_PATTERN},
        ),
        _matcher("af_entrypoint", ENTRYPOINT_PATTERN, "entrypoint", "mypkg.tools:search"),
    ]


ToolSpec = Annotated[HttpTool | McpTool | PythonTool, Field(discriminator="type")]

# --- Agent ---------------------------------------------------------------------------------


class ModelRef(Model):
    provider: Str
    name: Str
    temperature: Number = Field(0.0, ge=0, le=2)
    max_tokens: Int | None = Field(None, alias="maxTokens", ge=1)


class Budget(Model):
    tokens: Int | None = Field(None, ge=0)
    dollars: Number | None = Field(None, ge=0)
    period: Literal["hour", "day", "week", "month"] = "day"


class Residency(Model):
    region: Str
    strict: Bool = False


class AgentSpec(Model):
    type: Literal["llm", "http", "tool"] = Field(description="llm | http | tool")
    description: Str = ""
    role: Name | None = Field(None, description="An RBAC role defined by some Policy.")
    model: ModelRef | None = Field(None, description="Required for llm agents.")
    endpoint: Str | None = Field(None, description="Required for http agents.")
    tools: tuple[Name, ...] = Field((), description="The Tools this agent may call.")
    concurrency: Int = Field(1, ge=1, description="Runs at the same time, at most.")
    budget: Budget | None = None
    residency: Residency | None = None
    retry: Retry | None = None


# --- Workflow ------------------------------------------------------------------------------


class Transition(Model):
    condition: Cel | None = Field(
        None, description="CEL; without one, the transition is the default."
    )
    target: StateName


class State(Model):
    agent: Name = Field(description="The Agent that runs this step.")
    tool: Name | None = Field(
        None, description="A Tool the agent calls; the step's output is typed by its outputSchema."
    )
    description: Str = ""
    prompt: Str | None = Field(
        None, description="For llm agents; may use {{ input.x }}, {{ output.x }}, {{ state.x }}."
    )
    input: JsonObject | None = Field(
        None, description="The step's input; string values may use {{ input.x }} and the like."
    )
    output: JsonSchemaRef | None = Field(None, description="The schema of the step's output.")
    transitions: tuple[Transition, ...] | None = Field(
        None, description="First match wins. Use either transitions or on_success."
    )
    on_success: StateName | None = Field(None, description="The next state after success.")
    on_error: StateName | None = Field(None, description="The next state after a failure.")
    timeout: Duration | None = None
    retry: Retry | None = None


class _WorkflowBase(Model):
    description: Str = ""
    timeout: Duration | None = None
    input: JsonSchemaRef | None = None


class FsmWorkflow(_WorkflowBase):
    planner: Literal["fsm"] = Field("fsm", description="fsm (the default) | bt | llm")
    initial_state: StateName = Field(description="The state a run starts in.")
    final_states: tuple[StateName, ...] = Field(description="The states a run ends in.")
    states: dict[StateName, State] = Field(description="Each state: one step, by name.")


class Action(Model):
    agent: Name
    tool: Name | None = None
    prompt: Str | None = None
    input: JsonObject | None = None
    output: JsonSchemaRef | None = None
    timeout: Duration | None = None
    retry: Retry | None = None


class ConditionNode(Model):
    when: Cel


class Parallel(Model):
    policy: Literal["all_success", "one_success"] = "all_success"
    children: tuple[BtNode, ...]


class Guarded(Model):
    when: Cel | None = Field(None, description="CEL; the last branch may omit it (the default).")
    do: BtNode


class SequenceN(Model):
    sequence: tuple[BtNode, ...]


class SelectorN(Model):
    selector: tuple[BtNode, ...]


class ParallelN(Model):
    parallel: Parallel


class ConditionN(Model):
    condition: ConditionNode


class ActionN(Model):
    action: Action


class ConditionalSelectorN(Model):
    conditional_selector: tuple[Guarded, ...]


BT_NODE_KINDS = ("sequence", "selector", "parallel", "condition", "action", "conditional_selector")


def _bt_node_kind(value: Any) -> str | None:
    if isinstance(value, dict) and value:
        return str(next(iter(value)))
    if isinstance(value, BaseModel):
        return next(iter(type(value).model_fields))
    return None


BtNode = Annotated[
    Annotated[SequenceN, Tag("sequence")]
    | Annotated[SelectorN, Tag("selector")]
    | Annotated[ParallelN, Tag("parallel")]
    | Annotated[ConditionN, Tag("condition")]
    | Annotated[ActionN, Tag("action")]
    | Annotated[ConditionalSelectorN, Tag("conditional_selector")],
    Discriminator(_bt_node_kind),
    Field(
        description="A behavior-tree node: a mapping with exactly one of "
        + ", ".join(BT_NODE_KINDS)
    ),
]


class BtWorkflow(_WorkflowBase):
    planner: Literal["bt"] = Field(description="fsm (the default) | bt | llm")
    root: BtNode


class LlmPlanner(Model):
    agent: Name
    prompt: Str | None = None
    temperature: Number = Field(0.0, ge=0, le=2)
    max_steps: Int = Field(alias="maxSteps", ge=1)
    allowed_decisions: tuple[Str, ...] = Field(alias="allowedDecisions")
    output_schema: JsonObject | None = Field(None, alias="outputSchema")
    fallback: Name | None = Field(None, description="An FSM workflow to run when planning fails.")


class LlmWorkflow(_WorkflowBase):
    planner: Literal["llm"] = Field(description="fsm (the default) | bt | llm")
    llm: LlmPlanner


def _planner(value: Any) -> str | None:
    if isinstance(value, dict):
        planner = value.get("planner", "fsm")
        return planner if isinstance(planner, str) else None
    return getattr(value, "planner", None)


WorkflowSpec = Annotated[
    Annotated[FsmWorkflow, Tag("fsm")]
    | Annotated[BtWorkflow, Tag("bt")]
    | Annotated[LlmWorkflow, Tag("llm")],
    Discriminator(_planner),
]

# --- Policy --------------------------------------------------------------------------------


class Role(Model):
    allowed_tools: tuple[Name, ...] = Field((), alias="allowedTools")
    permissions: Permissions = Field(default_factory=dict)


class Limits(Model):
    max_tool_timeout: Duration | None = Field(None, alias="maxToolTimeout")
    max_memory: Quantity | None = Field(None, alias="maxMemory")
    max_retries: Int | None = Field(None, alias="maxRetries", ge=0)
    over_budget: Literal["error", "warning"] | None = Field(
        None,
        alias="overBudget",
        description="Severity of AF612, a worst-case run cost above an agent's budget "
        "(default warning; the strictest policy wins).",
    )


class SandboxPolicy(Model):
    default: Literal["gvisor", "docker", "process"] = "gvisor"
    allow_process_in: tuple[Name, ...] = Field((), alias="allowProcessIn")


KindName = Literal["Project", "Agent", "Tool", "Workflow", "Policy", "Template", "TemplateInstance"]


class RuleMatch(Model):
    kinds: tuple[KindName, ...] = ()
    names: tuple[Name, ...] = ()
    labels: dict[Str, Str] = Field(default_factory=dict)


class Rule(Model):
    name: Name
    match: RuleMatch = Field(default_factory=RuleMatch)
    expr: Cel = Field(description="CEL over the resource: spec, metadata, kind.")
    message: Str
    severity: Literal["error", "warning"] = "error"


class PolicySpec(Model):
    description: Str = ""
    roles: dict[Name, Role] = Field(default_factory=dict)
    limits: Limits | None = None
    sandbox: SandboxPolicy | None = None
    rules: tuple[Rule, ...] = ()


# --- Template ------------------------------------------------------------------------------


class Parameter(Model):
    name: Annotated[
        str,
        Strict(),
        Field(json_schema_extra={"pattern": IDENTIFIER_PATTERN}),
        _matcher("af_identifier", IDENTIFIER_PATTERN, "parameter name", "kb_domain"),
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


# --- resources -----------------------------------------------------------------------------

API_VERSION = "agentflow.dev/v1"


class _Resource(Model):
    api_version: Literal["agentflow.dev/v1"] = Field(
        alias="apiVersion", description="Always agentflow.dev/v1."
    )
    metadata: Metadata = Field(description="The resource's name, labels and annotations.")


class Project(_Resource):
    """The repository's root (af.yaml): version, compatible compilers, environments."""

    kind: Literal["Project"]
    spec: ProjectSpec


class Tool(_Resource):
    """Something agents call (HTTP, MCP or Python), with the permissions it needs."""

    kind: Literal["Tool"]
    spec: ToolSpec


class Agent(_Resource):
    """A worker that workflow steps run on: an LLM, an HTTP service or a tool caller."""

    kind: Literal["Agent"]
    spec: AgentSpec


class Workflow(_Resource):
    """Agents chained by a planner: an FSM (the default), a behavior tree (bt) or an LLM."""

    kind: Literal["Workflow"]
    spec: WorkflowSpec


class Policy(_Resource):
    """RBAC roles, limits, sandbox defaults and CEL rules that resources must satisfy."""

    kind: Literal["Policy"]
    spec: PolicySpec


class Template(_Resource):
    """A versioned Jinja template of workflows (templates/<name>/<version>/template.yaml)."""

    kind: Literal["Template"]
    spec: TemplateSpec


class TemplateInstance(_Resource):
    """A workflow rendered at compile time from a Template and parameters."""

    kind: Literal["TemplateInstance"]
    spec: TemplateInstanceSpec


ResourceModel = Project | Tool | Agent | Workflow | Policy | Template | TemplateInstance
KIND_MODELS: dict[str, type[ResourceModel]] = {
    "Project": Project,
    "Agent": Agent,
    "Tool": Tool,
    "Workflow": Workflow,
    "Policy": Policy,
    "Template": Template,
    "TemplateInstance": TemplateInstance,
}


for _model in (
    Parallel,
    Guarded,
    SequenceN,
    SelectorN,
    ParallelN,
    ConditionN,
    ActionN,
    ConditionalSelectorN,
    BtWorkflow,
    Workflow,
):
    _model.model_rebuild()
