"""Who may call a method, as its contract's comment says on its closing `Roles:` line.

This is the one reading of that line: the OpenAPI document's `x-stockmesh-roles` comes from it, and the
contract test (tests/contract/test_access_rules.py) holds every service's access rules to it, so what the
document tells a client and what the services enforce cannot drift apart.
"""

from __future__ import annotations

import re

# The line ends at the first full stop or parenthesis: "(other users than oneself: admin, manager)"
# qualifies the roles before it and names no further one.
LINE = re.compile(r"Roles:\s*([^.(]*)")
PUBLIC = "none: public"


def roles(comment: str) -> list[str] | None:
    """The sorted role names on the comment's `Roles:` line: `[]` for a public method ("Roles: none:
    public."), None when the comment has no such line or it names no role.

    Clauses are split on ';' and ',' and the first word of each is a role: "admin, manager; clerk for
    lines whose delta is within the limit" names admin, clerk and manager, since a role admitted with a
    qualification is still admitted by the access rule (the use case applies the qualification).
    """
    found = LINE.search(" ".join(comment.split()))
    if found is None:
        return None
    text = found.group(1).strip()
    if text.startswith(PUBLIC):
        return []
    words = {clause.strip().split(" ")[0] for part in text.split(";") for clause in part.split(",")}
    named = sorted(word for word in words if word)
    # An empty line would otherwise read as public: say nothing rather than something wrong.
    return named or None
