"""The browsable API docs (Swagger UI, served from the sidecar package, no CDN) render under the
Content-Security-Policy: the `page` fixture fails the test on any violation the browser reports."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("viewport", ["desktop"], indirect=True)
def test_the_api_docs_render_their_operations(page: Page):
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    page.goto("/api/v1/docs/")

    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Flux API")
    expect(page.locator(".opblock-summary-path", has_text="/api/v1/auth/token/").first).to_be_visible()
    # The stylesheet and the nonce'd inline style applied: the page background is #fafafa.
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(250, 250, 250)"
    assert errors == []
