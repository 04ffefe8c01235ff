"""Credentials written out: a tool header that carries one must be a secret reference.   AF613

Input: the `Index`. Output: diagnostics only. A header whose name says it carries a credential
(``Authorization``, ``Proxy-Authorization``, ``Cookie``, or a name holding ``token``,
``secret``, ``password``, ``api-key``, ``credential``, ``session`` or ``signature``), or whose
value starts like one (``Bearer …``, ``Basic …``), must be ``{secretRef: NAME}``: written out,
the secret would sit in the repository and in every bundle built from it (SPEC §1, Secrets).

A built-in check rather than a rule of the ``baseline`` pack: it holds in every repository,
whichever packs it selects, and it points at the offending header value, which a rule over the
whole resource cannot. It complements the pack's ``endpoints-carry-no-credentials``.
"""

from __future__ import annotations

import re

from agentflow.compiler.diagnostics import codes
from agentflow.compiler.diagnostics.report import Report
from agentflow.compiler.load.index import Index
from agentflow.compiler.model.tool import HttpTool, McpTool

CREDENTIAL_HEADER = re.compile(
    r"(?i)^(proxy-)?authori[sz]ation$|^cookie$"
    r"|token|secret|passw(or)?d|api[-_]?key|credential|session|signature"
)
CREDENTIAL_VALUE = re.compile(r"(?i)^(bearer|basic|digest|token|negotiate)\s+\S")


def check_credentials(index: Index, report: Report) -> None:
    for tool in index.all("Tool"):
        spec = tool.spec
        if not isinstance(spec, HttpTool | McpTool):
            continue
        for name, value in spec.headers.items():
            if not isinstance(value, str):
                continue
            if CREDENTIAL_HEADER.search(name) or CREDENTIAL_VALUE.match(value):
                report.add(
                    codes.LITERAL_CREDENTIAL,
                    tool.file,
                    tool.doc.span(("spec", "headers", name)),
                    f"header '{name}' of tool '{tool.name}' carries a credential written out",
                    hint="store it in the runtime's secret store and write "
                    f"{name}: {{secretRef: NAME}}; the runtime resolves it for each call",
                )
