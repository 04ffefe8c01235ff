"""Every diagnostic code the compiler can emit, in one registry.

Families follow the pipeline: AF1xx loading, AF2xx schema, AF3xx references, AF4xx workflow
graphs, AF5xx CEL, AF6xx permissions and policies, AF7xx templates, AF8xx git, bundle and
environment, AF9xx scenarios. A retired number stays here as a comment and is never reused:
users grep for codes, suppress them and link to them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Code:
    id: str
    """The stable identifier, e.g. ``AF401``."""
    title: str
    """A short name for the rule; SARIF uses it as the rule description."""
    severity: Severity
    """Default severity; ``--strict`` turns warnings into errors."""


REGISTRY: dict[str, Code] = {}


def _code(id: str, title: str, severity: Severity = "error") -> Code:
    assert id not in REGISTRY, f"duplicate diagnostic code {id}"
    code = Code(id, title, severity)
    REGISTRY[id] = code
    return code


# AF1xx: files and YAML
YAML_SYNTAX: Final = _code("AF101", "YAML syntax error")
DUPLICATE_KEY: Final = _code("AF102", "duplicate mapping key")
ALIAS_FORBIDDEN: Final = _code("AF103", "YAML anchors and aliases are not allowed")
YAML11_BOOLEAN: Final = _code("AF104", "ambiguous YAML 1.1 boolean", "warning")
TOO_DEEP: Final = _code("AF105", "nesting too deep")
NOT_UTF8: Final = _code("AF106", "file is not UTF-8 text")
FILE_TOO_LARGE: Final = _code("AF107", "file too large")
MULTI_DOCUMENT: Final = _code("AF108", "more than one YAML document in a file")
NON_STRING_KEY: Final = _code("AF109", "mapping key is not a string")
NOT_A_RESOURCE: Final = _code("AF110", "file in a resource folder is not a resource")
EMPTY_DOCUMENT: Final = _code("AF111", "file has no YAML document", "warning")
TOO_MANY_NODES: Final = _code("AF112", "document too large")
UNREADABLE_FILE: Final = _code("AF113", "file cannot be read")

# AF2xx: schema
MISSING_FIELD: Final = _code("AF201", "required field missing")
UNKNOWN_FIELD: Final = _code("AF202", "unknown field")
WRONG_TYPE: Final = _code("AF203", "wrong type")
INVALID_VALUE: Final = _code("AF204", "invalid value")
UNKNOWN_KIND: Final = _code("AF205", "unknown kind")
BAD_API_VERSION: Final = _code("AF206", "unsupported apiVersion")
BAD_NAME: Final = _code("AF207", "invalid resource name")
BAD_DURATION: Final = _code("AF208", "invalid duration")
BAD_QUANTITY: Final = _code("AF209", "invalid size or CPU quantity")
BAD_SEMVER: Final = _code("AF210", "invalid semantic version")
BAD_USER_SCHEMA: Final = _code("AF211", "invalid JSON Schema")
BAD_PERMISSION: Final = _code("AF212", "unknown or malformed permission")
BAD_RANGE: Final = _code("AF213", "invalid version range")
APPROVAL_STEP_FIELD: Final = _code("AF214", "field not allowed on an approval state")
BAD_URL: Final = _code("AF215", "invalid URL")

# AF3xx: references between resources
UNKNOWN_AGENT: Final = _code("AF301", "unknown agent")
UNKNOWN_TOOL: Final = _code("AF302", "unknown tool")
UNKNOWN_ROLE: Final = _code("AF303", "unknown role")
UNKNOWN_WORKFLOW: Final = _code("AF304", "unknown workflow")
UNKNOWN_TEMPLATE: Final = _code("AF305", "unknown template")
DUPLICATE_NAME: Final = _code("AF306", "duplicate resource name")
MISSING_PROJECT: Final = _code("AF307", "no Project resource")
DUPLICATE_PROJECT: Final = _code("AF308", "more than one Project resource")
UNKNOWN_POLICY_PACK: Final = _code("AF309", "unknown policy pack or version")
DUPLICATE_ROLE: Final = _code("AF310", "role defined by more than one policy")
UNKNOWN_ENVIRONMENT: Final = _code("AF311", "unknown environment")
TOOL_NOT_ON_AGENT: Final = _code("AF312", "step uses a tool its agent does not list")

# AF4xx: workflow graphs
UNKNOWN_STATE: Final = _code("AF401", "unknown state")
UNREACHABLE_STATE: Final = _code("AF402", "state unreachable from the initial state")
NO_PATH_TO_FINAL: Final = _code("AF403", "state cannot reach a final state")
NO_EXIT: Final = _code("AF404", "non-final state has no outgoing transition")
DEAD_TRANSITION: Final = _code(
    "AF405", "transition after an unconditional one never fires", "warning"
)
FINAL_WITH_EXIT: Final = _code("AF406", "final state has outgoing transitions", "warning")
TIMEOUT_EXCEEDS_WORKFLOW: Final = _code("AF407", "timeout does not fit in the workflow timeout")
BAD_RETRY: Final = _code("AF408", "retry bounds are not sane")
CONFLICTING_ROUTING: Final = _code("AF409", "state mixes transitions and on_success")
BT_CHILDREN: Final = _code("AF410", "behavior-tree node has the wrong number of children")
BT_TOO_DEEP: Final = _code("AF411", "behavior tree too deep")
LLM_TEMPERATURE: Final = _code("AF412", "planner temperature too high")
LLM_MAX_STEPS: Final = _code("AF413", "planner maxSteps out of bounds")
LLM_DECISIONS: Final = _code("AF414", "planner allowedDecisions empty or repeated")
LLM_FALLBACK: Final = _code("AF415", "planner fallback is not an FSM workflow")
DEAD_BT_BRANCH: Final = _code("AF416", "branch after an unconditional one never runs", "warning")
NO_FINAL_STATES: Final = _code("AF417", "workflow has no final states")

# AF5xx: CEL expressions
CEL_SYNTAX: Final = _code("AF501", "CEL syntax error")
CEL_UNKNOWN_FIELD: Final = _code("AF502", "unknown field in a CEL expression")
CEL_TYPE_MISMATCH: Final = _code("AF503", "CEL type mismatch")
CEL_NOT_BOOLEAN: Final = _code("AF504", "CEL condition is not a boolean")
CEL_UNDECLARED: Final = _code("AF505", "undeclared variable or function in a CEL expression")
CEL_UNBOUNDED: Final = _code("AF506", "CEL comprehension over an unbounded list", "warning")
CEL_TOO_COSTLY: Final = _code("AF507", "CEL expression cost too large")

# AF6xx: permissions, roles, policies and exec profiles
TOOL_NOT_ALLOWED: Final = _code("AF601", "tool not allowed by the agent's role")
PERMISSION_NOT_GRANTED: Final = _code("AF602", "permission not granted by the agent's role")
NO_ROLE: Final = _code("AF603", "agent lists tools but has no role")
TIMEOUT_OVER_LIMIT: Final = _code("AF604", "timeout above the policy limit")
MEMORY_OVER_LIMIT: Final = _code("AF605", "memory above the policy limit")
RETRIES_OVER_LIMIT: Final = _code("AF606", "retries above the policy limit")
RULE_VIOLATED: Final = _code("AF607", "policy rule violated")
RULE_FAILED: Final = _code("AF608", "policy rule cannot be evaluated")
PROCESS_SANDBOX_NOT_ALLOWED: Final = _code("AF609", "process sandbox not allowed in environment")
EGRESS_OUTSIDE_RESIDENCY: Final = _code("AF610", "egress outside the residency allow-list")
REGION_MISMATCH: Final = _code("AF611", "agent pinned to another region than the environment")
OVER_BUDGET: Final = _code("AF612", "worst-case cost of a run above an agent's budget", "warning")
LITERAL_CREDENTIAL: Final = _code("AF613", "credential written out instead of a secret reference")
# AF7xx: templates and versions
TEMPLATE_FOLDER: Final = _code("AF701", "template folder does not match its name and version")
DUPLICATE_TEMPLATE: Final = _code("AF702", "template name and version defined twice")
NO_MATCHING_VERSION: Final = _code("AF703", "no template version satisfies the constraint")
MISSING_PARAMETER: Final = _code("AF704", "required template parameter missing")
UNKNOWN_PARAMETER: Final = _code("AF705", "unknown template parameter")
PARAMETER_TYPE: Final = _code("AF706", "template parameter of the wrong type")
PARAMETER_VALUE: Final = _code("AF707", "template parameter out of range or not allowed")
SECRET_LITERAL: Final = _code("AF708", "secret parameter given a value instead of a reference")
BAD_PARAMETER_DECLARATION: Final = _code("AF709", "template parameter declared inconsistently")
ASSET_OUTSIDE_FOLDER: Final = _code("AF710", "template asset outside the template's folder")
NO_ASSETS: Final = _code("AF711", "template asset glob matches no file")
TEMPLATE_SYNTAX: Final = _code("AF712", "Jinja syntax error in a template asset")
TEMPLATE_UNDEFINED: Final = _code("AF713", "undefined variable in a template asset")
TEMPLATE_SANDBOX: Final = _code("AF714", "template asset broke the rendering sandbox")
TEMPLATE_LIMIT: Final = _code("AF715", "template rendering exceeded its time or size limit")
TEMPLATE_ERROR: Final = _code("AF716", "template asset failed to render")
RENDERED_NAME_TAKEN: Final = _code("AF717", "rendered resource name already in use")
RENDERED_KIND: Final = _code("AF718", "template asset renders a kind templates may not produce")

# AF8xx: git, bundle and environment
COMPILER_NOT_ADMITTED: Final = _code("AF801", "afVersion does not admit this compiler")
NOT_JSON: Final = _code("AF802", "value cannot be written to the bundle as JSON")

# AF9xx: scenarios
SCENARIO_WORKFLOW: Final = _code("AF901", "scenario names an unknown workflow")
SCENARIO_INPUT: Final = _code("AF902", "scenario input does not match the workflow's input schema")
STUB_UNKNOWN: Final = _code("AF903", "stub names neither an agent nor a tool")
STUB_ANSWER: Final = _code("AF904", "stub answer has neither or both of output and error")
STUB_OUTPUT: Final = _code("AF905", "stub output does not match the schema of a step it answers")
STUB_UNUSED: Final = _code("AF906", "stub answers no step of the workflow", "warning")
APPROVAL_UNKNOWN: Final = _code("AF907", "approval names no approval state of the workflow")
APPROVAL_DECISION: Final = _code("AF908", "approval decision is not {approved, approver, comment}")
EXPECT_STATUS: Final = _code("AF909", "unknown expected status")
EXPECT_PATH: Final = _code("AF910", "expected path is not a run the workflow allows")
PATH_UNSTUBBED: Final = _code("AF911", "step on the expected path has no stub", "warning")
