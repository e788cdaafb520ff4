"""Read the org chart YAML (contract 3) into a typed ``OrgChart``, or report every problem.

The file::

    organization: {slug: acme, name: "ACME 주식회사"}
    departments:
      - {code: HR, name: 인사팀}
      - {code: ENG-PLAT, name: 플랫폼팀, parent: ENG}     # parent optional
    users:
      - {email: kim@acme.test, name: 김민수, department: HR, roles: [member]}

Optional keys of a user beyond contract 3:

- ``roles``: a subset of member, dept_admin, finance, platform_admin (``[member]`` if absent);
- ``password``: a YAML string, for local accounts (development, tests). It is set only when
  the user is new or has no usable password: re-importing never overwrites a password;
- ``finance_of: [codes]``: extra memberships with the finance role over those departments;
- ``admin_of: [codes]``: extra memberships with the dept_admin role.

Codes, names and e-mail addresses are read as written (``code: 100`` is the code "100" and
``code: NO`` the code "NO"), whatever YAML would make of them. Problems are located by
line (``filename:line``), using the nodes that ``yaml.compose`` keeps.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import yaml
from django.core.exceptions import ValidationError
from django.core.validators import validate_email, validate_slug
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from orgs.errors import OrgChartError
from orgs.models import Role
from orgs.org_chart.types import DepartmentSpec, OrganizationSpec, OrgChart, UserSpec

if TYPE_CHECKING:
    from yaml.nodes import Node

ROLES = tuple(sorted(Role.values))
MAX_PROBLEMS_SHOWN = 50
_NULL_TAG = "tag:yaml.org,2002:null"
_STR_TAG = "tag:yaml.org,2002:str"


class OrgChartInvalid(OrgChartError):
    """Every problem of one file, in file order; ``location`` is the first one's."""

    def __init__(self, problems: list[OrgChartError]) -> None:
        lines = [problem.message for problem in problems[:MAX_PROBLEMS_SHOWN]]
        if len(problems) > MAX_PROBLEMS_SHOWN:
            lines.append(f"... and {len(problems) - MAX_PROBLEMS_SHOWN} more problems")
        super().__init__("\n".join(lines))
        self.location = problems[0].location
        self.problems = problems


def org_chart_parse(text: str, *, filename: str) -> OrgChart:
    """The chart in ``text``, or OrgChartInvalid listing each problem as ``filename:line``.
    Pure: reads no database, so codes must be defined in the file itself."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        problem = OrgChartError(f"not valid YAML: {exc.problem}", location=f"{filename}:{line}")
        raise OrgChartInvalid([problem]) from None
    except yaml.YAMLError as exc:  # a reader error: a character YAML does not allow
        position = getattr(exc, "position", 0)
        line = text.count("\n", 0, position) + 1
        reason = str(exc).splitlines()[0]
        problem = OrgChartError(f"not valid YAML: {reason}", location=f"{filename}:{line}")
        raise OrgChartInvalid([problem]) from None
    parser = _Parser(filename)
    chart = parser.chart(root)
    if chart is None or parser.problems:
        parser.problems.sort(key=lambda p: int(p.location.rsplit(":", 1)[1]))
        raise OrgChartInvalid(parser.problems)
    return chart


class _Parser:
    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.problems: list[OrgChartError] = []
        self.codes: set[str] = set()  # every department code defined, valid or not

    def problem(self, node: Node, message: str) -> None:
        location = f"{self.filename}:{node.start_mark.line + 1}"
        self.problems.append(OrgChartError(message, location=location))

    def mapping(self, node: Node, what: str, allowed: tuple[str, ...]) -> dict[str, Node] | None:
        if not isinstance(node, MappingNode):
            self.problem(node, f"{what} must be a mapping")
            return None
        found: dict[str, Node] = {}
        for key, value in node.value:
            name = key.value if isinstance(key, ScalarNode) else str(key.value)
            if name not in allowed:
                self.problem(key, f"{what}: unknown key {name!r} (known: {', '.join(allowed)})")
            elif name in found:
                self.problem(key, f"{what}: duplicate key {name!r}")
            else:
                found[name] = value
        return found

    def sequence(self, node: Node | None, what: str) -> list[Node]:
        if node is None or (isinstance(node, ScalarNode) and node.tag == _NULL_TAG):
            return []
        if not isinstance(node, SequenceNode):
            self.problem(node, f"{what} must be a list")
            return []
        return list(node.value)

    def text(self, found: dict[str, Node], key: str, owner: Node, what: str, limit: int) -> str:
        """The stripped text of a required scalar; "" (with a problem) when absent."""
        node = found.get(key)
        if isinstance(node, ScalarNode) and node.tag != _NULL_TAG and node.value.strip():
            if len(node.value.strip()) <= limit:
                return str(node.value.strip())
            self.problem(node, f"{what}: {key} is longer than {limit} characters")
        elif node is not None and not isinstance(node, ScalarNode):
            self.problem(node, f"{what}: {key} must be a single value")
        else:
            self.problem(owner, f"{what} has no {key}")
        return ""

    def scalars(self, found: dict[str, Node], key: str, what: str) -> list[tuple[str, ScalarNode]]:
        values: list[tuple[str, ScalarNode]] = []
        for node in self.sequence(found.get(key), f"{what}: {key}"):
            if isinstance(node, ScalarNode) and node.tag != _NULL_TAG and node.value.strip():
                values.append((str(node.value.strip()), node))
            else:
                self.problem(node, f"{what}: each entry of {key} must be a single value")
        return values

    def chart(self, root: Node | None) -> OrgChart | None:
        if root is None:
            self.problems.append(OrgChartError("the file is empty", location=f"{self.filename}:1"))
            return None
        top = self.mapping(root, "the file", ("organization", "departments", "users"))
        if top is None:
            return None
        organization = None
        if "organization" not in top:
            self.problem(root, "organization is missing")
        else:
            organization = self.organization(top["organization"])
        departments = self.departments(self.sequence(top.get("departments"), "departments"))
        users = self.users(self.sequence(top.get("users"), "users"))
        if organization is None:
            return None
        return OrgChart(self.filename, organization, tuple(departments), tuple(users))

    def organization(self, node: Node) -> OrganizationSpec | None:
        found = self.mapping(node, "organization", ("slug", "name"))
        if found is None:
            return None
        slug = self.text(found, "slug", node, "organization", 64)
        name = self.text(found, "name", node, "organization", 200)
        if slug:
            try:
                validate_slug(slug)
            except ValidationError:
                self.problem(found["slug"], f"organization slug {slug!r} may hold only a-z 0-9 - _")
                slug = ""
        return OrganizationSpec(slug, name) if slug and name else None

    def departments(self, nodes: list[Node]) -> list[DepartmentSpec]:
        """Valid departments in parent-first order; codes of broken entries still count
        as known so that one mistake is not reported again at every reference."""
        by_code: dict[str, DepartmentSpec] = {}
        parent_nodes: dict[str, Node] = {}
        for node in nodes:
            found = self.mapping(node, "department", ("code", "name", "parent"))
            if found is None:
                continue
            code = self.text(found, "code", node, "department", 64)
            what = f"department {code}".strip()
            name = self.text(found, "name", node, what, 200)
            parent_node = found.get("parent")
            parent = None
            if parent_node is not None and not (
                isinstance(parent_node, ScalarNode) and parent_node.tag == _NULL_TAG
            ):
                parent = self.text(found, "parent", node, what, 64) or None
            if not code:
                continue
            if code in by_code:
                first = by_code[code].line
                self.problem(
                    found["code"], f"duplicate department code {code!r} (first on line {first})"
                )
                continue
            by_code[code] = DepartmentSpec(code, name, parent, node.start_mark.line + 1)
            if parent_node is not None:
                parent_nodes[code] = parent_node
        self.codes = set(by_code)
        for code, spec in by_code.items():
            if spec.parent is not None and spec.parent not in by_code:
                self.problem(
                    parent_nodes[code], f"department {code}: unknown parent {spec.parent!r}"
                )
        return self.parent_first(by_code)

    def parent_first(self, by_code: dict[str, DepartmentSpec]) -> list[DepartmentSpec]:
        """Sorted by depth, so every parent comes before its children. A parent cycle is
        reported once, at its member that comes first in the file."""
        depth: dict[str, int | None] = {}  # None: in a cycle or under one
        for spec in by_code.values():
            walk: list[str] = []
            code: str | None = spec.code
            while code is not None and code not in depth and code not in walk:
                walk.append(code)
                parent = by_code[code].parent
                code = parent if parent in by_code else None
            base: int | None = -1
            if code is not None and code in walk:
                cycle = walk[walk.index(code) :]
                first = min(cycle, key=lambda c: by_code[c].line)
                start = cycle.index(first)
                ring = " → ".join([*cycle[start:], *cycle[:start], first])
                location = f"{self.filename}:{by_code[first].line}"
                message = f"department {first}: parent cycle {ring}"
                self.problems.append(OrgChartError(message, location=location))
                base = None
            elif code is not None:
                base = depth[code]
            for step, walked in enumerate(reversed(walk), start=1):
                depth[walked] = None if base is None else base + step
        ordered = [spec for spec in by_code.values() if depth[spec.code] is not None]
        return sorted(ordered, key=lambda spec: depth[spec.code] or 0)

    def users(self, nodes: list[Node]) -> list[UserSpec]:
        codes = self.codes
        users: list[UserSpec] = []
        lines: dict[str, int] = {}
        keys = ("email", "name", "department", "roles", "password", "finance_of", "admin_of")
        for node in nodes:
            found = self.mapping(node, "user", keys)
            if found is None:
                continue
            email = self.text(found, "email", node, "user", 254).lower()
            what = f"user {email}".strip()
            if email:
                try:
                    validate_email(email)
                except ValidationError:
                    self.problem(found["email"], f"user: {email!r} is not a valid e-mail address")
                    email = ""
            if email in lines:
                first = lines[email]
                self.problem(
                    found["email"], f"duplicate user e-mail {email!r} (first on line {first})"
                )
                email = ""
            name = self.text(found, "name", node, what, 150)
            department = self.text(found, "department", node, what, 64)
            if department and department not in codes:
                self.problem(found["department"], f"{what}: unknown department {department!r}")
            roles: list[str] = []
            for role, role_node in self.scalars(found, "roles", what):
                if role not in ROLES:
                    known = ", ".join(ROLES)
                    self.problem(role_node, f"{what}: unknown role {role!r} (roles: {known})")
                roles.append(role)
            extras: dict[str, list[str]] = {}
            for key in ("finance_of", "admin_of"):
                extras[key] = []
                for code, code_node in self.scalars(found, key, what):
                    if code not in codes:
                        self.problem(code_node, f"{what}: unknown department {code!r} in {key}")
                    elif code == department:
                        own = "its own department; put the role in roles instead"
                        self.problem(code_node, f"{what}: {key} lists {own}")
                    elif code not in extras[key]:
                        extras[key].append(code)
            password = None
            password_node = found.get("password")
            if password_node is not None:
                if not (isinstance(password_node, ScalarNode) and password_node.tag == _STR_TAG):
                    self.problem(password_node, f"{what}: password must be a string (quote it)")
                else:
                    password = str(password_node.value) or None
            if email:
                lines[email] = node.start_mark.line + 1
                users.append(
                    UserSpec(
                        email=email,
                        name=name,
                        department=department,
                        roles=tuple(sorted({*roles, Role.MEMBER.value})),
                        password=password,
                        finance_of=tuple(extras["finance_of"]),
                        admin_of=tuple(extras["admin_of"]),
                        line=lines[email],
                    )
                )
        return users
