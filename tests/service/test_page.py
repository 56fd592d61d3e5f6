"""The web page in a real browser (Debian chromium driven by playwright) against `dangjian serve`."""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from dangjian.service.keys import KeyStore

from ..conftest import store_copy
from .live import live_server

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="module")
def server(tmp_path_factory, corpus_index, store):
    home = store_copy(store, corpus_index, tmp_path_factory.mktemp("page"))
    key = KeyStore(home).create("editor")
    with live_server(home, env=store.env()) as base:
        yield base + "/", key


@pytest.fixture(scope="module")
def browser():
    assert Path(CHROMIUM).exists(), "Debian chromium is needed (scripts/test.sh installs it)"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def test_ask_shows_the_answer_cited_passages_and_the_quote_in_its_document(server, browser):
    url, _ = server
    context = browser.new_context(locale="zh-CN")
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=url.rstrip("/"))
    page = context.new_page()
    page.goto(url)
    page.fill("#question", "十联工作法包括什么")
    page.press("#question", "Enter")
    expect(page.locator("#answer")).to_contain_text("[1]")
    first = page.locator(".passage").first
    expect(first.locator(".crumb")).to_contain_text("《")
    expect(first.locator("mark").first).to_be_visible()
    assert "组织联建" in " ".join(page.locator(".passage .quote").all_inner_texts())

    first.get_by_role("button", name="复制引用").click()
    expect(first.get_by_role("button", name="已复制")).to_be_visible()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("《") and "“" in copied

    quote = first.locator(".quote").inner_text()
    first.locator("a.open").click()
    hit = page.locator("#doc-text mark#hit")
    expect(hit).to_be_visible()
    assert hit.inner_text() == quote
    expect(hit).to_be_in_viewport()
    context.close()


def test_method_cards_are_listed_and_a_question_naming_one_shows_its_card_first(server, browser):
    url, _ = server
    page = browser.new_page()
    page.goto(url + "#/methods")
    ten = page.locator(".method").filter(has=page.locator("h3", has_text="物业管理十联工作法"))
    expect(ten).to_be_visible()
    assert ten.locator(".components li").all_inner_texts()[:2] == ["组织联建", "资源联享"]
    expect(ten).to_contain_text("相符")
    page.goto(url + "#/")
    page.fill("#question", "十联工作法具体怎么做？")
    page.press("#question", "Enter")
    card = page.locator("#method-card")
    expect(card).to_contain_text("物业管理十联工作法")
    assert card.evaluate("n => n.compareDocumentPosition(document.querySelector('.passage')) & 4")  # card first
    card.locator("a.open").click()
    expect(page.locator("#doc-text mark#hit")).to_contain_text("十联")
    page.close()


def test_a_new_worker_takes_a_quiz_and_is_scored_with_sources(server, browser):
    url, _ = server
    expected = json.loads(
        urllib.request.urlopen(
            urllib.request.Request(
                url + "api/v1/quiz",
                data=json.dumps({"topic": "十联工作法", "n": 4, "seed": 0}).encode(),
                headers={"Content-Type": "application/json"},
            )
        ).read()
    )
    page = browser.new_page()
    page.goto(url + "#/quiz")
    page.fill("#quiz-topic", "十联工作法")
    page.fill("#quiz-n", "4")
    page.click("#quiz-form button")
    expect(page.locator(".question")).to_have_count(4)
    for q in expected[:3]:  # three right, the last one left blank
        if q["options"]:
            page.locator(f"#q-{q['number']} input[value='{q['answer']}']").check()
        else:  # written with quotes and a full stop: still right (compared normalised)
            page.fill(f"#q-{q['number']} input", f"「{q['answer']}」。")
    page.click("#quiz-sheet button")
    expect(page.locator("#quiz-score")).to_have_text("得分：3 / 4")
    expect(page.locator("#q-4 .verdict.wrong")).to_contain_text("答案：" + expected[3]["answer"])
    page.locator("#q-1 .verdict a").click()
    expect(page.locator("#doc-text mark#hit")).to_contain_text(expected[0]["evidence"])
    page.close()


def test_nothing_relevant_and_unstated_facts_get_a_clear_message(server, browser):
    url, _ = server
    page = browser.new_page()
    page.goto(url)
    page.fill("#question", "红烧肉怎么做")
    page.press("#question", "Enter")
    expect(page.locator("#nothing")).to_contain_text("未在知识库中找到")
    page.fill("#question", "物业费每平方米多少钱？")
    page.press("#question", "Enter")
    expect(page.locator("#missing")).to_contain_text("没有写明")
    expect(page.locator(".passage").first).to_be_visible()
    page.close()


def test_the_page_fits_a_phone_screen(server, browser):
    url, _ = server
    page = browser.new_page(viewport={"width": 375, "height": 740})
    page.goto(url)
    page.fill("#question", "新来的社工要参加哪些培训？")
    page.press("#question", "Enter")
    expect(page.locator(".passage").first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 376
    page.close()


def test_an_editor_uploads_from_the_page_and_sees_the_report(server, browser, tmp_path):
    url, key = server
    sample = tmp_path / "议事厅.txt"
    sample.write_text("居民议事厅每周三晚上开放，由网格员主持，议题提前三天在小区公开栏公示。", encoding="utf-8")
    page = browser.new_page()
    page.goto(url + "#/upload")
    page.fill("#key", "dj_wrong_key")
    page.set_input_files("#files", str(sample))
    page.click("#upload-form button")
    expect(page.locator("#upload-result .error")).to_contain_text("API 密钥无效")
    page.fill("#key", key)
    page.click("#upload-form button")
    expect(page.locator("#upload-report")).to_contain_text("新增 1 篇", timeout=120_000)
    expect(page.locator("#upload-files")).to_contain_text("议事厅.txt")
    expect(page.locator("#upload-files .file-added")).to_contain_text("新增")
    page.goto(url + "#/")
    page.fill("#question", "居民议事厅什么时候开放？")
    page.press("#question", "Enter")
    expect(page.locator(".passage").first).to_contain_text("议事厅")
    page.close()


def test_a_worker_drafts_swaps_a_paragraph_and_downloads_a_docx_that_opens(server, browser, tmp_path):
    """Issue 23's drafting page: generate, swap a paragraph, drop one, download .docx and .md."""
    import docx

    url, _ = server
    page = browser.new_page()
    page.goto(url + "#/draft")
    page.fill("#draft-topic", "2022年社区党建工作总结")
    page.select_option("#draft-template", "年度工作总结")
    page.click("#draft-form button[type=submit]")
    sections = page.locator(".draft-section")
    expect(sections).to_have_count(4)
    first = sections.nth(0)
    expect(first.locator("h3")).to_have_text("一、工作完成情况")
    expect(first.locator(".draft-para")).to_have_count(3)
    assert "2022年工作完成情况" in first.locator(".from").first.inner_text()
    plan = sections.nth(3).locator(".from")
    assert all("2023年工作谋划" in t for t in plan.all_inner_texts())
    before = first.locator(".draft-para .quote").first.inner_text()
    refs = page.locator(".draft-refs li").count()
    first.locator("button.swap").first.click()
    after = page.locator(".draft-section").nth(0).locator(".draft-para .quote").first.inner_text()
    assert after != before and after.endswith("[1]")
    assert page.locator(".draft-refs li").count() == refs
    second = page.locator(".draft-section").nth(1)
    kept = second.locator(".draft-para").count()
    second.locator("button.drop").first.click()
    expect(page.locator(".draft-section").nth(1).locator(".draft-para")).to_have_count(kept - 1)
    with page.expect_download() as got:
        page.click("#draft-docx")
    path = tmp_path / "素材稿.docx"
    got.value.save_as(path)
    assert got.value.suggested_filename == "2022年社区党建工作总结.docx"
    paragraphs = [p.text for p in docx.Document(str(path)).paragraphs]
    assert paragraphs[0] == "2022年社区党建工作总结" and "一、工作完成情况" in paragraphs
    swapped = after.removesuffix("[1]").split("\n")[0]
    assert any(p.startswith(swapped) and p.endswith("[1]") for p in paragraphs)
    assert "参考来源" in paragraphs
    with page.expect_download() as got_md:
        page.click("#draft-md")
    markdown = Path(got_md.value.path()).read_text(encoding="utf-8")
    assert markdown.startswith("# 2022年社区党建工作总结") and swapped in markdown
    expect(page.locator("#draft-status")).to_have_text("已下载")
    page.close()


def test_method_cards_are_grouped_searchable_and_generic_ones_marked(server, browser):
    url, _ = server
    page = browser.new_page()
    page.goto(url + "#/methods")
    expect(page.locator(".group-title").first).to_have_text(re.compile("^工作法（"))
    expect(page.locator(".method h3").first).to_contain_text("物业管理十联工作法")
    generic = page.locator(".method").filter(has=page.locator("h3", has_text="学习强国"))
    expect(generic.locator(".tag")).to_have_text("通用，非本地工作法")
    page.fill("#methods-q", "文化联育")
    page.press("#methods-q", "Enter")
    expect(page.locator(".method")).to_have_count(1)
    page.close()


def test_the_quiz_page_downloads_the_training_sheet(server, browser, tmp_path):
    import docx

    url, _ = server
    page = browser.new_page()
    page.goto(url + "#/quiz")
    page.fill("#quiz-topic", "十联")
    page.fill("#quiz-n", "5")
    page.click("#quiz-form button[type=submit]")
    expect(page.locator(".question")).to_have_count(5)
    with page.expect_download() as got:
        page.click("#quiz-download")
    path = tmp_path / "试卷.docx"
    got.value.save_as(path)
    paragraphs = [p.text for p in docx.Document(str(path)).paragraphs]
    assert paragraphs[0] == "“十联”学习测试题" and "二、参考答案及出处" in paragraphs
    page.close()
