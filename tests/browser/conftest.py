"""Fixtures of the browser tests: more browser contexts (other devices); people logged in by the form."""

from __future__ import annotations

import pytest

from tests.browser.steps import log_in


@pytest.fixture
def new_context(browser, live_server):
    """Opens further browser contexts, each like another device with its own cookies; closes them after."""
    contexts = []

    def factory(**options):
        context = browser.new_context(base_url=live_server, locale="vi-VN", **options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context

    yield factory
    for context in contexts:
        context.close()


@pytest.fixture
def signed_in(page, make_user):
    """Creates a user holding `roles` and logs them in on `page`: signed_in(Role.ADMIN) -> User."""

    def factory(*roles, **user_kwargs):
        user = make_user(*roles, **user_kwargs)
        log_in(page, user.email)
        return user

    return factory
