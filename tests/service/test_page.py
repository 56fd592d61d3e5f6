"""The web page in a real browser (Debian chromium driven by playwright) against `dangjian serve`."""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path

import httpx
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


def test_a_conversation_keeps_its_turns_follow_ups_are_understood_and_history_reopens_it(server, browser):
    """Issue 25's page: a question and two follow-ups stay on screen with their citations and the
    “已理解为” line; 新对话 forgets the topic; the browser's list reopens the conversation."""
    url, _ = server
    page = browser.new_page()
    page.goto(url)
    turns = page.locator("#result .turn")
    for n, question in enumerate(["物业管理十联工作法包括哪些内容？", "第三项具体怎么做？", "它取得了哪些成效？"], 1):
        page.fill("#question", question)
        page.press("#question", "Enter")
        expect(turns).to_have_count(n)
        expect(turns.nth(n - 1).locator(".passage").first).to_be_visible()
        expect(page.locator("#question")).to_have_value("")  # the box is ready for the next one
    expect(turns.nth(2)).to_be_in_viewport()  # the newest turn is scrolled into view
    assert [t.locator(".turn-text").inner_text() for t in turns.all()] == [
        "物业管理十联工作法包括哪些内容？",
        "第三项具体怎么做？",
        "它取得了哪些成效？",
    ]
    expect(turns.nth(0).locator(".resolved")).to_have_count(0)
    expect(turns.nth(1).locator(".resolved")).to_contain_text("已理解为：服务联动具体怎么做？")
    expect(turns.nth(2).locator(".resolved")).to_contain_text("已理解为：物业管理十联工作法取得了哪些成效？")
    for turn in turns.all():  # every turn keeps its own answer, markers and cited passages
        expect(turn.locator("a.marker").first).to_be_visible()
        expect(turn.locator(".passage .crumb").first).to_contain_text("《")
    assert "组织联建" in turns.nth(0).locator(".turn-body").inner_text()
    assert page.locator("#answer").count() == 1 and page.locator("#passage-1").count() == 1  # ids stay unique
    expect(turns.nth(0).locator(".passage").first).to_be_hidden()  # earlier turns' passages are folded
    expect(turns.nth(2).locator(".passage").first).to_be_visible()
    turns.nth(0).locator("a.marker").first.click()  # a marker opens the passage of its own turn
    expect(turns.nth(0).locator(".passage.target")).to_be_visible()
    expect(page.locator(".passage.target")).to_have_count(1)
    first_id = page.evaluate("conversation.id")
    saved = json.loads(urllib.request.urlopen(url + f"api/v1/conversations/{first_id}").read())
    assert [t["question"] for t in saved["turns"]][1:] == ["第三项具体怎么做？", "它取得了哪些成效？"]

    page.focus("#new-conversation")  # by keyboard
    page.keyboard.press("Enter")
    expect(turns).to_have_count(0)
    expect(page.locator("#new-conversation")).to_be_hidden()
    page.fill("#question", "第三项具体怎么做？")  # no list in focus any more: asked as typed
    page.press("#question", "Enter")
    expect(turns).to_have_count(1)
    expect(turns.nth(0).locator(".turn-body")).not_to_be_empty()
    expect(turns.nth(0).locator(".resolved")).to_have_count(0)
    assert page.evaluate("conversation.id") != first_id

    page.reload()  # the list survives a reload; the first conversation reopens with its three turns
    page.locator("#history summary").click()
    items = page.locator("#history-list li")
    expect(items).to_have_count(2)
    expect(items.nth(1)).to_contain_text("物业管理十联工作法包括哪些内容？")
    items.nth(1).locator("button.open-conversation").click()
    expect(turns).to_have_count(3)
    expect(turns.nth(1).locator(".resolved")).to_contain_text("已理解为：服务联动具体怎么做？")
    expect(turns.nth(2).locator(".passage").first).to_contain_text("《")
    expect(turns.nth(2).locator("a.marker").first).to_be_visible()
    page.fill("#question", "那存在问题呢？")  # a follow-up to the reopened conversation
    page.press("#question", "Enter")
    expect(turns).to_have_count(4)
    expect(turns.nth(3).locator(".resolved")).to_contain_text("已理解为：")
    assert page.evaluate("conversation.id") == first_id

    # one gone on the service (deleted elsewhere): dropped from the list with a notice
    httpx.delete(url + f"api/v1/conversations/{first_id}")
    page.locator("#history summary").click()
    page.locator("#history-list li").filter(has_text="物业管理十联").locator("button.open-conversation").click()
    expect(page.locator("#page-notice")).to_contain_text("已从列表中移除")
    expect(page.locator("#history-list li")).to_have_count(1)
    page.locator("#history-list button.remove-conversation").click()  # and removable by hand
    expect(page.locator("#history")).to_be_hidden()
    assert page.evaluate("localStorage.getItem('dangjian-conversations')") == "[]"
    page.close()


def test_a_follow_up_to_a_conversation_gone_on_the_service_starts_anew_with_a_notice(server, browser):
    url, _ = server
    page = browser.new_page()
    page.goto(url)
    page.fill("#question", "物业管理十联工作法包括哪些内容？")
    page.press("#question", "Enter")
    expect(page.locator("#result .turn .passage").first).to_be_visible()
    gone = page.evaluate("conversation.id")
    assert httpx.delete(url + f"api/v1/conversations/{gone}").status_code == 204
    page.fill("#question", "第三项具体怎么做？")
    page.press("#question", "Enter")
    expect(page.locator("#page-notice")).to_contain_text("已开始新对话")
    expect(page.locator("#result .turn")).to_have_count(1)  # the old turns no longer belong to it
    expect(page.locator("#result .turn .resolved")).to_have_count(0)
    assert page.evaluate("conversation.id") not in (gone, None)
    page.close()


@pytest.mark.parametrize("width", [390, 1280])
def test_every_view_fits_phone_and_desktop_widths(server, browser, width):
    url, key = server
    page = browser.new_page(viewport={"width": width, "height": 800})
    fits = "document.documentElement.scrollWidth"
    page.goto(url)
    expect(page.locator("#examples button").first).to_be_visible()
    assert page.evaluate(fits) <= width
    page.fill("#question", "新来的社工要参加哪些培训？")
    page.press("#question", "Enter")
    expect(page.locator(".passage").first).to_be_visible()
    assert page.evaluate(fits) <= width
    for n, question in enumerate(["物业管理十联工作法包括哪些内容？", "第三项具体怎么做？"], 2):  # a conversation
        page.fill("#question", question)
        page.press("#question", "Enter")
        expect(page.locator("#result .turn")).to_have_count(n)
        expect(page.locator("#result .turn").nth(n - 1).locator(".passage").first).to_be_visible()
    expect(page.locator(".resolved")).to_be_visible()
    page.locator("#history summary").click()
    expect(page.locator("#history-list li").first).to_be_visible()
    assert page.evaluate(fits) <= width, "conversation"
    sign_in(page, key)
    for view, ready in [("#/library", "#lib-table"), ("#/methods", "#methods .method"), ("#/draft", "#draft-form")]:
        page.goto(url + view)
        expect(page.locator(ready).first).to_be_visible()
        assert page.evaluate(fits) <= width, view
    page.goto(url + "#/quiz")
    page.fill("#quiz-topic", "十联工作法")
    page.fill("#quiz-n", "5")
    page.click("#quiz-form button[type=submit]")
    expect(page.locator(".question")).to_have_count(5)
    assert page.evaluate(fits) <= width
    for q in page.locator(".question").all():  # the question text stays inside its box
        box, text = q.bounding_box(), q.locator("legend").bounding_box()
        assert text["x"] >= box["x"] and text["x"] + text["width"] <= box["x"] + box["width"] + 0.5
    page.close()


def sign_in(page, key: str) -> None:
    page.click("#sign-in")
    page.fill("#key", key)
    page.click("#key-panel button[type=submit]")


def test_an_editor_uploads_a_batch_from_the_library_and_watches_the_job(server, browser, tmp_path):
    url, key = server
    files = []
    for name, text in [
        ("议事厅.txt", "居民议事厅每周三晚上开放，由网格员主持，议题提前三天在小区公开栏公示。"),
        ("楼道长.md", "# 楼道长制度\n\n每栋楼推选一名楼道长，负责收集居民诉求并每月向社区党委反馈。"),
        ("坏文件.exe", "MZ not a document"),
    ]:
        files.append(tmp_path / name)
        files[-1].write_text(text, encoding="utf-8")
    page = browser.new_page()
    page.goto(url + "#/upload")
    expect(page.locator("#upload-panel .reader-only")).to_be_visible()  # says a key is needed, and where
    sign_in(page, key)
    expect(page.locator("#who")).to_contain_text("编辑")
    expect(page.locator("#upload-panel .reader-only")).to_be_hidden()
    page.set_input_files("#files", [str(f) for f in files])
    page.click("#upload-form button")
    report = page.locator("#upload-report")
    expect(report).to_contain_text("新增 2 篇", timeout=120_000)
    expect(page.locator("#upload-files .file-added")).to_have_count(2)
    expect(page.locator("#upload-files .file-skipped, #upload-files .file-failed")).to_contain_text("坏文件.exe")
    expect(page.locator("#lib-table")).to_contain_text("楼道长制度")
    page.goto(url + "#/")
    page.fill("#question", "居民议事厅什么时候开放？")
    page.press("#question", "Enter")
    expect(page.locator(".passage").first).to_contain_text("议事厅")
    page.close()


def test_a_wrong_key_is_reported_and_never_blocks_reading(server, browser):
    url, key = server
    page = browser.new_page()
    page.goto(url)
    page.focus("#sign-in")  # by keyboard alone: open the panel, type, Enter
    page.keyboard.press("Enter")
    expect(page.locator("#key")).to_be_focused()
    page.keyboard.type("dj_wrong_key")
    page.keyboard.press("Enter")
    expect(page.locator("#key-message")).to_contain_text("密钥无效")
    expect(page.locator("#who")).to_have_text("公开阅读（未登录）")
    assert page.evaluate("localStorage.getItem('dangjian-key')") is None
    page.fill("#question", "十联工作法包括什么")
    page.press("#question", "Enter")
    expect(page.locator("#answer")).to_contain_text("[1]")
    # a key saved earlier and revoked since: dropped with a notice, and questions still answer
    page.evaluate("localStorage.setItem('dangjian-key', 'dj_revoked_key')")
    page.reload()
    expect(page.locator("#page-notice")).to_contain_text("已改为公开阅读")
    page.fill("#question", "十联工作法包括什么")
    page.press("#question", "Enter")
    expect(page.locator("#answer")).to_contain_text("[1]")
    # a good key shows its role in the header and is removed in one click
    page.click("#page-notice button")
    sign_in(page, key)
    expect(page.locator("#who")).to_contain_text("已登录：编辑")
    page.click("#sign-out")
    expect(page.locator("#who")).to_have_text("公开阅读（未登录）")
    assert page.evaluate("localStorage.getItem('dangjian-key')") is None
    page.close()


def test_home_shows_what_the_knowledge_base_holds_and_examples_that_answer(server, browser):
    url, _ = server
    health = json.loads(urllib.request.urlopen(url + "api/v1/health").read())
    page = browser.new_page()
    page.goto(url)
    expect(page.locator("#stat-documents")).to_have_text(str(health["documents"]))
    expect(page.locator("#stat-passages")).to_have_text(str(health["passages"]))
    expect(page.locator("#home-collections")).to_contain_text("default")
    expect(page.locator("#home-latest li").first).to_contain_text("《")
    examples = page.locator("#examples button")
    expect(examples.first).to_be_visible()
    assert examples.count() >= 3 and "十联工作法" in examples.first.inner_text()
    examples.nth(0).click()
    expect(page.locator("#answer")).to_contain_text("[1]")
    expect(page.locator("#home")).to_be_hidden()
    for i in range(1, examples.count()):  # every example answers with a cited passage
        page.click("#nav-ask")
        page.locator("#examples button").nth(i).click()
        expect(page.locator(".passage").first).to_be_visible()
        expect(page.locator("#nothing")).to_have_count(0)
    page.close()


def test_the_library_lists_filters_opens_and_an_editor_deletes(server, browser, tmp_path):
    url, key = server
    auth = {"Authorization": f"Bearer {key}"}
    sent = httpx.post(
        url + "api/v1/documents",
        headers=auth,
        files=[("files", ("临时通知.txt", "一、会议安排\n临时通知：本周五下午召开支部委员会。".encode()))],
        data={"collection": "临时"},
    ).json()["job"]
    while sent["state"] in ("queued", "running"):
        sent = httpx.get(url + f"api/v1/jobs/{sent['id']}", headers=auth).json()
    assert sent["state"] == "done", sent
    page = browser.new_page()
    page.goto(url + "#/library")
    rows = page.locator("#lib-table tbody tr")
    expect(rows.first).to_be_visible()
    total = rows.count()
    cells = rows.first.locator("td")
    labels = [cells.nth(i).get_attribute("data-label") for i in range(6)]
    assert labels == ["标题", "知识库", "类型", "年份", "段落", "加入日期"]
    assert re.fullmatch(r"\d+", cells.nth(4).inner_text())  # passages
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", cells.nth(5).inner_text())  # added on
    expect(page.locator("#lib-table button.delete")).to_have_count(0)  # readers get no delete button
    page.fill("#lib-q", "十联")
    expect(rows).to_have_count(1)
    page.fill("#lib-q", "")
    page.select_option("#lib-collection", "临时")
    expect(rows).to_have_count(1)
    rows.first.locator("a").click()
    expect(page.locator("#doc-title")).to_have_text("《临时通知》")
    expect(page.locator("#doc-text")).to_contain_text("本周五下午")
    page.go_back()  # the filters are kept
    expect(page.locator("#lib-collection")).to_have_value("临时")
    page.select_option("#lib-collection", "")
    page.fill("#lib-q", "工作完成情况")
    expect(rows).to_have_count(1)
    rows.first.locator("a").click()
    toc = page.locator("#doc-toc li a")
    expect(toc.first).to_be_visible()
    assert toc.count() > 10 and any(t.startswith("二、") for t in toc.all_inner_texts())
    sign_in(page, key)
    page.goto(url + "#/library")
    page.fill("#lib-q", "")
    page.select_option("#lib-collection", "临时")
    row = page.locator("#lib-table tbody tr").filter(has_text="临时通知")
    row.locator("button.reingest").click()
    expect(page.locator("#upload-report")).to_contain_text("重新导入《临时通知》完成", timeout=60_000)
    expect(page.locator("#upload-report")).to_contain_text("未变化 1 篇")
    row.locator("button.delete").click()
    row.locator("button.confirm-delete").click()
    expect(page.locator("#page-notice")).to_contain_text("已删除《临时通知》")
    page.select_option("#lib-collection", "")
    expect(page.locator("#lib-table tbody tr")).to_have_count(total - 1)
    listed = httpx.get(url + "api/v1/documents", params={"limit": 500}).json()["documents"]
    assert all(d["title"] != "临时通知" for d in listed)
    page.close()


def test_citations_read_as_document_section_page_with_the_numbers_folded_away(server, browser):
    url, _ = server
    page = browser.new_page()
    page.goto(url)
    page.fill("#question", "党员教育培训有哪些内容？")
    page.press("#question", "Enter")
    card = page.locator(".passage").first
    expect(card).to_be_visible()
    crumbs = " ".join(page.locator(".passage .crumb").all_inner_texts())
    assert "》 › " in crumbs and "第 " in crumbs and " 页" in crumbs  # section path, and the page of the PDF
    tech = card.locator("details.tech")
    expect(tech.locator("div")).to_be_hidden()
    assert "得分" not in card.inner_text()
    tech.locator("summary").click()
    expect(tech).to_contain_text("得分")
    page.close()


def test_api_docs_render_with_no_internet(server, browser):
    url, _ = server
    context = browser.new_context()
    blocked = []

    def only_loopback(route):
        if route.request.url.startswith(("http://127.0.0.1", "http://localhost")):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    context.route("**/*", only_loopback)
    page = context.new_page()
    page.goto(url + "docs")
    expect(page.locator(".opblock").first).to_be_visible()
    assert page.locator(".opblock").count() >= 15
    expect(page.locator(".opblock-summary-path").filter(has_text="/api/v1/ask").first).to_be_visible()
    page.goto(url + "redoc")
    expect(page.get_by_text("回答问题（摘录原文，逐句标注出处）").first).to_be_visible()
    assert blocked == []  # nothing tried to leave the machine
    context.close()


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
