"""Using the index: search, ask, methods, quiz, draft."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .base import CONTEXT, INDEX_OPTION, JSON_OPTION, dump, fail, handle_errors, load_settings, main, open_kb


@main.command(context_settings=CONTEXT)
@INDEX_OPTION
@click.argument("name", required=False)
@click.option("--collection", multiple=True, help="只看这些知识库（集合）中的文档，可重复")
@JSON_OPTION
@handle_errors
def methods(index_dir: Path | None, name: str | None, collection: tuple[str, ...], as_json: bool) -> None:
    """列出文档中的工作法、机制和品牌（工作法卡片），按类分组、讲得多的在前；给出名称（或简称）则只看这一张。"""
    from ..errors import DangjianError
    from ..methods import find_card, group_cards

    cards = _method_cards(open_kb(index_dir), collection)
    if name:
        card = find_card(cards, name)
        if card is None:
            raise DangjianError(
                f"知识库中没有名为“{name}”的工作法（可用 dangjian methods 查看全部）", code="method_not_found"
            )
        cards = [card]
    if as_json:
        dump([c.to_dict() for c in cards])
        return
    group = None
    for card in sorted(cards, key=lambda c: (c.generic, list(group_cards(cards)).index(c.group))):
        if not name and card.group != group:
            group = card.group
            click.echo(f"\n== {group} ==")
        alias = f"（又称 {'、'.join(card.aliases)}）" if card.aliases else ""
        click.echo(f"【{card.name}】{alias} {card.kind}，{len(card.documents)} 篇文档提到 {len(card.mentions)} 次")
        if card.components:
            click.echo(f"  组成：{'、'.join(c.text for c in card.components)}")
        if card.count_note:
            click.echo(f"  {card.count_note}")
        if name:
            click.echo(f"  出处：{card.definition.citation()}")
            click.echo(f"  原文：{card.definition.quote}")
    if not name:
        click.echo(f"共 {len(cards)} 个")


@main.command(context_settings=CONTEXT)
@INDEX_OPTION
@click.option("--topic", default="", help="主题：工作法名称或相关词语（默认全部工作法）")
@click.option("--n", "count", default=10, show_default=True, type=int, help="题目数量（1–100）")
@click.option("--seed", default=0, show_default=True, type=int, help="随机种子：相同的种子出相同的题")
@click.option("--collection", multiple=True, help="只用这些知识库（集合）中的文档，可重复")
@click.option("--output", type=click.Path(path_type=Path), help="另存为可打印的试卷（.docx）：先试题，后答案和出处")
@JSON_OPTION
@handle_errors
def quiz(
    index_dir: Path | None, topic: str, count: int, seed: int, collection: tuple[str, ...], output, as_json: bool
) -> None:
    """为新社区工作者出题：填空、选择、判断，每题附答案和原文出处；主题可以是工作法、文档或章节（如 存在问题）。"""
    from ..quiz import make_quiz, quiz_documents

    kb = open_kb(index_dir)
    searcher = kb.searcher()
    cards = _method_cards(kb, collection, searcher)
    documents = quiz_documents(searcher.docs, searcher.document, cards, topic, collections=collection or None)
    questions = make_quiz(cards, topic=topic, n=count, seed=seed, documents=documents)
    if output is not None:
        from ..quiz_sheet import save_sheet

        save_sheet(questions, output, topic)
        click.echo(f"已生成试卷 {output}：{len(questions)} 题")
        return
    if as_json:
        dump([q.to_dict() for q in questions])
        return
    for q in questions:
        click.echo(f"{q.number}. {q.question}")
        for letter, option in zip("ABCD", q.options if q.kind == "choose_method" else [], strict=False):
            click.echo(f"   {letter}. {option}")
    click.echo("\n答案：")
    for q in questions:
        click.echo(f"{q.number}. {q.answer}（依据：“{q.evidence}”，{q.source.citation()}）")


@main.command(context_settings=CONTEXT)
@INDEX_OPTION
@click.option("--topic", required=True, help="材料题目，如“2023年社区党建工作总结”")
@click.option("--template", default=None, help="模板：年度工作总结（默认）、经验材料、汇报提纲")
@click.option("--outline", "outline_file", type=click.Path(path_type=Path), help="自己的提纲：文本文件，每行一个标题")
@click.option("--output", required=True, type=click.Path(path_type=Path), help="输出文件：.docx（公文格式）或 .md")
@click.option("--collection", multiple=True, help="只用这些知识库（集合）中的文档，可重复")
@click.option("--per-section", default=3, show_default=True, type=click.IntRange(1, 10), help="每部分最多几段素材")
@click.option("--year", type=click.IntRange(1900, 2100), help="材料所讲的年份（默认取题目中的年份）")
@handle_errors
def draft(index_dir, topic, template, outline_file, output, collection, per_section, year) -> None:
    """按模板或提纲从已有材料中摘编素材稿，每段注明出处，导出 Word（公文格式）或 Markdown。"""
    from ..draft import make_draft
    from ..errors import DangjianError

    headings = None
    if outline_file:
        try:
            headings = outline_file.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise DangjianError(f"读不了提纲文件 {outline_file}（{exc}）；请用 UTF-8 文本，每行一个标题") from None
    from ..llm import configured_model

    result = make_draft(
        open_kb(index_dir),
        topic,
        template=template,
        headings=headings,
        filters=_filters(collection, (), (), ()),
        per_section=per_section,
        model=configured_model(load_settings()),
        year=year,
    )
    result.save(output)
    paragraphs = sum(len(s.paragraphs) for s in result.sections)
    click.echo(f"已生成 {output}：{len(result.sections)} 个部分，{paragraphs} 段素材，{len(result.references)} 条出处")
    rewritten = [s for s in result.sections if s.prose]
    if rewritten:
        flagged = sum(s.prose.unsupported for s in rewritten)
        click.echo(f"大模型改写了 {len(rewritten)} 个部分；{flagged} 句没有得到所引素材的支持，已标“【未核实】”")
    for s in result.sections:
        if s.note:
            click.echo(f"{s.heading}：{s.note}")


def _method_cards(kb, collections, searcher=None):
    """The method cards of the documents in ``collections`` (all when empty), from the catalogue
    the service uses too."""
    from ..catalogue import Catalogue

    if searcher is not None:
        docs, version = searcher.docs, searcher.version
    else:
        version = kb.open()
        docs = {d["doc_id"]: d for d in version.iter_document_info()}
    return Catalogue(kb).cards(docs, version.name, collections=collections or None)


def _filters(collection, doc, doc_type, year, role=()):
    from ..ingest.roles import check_roles
    from ..schema import Filters

    return Filters(
        collections=list(collection) or None,
        doc_ids=list(doc) or None,
        types=list(doc_type) or None,
        years=list(year) or None,
        roles=check_roles(list(role)),
    )


FILTER_OPTIONS = [
    click.option("--collection", multiple=True, help="只在这些知识库（集合）中检索，可重复"),
    click.option("--doc", multiple=True, help="只在这些文档编号中检索，可重复"),
    click.option("--type", "doc_type", multiple=True, help="只检索这些类型的文档（如 工作总结），可重复"),
    click.option("--year", multiple=True, type=int, help="只检索这些年份的文档，可重复"),
    click.option(
        "--role",
        multiple=True,
        help="只检索这些作用的章节：完成情况、主要做法、成效、特色亮点、存在问题、原因、工作谋划、经验启示、基本情况，可重复",
    ),
]


def _with_filters(func):
    for option in reversed(FILTER_OPTIONS):
        func = option(func)
    return func


def _print_hit(hit) -> None:
    scores = f"得分 {hit.score:.4f}"
    click.echo(f"[{hit.rank}] {hit.citation}（{scores}）")
    text = hit.text
    marked, pos = [], 0
    for s, e in hit.highlights:
        marked.append(text[pos:s])
        marked.append(click.style(text[s:e], bold=True, fg="red"))
        pos = e
    marked.append(text[pos:])
    click.echo("    " + "".join(marked).replace("\n", "\n    "))


@main.command(context_settings=CONTEXT)
@click.argument("query", required=False)
@click.option("-k", "k", type=click.IntRange(1, 50), help="返回多少段（默认 DANGJIAN_TOP_K，即 5）")
@click.option(
    "--queries-file",
    type=click.File("r", encoding="utf-8"),
    help="批量检索：每行一个问题；配合 --json 每行输出一个结果",
)
@INDEX_OPTION
@JSON_OPTION
@_with_filters
@handle_errors
def search(query, k, queries_file, index_dir, as_json, collection, doc, doc_type, year, role) -> None:
    """检索与问题最相关的原文段落，给出出处（文档、章节、页码、段落）。"""
    if (query is None) == (queries_file is None):
        fail("请给出一个问题，或用 --queries-file 指定问题文件（二者选一）", 2)
    settings = load_settings()
    kb = open_kb(index_dir)
    k = k or settings.top_k
    filters = _filters(collection, doc, doc_type, year, role)
    if queries_file is not None:
        from ..errors import DangjianError

        for line in queries_file:
            question = line.rstrip("\n")
            try:
                result = kb.search(question, k=k, filters=filters).to_dict()
            except DangjianError as exc:
                result = {"query": question, "abstained": True, "hits": [], "error": exc.message}
            if as_json:
                click.echo(json.dumps(result, ensure_ascii=False))
            else:
                click.echo(f"{question}\t" + ("（未找到）" if result["abstained"] else result["hits"][0]["citation"]))
        return
    result = kb.search(query, k=k, filters=filters)
    if as_json:
        dump(result.to_dict())
        return
    from ..answer import NOT_FOUND, not_stated

    if result.missing:
        click.echo(not_stated(result.missing))
    elif result.abstained:
        click.echo(NOT_FOUND)
        return
    for hit in result.hits or result.related:
        _print_hit(hit)
    click.echo(f"（用时 {result.took_ms:.0f} 毫秒）")


@main.command(context_settings=CONTEXT)
@click.argument("question")
@click.option("-k", "k", type=click.IntRange(1, 50), help="参考多少段（默认 DANGJIAN_TOP_K，即 5）")
@INDEX_OPTION
@JSON_OPTION
@_with_filters
@handle_errors
def ask(question, k, index_dir, as_json, collection, doc, doc_type, year, role) -> None:
    """回答问题：摘取最相关的原文句子，每句标注出处编号（配置了大模型时由大模型作答并逐句核对）。"""
    from ..llm import configured_model
    from ..methods import named_in

    settings = load_settings()
    kb = open_kb(index_dir)
    model = configured_model(settings)
    searcher = kb.searcher()
    filters = _filters(collection, doc, doc_type, year, role)
    answer = kb.ask(question, k=k or settings.top_k, filters=filters, model=model, searcher=searcher)
    card = named_in(_method_cards(kb, collection, searcher), question)
    if as_json:
        dump({**answer.to_dict(), "method": card.to_dict() if card else None})
        return
    _print_answer(answer, card)


def _print_answer(answer, card) -> None:
    if card:  # the method the question names comes first
        parts = "：" + "、".join(c.text for c in card.components) if card.components else ""
        click.echo(f"【{card.name}】{card.kind}{parts}（{card.definition.citation()}）\n")
    if answer.fallback:
        click.echo(answer.fallback)
    click.echo(answer.answer)
    if answer.citations:
        click.echo("\n出处：")
        for c in answer.citations:
            click.echo(f"[{c.marker}] {c.citation}（第 {c.start}–{c.end} 字）")
    elif answer.abstained:
        for hit in answer.hits:  # related passages that do not state what was asked
            _print_hit(hit)


QUIT = ("退出", "exit", "quit")


@main.command(context_settings=CONTEXT)
@click.option("-k", "k", type=click.IntRange(1, 50), help="参考多少段（默认 DANGJIAN_TOP_K，即 5）")
@INDEX_OPTION
@click.option("--collection", multiple=True, help="只看这些知识库（集合）中的文档，可重复")
@handle_errors
def chat(k, index_dir, collection) -> None:
    """连续问答：每行一个问题，追问（它、这个、第三项、那……呢、2023年的呢）按前文理解，
    并显示“已理解为：……”。输入“退出”或按 Ctrl-D 结束。也可从标准输入读入多行问题。"""
    from ..conversation import stored_turn
    from ..errors import DangjianError
    from ..followup import ask_followup
    from ..llm import configured_model
    from ..methods import named_in

    settings = load_settings()
    kb = open_kb(index_dir)
    model = configured_model(settings)
    filters = _filters(collection, (), (), ())
    interactive = click.get_text_stream("stdin").isatty()
    turns: list[dict] = []
    if interactive:
        click.echo("请提问（追问会按前文理解；输入“退出”结束）。")
    while True:
        try:
            line = input("问：" if interactive else "")
        except EOFError:
            break
        question = line.strip()
        if not question:
            continue
        if question in QUIT:
            break
        searcher = kb.searcher()
        try:
            answer, found = ask_followup(
                kb, question, turns, k=k or settings.top_k, filters=filters, model=model, searcher=searcher
            )
        except DangjianError as exc:  # a bad question ends nothing: say why and take the next
            click.echo(f"错误：{exc.message}", err=True)
            continue
        resolved = found.text if found.resolved and found.text != question else None
        if not interactive:
            click.echo(f"问：{question}")
        if resolved:
            click.echo(f"已理解为：{resolved}")
        _print_answer(answer, named_in(_method_cards(kb, collection, searcher), resolved or question))
        click.echo("")
        citations = [c.to_dict() for c in answer.citations]
        turns.append(stored_turn(question, resolved, answer.answer, answer.layout, citations, answer.abstained))
        turns = turns[-settings.conversation_max_turns :]
