"""The Space in a real browser: Debian's chromium driven by playwright (no browser download), offline.

Skipped only when chromium is missing outside CI (`make browser` installs it); in CI (CI=true) it fails instead.
"""

import os
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import REPO_ROOT, TINY_TEXTS
from space_helpers import EXAMPLES, model_with_results, running_space

ARTIFACTS = REPO_ROOT / "test-artifacts"
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Any host but 127.0.0.1 fails to resolve: nothing leaves the machine, and the request log still shows it.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
TEXT = "What a WONDERFUL lovely film!! 😀 Отличный фильм"


@pytest.fixture(scope="module")
def chromium() -> str:
    path = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    if path is None:
        reason = "Debian's chromium is not installed (`make browser` installs it with apt)"
        if os.environ.get("CI", "").lower() in ("true", "1"):
            pytest.fail(f"{reason}; CI must run the browser test")
        pytest.skip(reason)
    return path


@pytest.fixture(scope="module")
def space_url(tiny_model_dir, tmp_path_factory):
    model = model_with_results(tiny_model_dir, tmp_path_factory.mktemp("space-browser") / "model")
    with running_space(model, tmp_path_factory.mktemp("logs") / "app.log") as url:
        yield url


@pytest.fixture(scope="module")
def expected_label(tiny_model_dir) -> str:
    from transformers import pipeline

    return pipeline("text-classification", model=str(tiny_model_dir), trust_remote_code=True)(TEXT)[0][
        "label"
    ]


def test_type_click_and_see_the_label_and_highlighted_tokens(chromium, space_url, expected_label):
    from playwright.sync_api import expect, sync_playwright

    requested: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.on("request", lambda request: requested.append(request.url))
            page.on("websocket", lambda socket: requested.append(socket.url))
            page.goto(space_url, wait_until="networkidle")

            footer = page.locator("#model-footer")
            expect(footer).to_contain_text("Test accuracy: 87.5%")
            expect(footer).to_contain_text("Labels: negative, positive")
            expect(page.get_by_text(EXAMPLES[0], exact=True)).to_be_visible()

            page.locator("#text textarea").fill(TEXT)
            page.locator("#classify").click()
            expect(page.locator('#label [data-testid="label-output-value"]')).to_have_text(expected_label)
            for name in TINY_TEXTS:  # every class with its probability
                expect(page.locator("#label")).to_contain_text(name)
            highlighted = page.locator("#tokens .token.highlighted")
            expect(highlighted.first).to_be_visible()
            tokens = [text.strip() for text in highlighted.all_inner_texts()]
            assert {"What", "WONDERFUL", "lovely", "film", "😀"} <= set(tokens)
            expect(page.locator("#tokens")).to_contain_text("attention weights")
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=ARTIFACTS / "space.png", full_page=True)

            # A bad input: the error reaches the page, and the next request works.
            page.locator("#text textarea").fill("   ")
            page.locator("#classify").click()
            expect(page.locator(".toast-body").filter(has_text="The text is only whitespace")).to_be_visible()
            page.locator("#text textarea").fill(" ".join(["great"] * 300))
            page.locator("#classify").click()
            expect(page.locator("#note")).to_contain_text("Truncated: the text has 300 tokens")
        finally:
            browser.close()

    assert requested, "the page made no requests at all"
    outside = [
        url
        for url in requested
        if urlsplit(url).scheme not in ("data", "blob") and urlsplit(url).hostname not in LOCAL_HOSTS
    ]
    assert not outside, f"the page requested outside 127.0.0.1: {outside}"
