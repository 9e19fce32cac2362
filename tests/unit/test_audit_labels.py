"""Every action the portal records has a label in each language: the audit log never shows an admin a bare code."""

from __future__ import annotations

import ast
from pathlib import Path

from flask_babel import force_locale

from portal.accounts.models import InvitationStatus
from portal.audit.labels import ACTION_LABELS, OBJECT_LABELS
from portal.booths.services import Action
from portal.events.manage import PARTS

PORTAL = Path(__file__).resolve().parents[2] / "portal"

#: the actions named by a pattern (an f-string) in the code, as each pattern's values spell them out
PATTERNS = {
    "booth.{action.value}": {f"booth.{action.value}" for action in Action},
    "event.{part.name}_{action}": {f"event.{part.name}_{action}" for part in PARTS.values()
                                   for action in ("created", "updated")},
    "event.{name}_deleted": {f"event.{part.name}_deleted" for part in PARTS.values()},
    "organisation.invitation_{status.value}": {f"organisation.invitation_{status.value}" for status in
                                               InvitationStatus if status is not InvitationStatus.PENDING},
}


def _spelled_out(node: ast.expr) -> set[str]:
    """The actions an action argument can be: a string, either of a conditional's, or a pattern's values."""
    if isinstance(node, ast.Constant):
        return {node.value}
    if isinstance(node, ast.IfExp):
        return _spelled_out(node.body) | _spelled_out(node.orelse)
    if isinstance(node, ast.JoinedStr):
        pattern = "".join(part.value if isinstance(part, ast.Constant) else "{" + ast.unparse(part.value) + "}"
                          for part in node.values)
        return PATTERNS[pattern]  # a new pattern must be spelled out above
    raise AssertionError(f"an action the test cannot read: {ast.unparse(node)}")


def recorded_actions() -> set[str]:
    """The actions `record(session, action, …)` is called with anywhere in the portal."""
    actions = set()
    for path in PORTAL.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and len(node.args) >= 2
                    and getattr(node.func, "id", getattr(node.func, "attr", None)) == "record"):
                actions |= _spelled_out(node.args[1])
    return actions


def test_every_recorded_action_has_a_label():
    actions = recorded_actions()
    assert len(actions) > 100
    assert actions - ACTION_LABELS.keys() == set()


def test_every_label_is_translated(app):
    with app.test_request_context(), force_locale("vi"):
        untranslated = [str(label) for label in [*ACTION_LABELS.values(), *OBJECT_LABELS.values()]
                        if str(label) == label._args[0]]
    assert untranslated == []
