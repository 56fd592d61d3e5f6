"""The shared real corpora ingest without error, with the structure they have."""

from __future__ import annotations

import re

import pytest

from ..fakes import fake_kb

ARTICLE_START = re.compile(r"(?:^|\n)第[一二三四五六七八九十百千零〇两0-9]+条(?:之[一二三四五六七八九十]+)?[\s\u3000]")


@pytest.fixture(scope="module")
def laws(shared_data, tmp_path_factory):
    kb = fake_kb(tmp_path_factory.mktemp("laws") / "idx")
    report = kb.ingest([shared_data / "scale" / "lawrefbook_laws"])
    return kb, report


def test_party_gov_ingests_without_error(shared_data, tmp_path):
    kb = fake_kb(tmp_path / "idx")
    report = kb.ingest([shared_data / "party_gov"])
    assert report.skipped == []
    assert len(report.added) == 72 + 16 + 1
    docs = {d.title: (d, s) for d, s in kb.documents()}
    charter, sections = docs["中国共产党章程"]
    articles = [s for s in sections if s.style == "tiao"]
    assert len(articles) == 55
    assert articles[0].path == ["第一章　党员", "第一条"]
    assert articles[-1].path[-1] == "第五十五条"
    # Its articles interleave an English translation; a Latin word counts as one character, so
    # an article's list stays in one passage: 第二十条 lists the Congress's six functions.
    passages = [p for p in kb.open().iter_passages() if p.title == "中国共产党章程"]
    article_20 = [p.text for p in passages if p.section_path[-1:] == ["第二十条"]]
    assert len(article_20) == 1 and "（一）听取" in article_20[0] and "（六）选举中央纪律检查委员会" in article_20[0]
    # A chapter heading followed by its translation is not a passage of its own.
    assert not [p.text for p in passages if p.text.startswith("第七章")]


def test_all_laws_ingest_without_error(laws):
    _, report = laws
    # Only the tiny Hugo ``_index.md`` files (front matter, no text) are skipped.
    assert report.skipped and all(s.path.endswith("_index.md") and s.code == "empty_file" for s in report.skipped)
    assert len(report.added) + len(report.duplicates) == 1584 - len(report.skipped)
    assert report.passages > 60_000


def test_each_article_is_its_own_unit_under_its_chapter(laws):
    kb, _ = laws
    checked = 0
    passages_by_doc: dict[str, list] = {}
    for p in kb.passages():
        passages_by_doc.setdefault(p.doc_id, []).append(p)
    for doc, sections in kb.documents():
        by_index = {s.index: s for s in sections}
        for p in passages_by_doc.get(doc.doc_id, []):
            # No passage holds the start of a second article.
            assert len(ARTICLE_START.findall(p.text)) <= 1, (doc.title, p.text[:80])
            section = sections[p.section_index]
            if ARTICLE_START.match(p.text):
                assert section.style == "tiao" and p.section_path[-1] == section.heading, (doc.title, p.section_path)
                # An article sits under the heading (编/章/节 or a marked heading) that precedes it,
                # never inside another article or an item.
                parent = by_index[section.parent]
                assert parent.kind in ("title", "heading") and parent.style != "tiao", (doc.title, p.section_path)
                checked += 1
    assert checked > 50_000
