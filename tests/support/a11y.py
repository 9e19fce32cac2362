"""axe-core on a page: no serious or critical violation is allowed."""

from __future__ import annotations

from axe_playwright_python.sync_playwright import Axe

_axe = Axe()


def assert_accessible(page) -> None:
    results = _axe.run(page)
    bad = [v for v in results.response["violations"] if v.get("impact") in {"serious", "critical"}]
    details = "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:5]}" for v in bad
    )
    assert not bad, f"accessibility violations on {page.url}:\n{details}"


#: axe-core itself, for a test that runs it inside its own script on every page (context.add_init_script)
AXE_SCRIPT = _axe.axe_script
