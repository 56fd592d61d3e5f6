"""Normalisation and the private jieba tokenizer."""

from __future__ import annotations

import jieba
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dangjian.ingest import load_document
from dangjian.ingest.names import find_names
from dangjian.text import Tokenizer, dictionary_hash, domain_words, may_contain, normalize, searchable_text

from .conftest import SEED

REQUIRED_WORDS = [
    "五融四零工作法",
    "物业管理十联工作法",
    "六百工作法",
    "初心驿站",
    "红色物业",
    "全科社工",
    "共同缔造",
    "党群服务中心",
]


@given(st.text())
def test_normalize_keeps_length(text):
    assert len(normalize(text)) == len(text)


def test_normalize_width_and_script():
    assert normalize("ＡＢＣ１２３，（一）　黨組織覆蓋") == "ABC123,(一) 党组织覆盖"


@pytest.fixture(scope="module")
def tokenizer():
    return Tokenizer()


@pytest.mark.parametrize("word", REQUIRED_WORDS)
def test_domain_words_come_out_as_one_token(tokenizer, word):
    for context in (f"{word}", f"我们推行{word}，效果很好", f"依托{word}开展服务"):
        assert word in tokenizer.cut(context), (context, tokenizer.cut(context))
    assert word in tokenizer.tokenize(f"社区推行{word}")


def test_redaction_marks_are_never_tokens(tokenizer):
    tokens = tokenizer.tokenize("***社区**次，*期活动，＊＊等社区，党建引领")
    assert tokens and not any("*" in t or "＊" in t for t in tokens)
    assert "社区" in tokens and "党建引领" in tokens


def test_punctuation_and_stop_words_are_dropped(tokenizer):
    tokens = tokenizer.tokenize("十联工作法是什么？包括哪些内容！")
    assert "十联工作法" in tokens
    assert not {"是", "什么", "哪些", "？", "！", "?", "!"} & set(tokens)


def test_traditional_text_tokenizes_as_simplified(tokenizer):
    assert tokenizer.tokenize("黨群服務中心") == tokenizer.tokenize("党群服务中心")


def test_corpus_names_join_the_private_dictionary_only():
    text = SEED.read_text(encoding="utf-8")
    names = find_names(text)
    global_freq = dict(jieba.dt.FREQ) if jieba.dt.initialized else None
    sentence = "建立人才资源库，做到先动手不空手"
    before = jieba.lcut(sentence)
    assert "人才资源库" in names and "人才资源库" not in domain_words()
    tokenizer = Tokenizer(extra_words=names)
    assert {"人才资源库", "先动手不空手"} <= set(tokenizer.cut(sentence))
    assert "人才资源库" not in Tokenizer().cut(sentence)  # only the tokenizer that was given the names
    assert jieba.lcut(sentence) == before
    assert "人才资源库" not in before
    if global_freq is not None:
        assert dict(jieba.dt.FREQ) == global_freq
    assert "人才资源库" not in jieba.dt.FREQ


def test_seed_names_found():
    names = find_names(SEED.read_text(encoding="utf-8"))
    for expected in [
        "五融四零工作法",
        "物业管理十联工作法",
        "六百工作法",
        "一社一品",
        "书记沙龙",
        "初心驿站",
        "七个一",
        "时间银行",
    ]:
        assert expected in names
    # ordinary quoted words and long quoted enumerations are not names
    for not_a_name in [
        "好",
        "要我做",
        "两委",
        "三方",
        "组织联建、资源联享、服务联动、矛盾联处、安全联防、疫情联控、活动联办、文化联育、环境联优、发展联促",
    ]:
        assert not_a_name not in names


def test_dictionary_hash_tracks_the_words():
    base = dictionary_hash()
    assert dictionary_hash(["人才资源库"]) != base
    assert dictionary_hash(["人才资源库"]) == dictionary_hash(["人才资源库"])
    assert set(REQUIRED_WORDS) <= set(domain_words())


def test_seed_document_tokens_have_no_redactions(tokenizer):
    doc = load_document(SEED)
    tokens = tokenizer.tokenize(doc.text)
    assert len(tokens) > 1000 and not any("*" in t for t in tokens)


def test_searchable_text_leaves_out_the_english_lines_of_chinese_text():
    bilingual = (
        "第四条　党员享有下列权利：\n\nArticle 4: Party members shall enjoy the right to:\n\n（一）参加党的有关会议。"
    )
    assert searchable_text(bilingual) == "第四条　党员享有下列权利：\n\n\n（一）参加党的有关会议。"
    kept = "推进 CPU 与 GPU 适配\n1 | 2 | 3\nWi-Fi 6"  # short Latin runs, numbers: kept
    assert searchable_text(kept) == kept
    english = "Party members shall enjoy\nthe right to vote"  # no Chinese at all: kept whole
    assert searchable_text(english) == english


def test_may_contain_is_false_only_when_no_form_of_the_first_chinese_character_is_there():
    for raw, folded in [("黨的建設", "党的建设"), ("ＡＢＣ党员", "abc党员"), ("abc", "ab"), ("业主委员会", "委员")]:
        assert folded in normalize(raw).lower() and may_contain(raw, folded)
    assert not may_contain("居民议事厅", "党的")
    assert may_contain("居民党", "党的")  # a maybe: the full check follows
