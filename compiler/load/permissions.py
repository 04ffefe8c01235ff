"""Permission declarations: names and allow-lists, as tools need and roles grant them.   AF212

Input: a `Document` (Tool or Policy). Output: diagnostics, and the paths they point at. Checks
the syntax of every permission a tool declares or a role grants (a value of the wrong type is
AF203); whether a grant covers a need is the policy stage's. A domain is a host name (``*.``
wildcards allowed) or an IP literal without a port: loopback hosts (``localhost``,
``127.0.0.1``, ``::1``) are valid for development.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from agentflow.compiler.diagnostics import codes
from agentflow.compiler.diagnostics.positions import YamlPath
from agentflow.compiler.diagnostics.report import Report
from agentflow.compiler.diagnostics.suggest import did_you_mean
from agentflow.compiler.load.document import Document

DOMAIN_PERMISSIONS = ("network.http", "network.smtp", "network.dns")
LIST_PERMISSIONS = (*DOMAIN_PERMISSIONS, "fs.read", "db.read", "db.write")
FLAG_PERMISSIONS = ("fs.tmp", "none")
KNOWN = (*LIST_PERMISSIONS, *FLAG_PERMISSIONS, "k8s.<verb>")
_K8S = re.compile(r"k8s\.[a-z]+")
_DOMAIN = re.compile(r"(\*\.)?([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]*[a-z0-9])?|\*")


def check_declarations(document: Document, report: Report) -> set[YamlPath]:
    """Report malformed permissions; returns the paths reported."""
    reported: set[YamlPath] = set()
    spec = document.data.get("spec")
    if not isinstance(spec, dict):
        return reported
    kind = document.data.get("kind")
    if kind == "Tool":
        _check(document, ("spec", "permissions"), spec.get("permissions"), report, reported)
    elif kind == "Policy" and isinstance(spec.get("roles"), dict):
        for role, body in spec["roles"].items():
            if isinstance(body, dict):
                _check(
                    document,
                    ("spec", "roles", role, "permissions"),
                    body.get("permissions"),
                    report,
                    reported,
                )
    return reported


def _check(
    document: Document, path: YamlPath, permissions: Any, report: Report, reported: set[YamlPath]
) -> None:
    if not isinstance(permissions, dict):
        return
    for name, value in permissions.items():
        where = (*path, name)
        if document.is_rejected(where):
            continue  # an alias or a tag: the loader reported it already
        if name in LIST_PERMISSIONS or _K8S.fullmatch(name):
            _check_list(document, where, name, value, report, reported)
        elif name in FLAG_PERMISSIONS:
            if value is not True and value is not False:
                yaml11 = where in document.yaml11_booleans
                report.add(
                    codes.WRONG_TYPE,
                    document.file,
                    document.span(where),
                    f"permission '{name}' takes true or false, not {value!r}",
                    hint=f"write true or false; '{value}' is a boolean only in YAML 1.1"
                    if yaml11
                    else None,
                )
                reported.add(where)
        else:
            report.add(
                codes.BAD_PERMISSION,
                document.file,
                document.key_span(where),
                f"unknown permission '{name}'",
                hint=did_you_mean(name, KNOWN) or "known: " + ", ".join(KNOWN),
            )
            reported.add(where)


def _check_list(
    document: Document,
    where: YamlPath,
    name: str,
    value: Any,
    report: Report,
    reported: set[YamlPath],
) -> None:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        report.add(
            codes.WRONG_TYPE,
            document.file,
            document.span(where),
            f"permission '{name}' takes a list of strings",
        )
        reported.add(where)
        return
    if name not in DOMAIN_PERMISSIONS:
        return
    for index, domain in enumerate(value):
        if not is_domain(domain):
            report.add(
                codes.BAD_PERMISSION,
                document.file,
                document.span((*where, index)),
                f"{domain!r} is not a domain name",
                hint="write a host name such as 'kb.example.com' or '*.example.com', or an "
                "IP address such as '127.0.0.1' or '::1' (no scheme, path or port)",
            )
            reported.add((*where, index))


def is_domain(text: str) -> bool:
    """A host name, a ``*.`` wildcard, ``*``, or an IP address (``127.0.0.1``, ``::1``)."""
    if _DOMAIN.fullmatch(text):
        return True
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True
