"""Permission declarations: names and allow-lists, as tools need and roles grant them.   AF212

Input: a `Document` (Tool or Policy). Output: diagnostics only. Checks the syntax of every
permission a tool declares or a role grants; whether a grant covers a need is the policy stage's.
"""

from __future__ import annotations

import re
from typing import Any

from . import codes
from .diagnostics import Report
from .load import Document, Path
from .suggest import did_you_mean

DOMAIN_PERMISSIONS = ("network.http", "network.smtp", "network.dns")
LIST_PERMISSIONS = (*DOMAIN_PERMISSIONS, "fs.read", "db.read", "db.write")
FLAG_PERMISSIONS = ("fs.tmp", "none")
KNOWN = (*LIST_PERMISSIONS, *FLAG_PERMISSIONS, "k8s.<verb>")
_K8S = re.compile(r"k8s\.[a-z]+")
_DOMAIN = re.compile(r"(\*\.)?([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]*[a-z0-9])?|\*")


def check_declarations(document: Document, report: Report) -> None:
    spec = document.data.get("spec")
    if not isinstance(spec, dict):
        return
    kind = document.data.get("kind")
    if kind == "Tool":
        _check(document, ("spec", "permissions"), spec.get("permissions"), report)
    elif kind == "Policy" and isinstance(spec.get("roles"), dict):
        for role, body in spec["roles"].items():
            if isinstance(body, dict):
                _check(document, ("spec", "roles", role, "permissions"), body.get("permissions"),
                       report)


def _check(document: Document, path: Path, permissions: Any, report: Report) -> None:
    if not isinstance(permissions, dict):
        return
    for name, value in permissions.items():
        where = (*path, name)
        if name in LIST_PERMISSIONS or _K8S.fullmatch(name):
            _check_list(document, where, name, value, report)
        elif name in FLAG_PERMISSIONS:
            if value is not True and value is not False:
                report.add(codes.BAD_PERMISSION, document.file, document.span(where),
                           f"permission '{name}' takes true or false")
        else:
            report.add(codes.BAD_PERMISSION, document.file, document.key_span(where),
                       f"unknown permission '{name}'",
                       hint=did_you_mean(name, KNOWN) or "known: " + ", ".join(KNOWN))


def _check_list(document: Document, where: Path, name: str, value: Any, report: Report) -> None:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        report.add(codes.BAD_PERMISSION, document.file, document.span(where),
                   f"permission '{name}' takes a list of strings")
        return
    if name not in DOMAIN_PERMISSIONS:
        return
    for index, domain in enumerate(value):
        if not _DOMAIN.fullmatch(domain):
            report.add(codes.BAD_PERMISSION, document.file, document.span((*where, index)),
                       f"{domain!r} is not a domain name",
                       hint="write a host name such as 'kb.example.com' or '*.example.com' "
                            "(no scheme, path or port)")
