"""The ``dangjian`` command. Heavy imports happen inside commands so ``--help`` is instant."""

from __future__ import annotations

import ctypes
import functools
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _fail(message: str, code: int = 1) -> None:
    click.echo(f"错误：{message}", err=True)
    sys.exit(code)


def _handle_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Print a ``DangjianError`` as one Chinese line and exit non-zero; never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from .errors import DangjianError

        try:
            return func(*args, **kwargs)
        except DangjianError as exc:
            _fail(exc.message)
        except KeyboardInterrupt:
            _fail("已中断", 130)
        except Exception as exc:  # a bug: say so in one line; DANGJIAN_DEBUG=1 shows the traceback
            if os.environ.get("DANGJIAN_DEBUG"):
                raise
            _fail(f"内部错误（{type(exc).__name__}: {exc}）；请设置 DANGJIAN_DEBUG=1 重试并报告问题", 70)

    return wrapper


def _settings():
    from pydantic import ValidationError

    from .config import Settings

    try:
        return Settings()
    except ValidationError as exc:
        problems = "；".join(
            (
                f"DANGJIAN_{'_'.join(map(str, e['loc'])).upper()}={e.get('input')!r}（{e['msg']}）"
                if e["loc"]
                else e["msg"]
            )
            for e in exc.errors()
        )
        _fail(f"环境变量设置不正确：{problems}")


def _dump(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


@click.group(context_settings=CONTEXT)
@click.version_option(package_name="dangjian", message="dangjian %(version)s")
def main() -> None:
    """党建知识库：导入党建文档，按章节切分为可逐字引用的段落，检索并给出原文出处。"""


INDEX_OPTION = click.option(
    "--index",
    "index_dir",
    type=click.Path(path_type=Path),
    help="索引目录（默认取 DANGJIAN_INDEX_DIR，即 dangjian_data）",
)
JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="输出 JSON（供脚本使用）")


def _kb(index_dir: Path | None):
    from .kb import KnowledgeBase

    return KnowledgeBase.from_settings(_settings(), index_dir)


class _Progress:
    """Progress bars on stderr for the two long stages of a write: parsing and embedding."""

    LABELS = {"parse": "解析文件", "embed": "向量化段落"}

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.bar = None
        self.stage = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled or total == 0:
            return
        if stage != self.stage:
            self.close()
            self.stage = stage
            self.bar = click.progressbar(
                length=total, label=self.LABELS.get(stage, stage), file=sys.stderr, show_pos=True
            )
            self.bar.__enter__()
        self.bar.update(done - self.bar.pos)
        if done >= total:
            self.close()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None
            self.stage = None


@main.command(context_settings=CONTEXT)
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@INDEX_OPTION
@click.option("--collection", default="default", show_default=True, help="放入哪个知识库（集合）")
@JSON_OPTION
@_handle_errors
def ingest(paths: tuple[Path, ...], index_dir: Path | None, collection: str, as_json: bool) -> None:
    """导入文件或文件夹（递归）到索引，并打印摘要。

    支持 .txt .md .docx .pdf .html .jsonl，以及安装了 LibreOffice 时的 .doc .wps。
    内容未变的文件不会重复处理；同一路径内容变化的文件会替换旧版本。
    """
    progress = _Progress(not as_json and sys.stderr.isatty())
    try:
        report = _kb(index_dir).ingest(paths, collection=collection, progress=progress)
    finally:
        progress.close()
    if as_json:
        _dump(report.to_dict())
    else:
        _print_report(report)
    if report.skipped and not (report.added or report.replaced or report.unchanged or report.duplicates):
        sys.exit(1)  # nothing could be ingested at all


@main.command(context_settings=CONTEXT)
@click.argument("doc_ids", nargs=-1, required=True)
@INDEX_OPTION
@JSON_OPTION
@_handle_errors
def remove(doc_ids: tuple[str, ...], index_dir: Path | None, as_json: bool) -> None:
    """从索引中删除文档（元数据、向量、关键词索引中都不再有它）。"""
    report = _kb(index_dir).remove(doc_ids)
    if as_json:
        _dump(report.to_dict())
        return
    click.echo(f"已删除文档 {len(report.removed)} 篇：{'、'.join(report.removed)}")
    click.echo(f"索引合计：文档 {report.total_documents} 篇，段落 {report.total_passages} 段（版本 {report.version}）")


@main.command(context_settings=CONTEXT)
@INDEX_OPTION
@JSON_OPTION
@_handle_errors
def reindex(index_dir: Path | None, as_json: bool) -> None:
    """用当前设置的嵌入模型和词典重建全部向量和关键词索引（更换模型后使用）。"""
    progress = _Progress(not as_json and sys.stderr.isatty())
    try:
        report = _kb(index_dir).reindex(progress=progress)
    finally:
        progress.close()
    if as_json:
        _dump(report.to_dict())
        return
    click.echo(
        f"重建完成：文档 {report.total_documents} 篇，段落 {report.total_passages} 段（版本 {report.version}），用时 {report.elapsed_s:.1f} 秒"
    )


@main.command(context_settings=CONTEXT)
@click.option("--to", "uri", required=True, help="目标 Milvus：以 .db 结尾的路径（milvus-lite）或 http://主机:19530")
@INDEX_OPTION
@click.option("--token", default="", help="Milvus 令牌（用户名:密码 或 API key）")
@click.option("--prefix", default="dangjian", show_default=True, help="Milvus 中的集合名前缀")
@click.option("--sample", default=20, show_default=True, type=click.IntRange(0, 1000), help="核对用的抽样检索次数")
@JSON_OPTION
@_handle_errors
def migrate(uri: str, index_dir: Path | None, token: str, prefix: str, sample: int, as_json: bool) -> None:
    """把本地索引（含向量，不重新计算）复制到 Milvus，并核对条数和抽样检索结果。

    目标前缀下原有的内容会被替换；之后设置 DANGJIAN_STORE_URI 即可让服务使用 Milvus。
    """
    from .index.store import IndexStore
    from .kb import settings_embedder
    from .stores import is_milvus_uri
    from .stores.migrate import migrate as run_migration
    from .stores.milvus import MilvusStore

    if not is_milvus_uri(uri):
        _fail(f"无法识别的 Milvus 地址“{uri}”：请用以 .db 结尾的文件路径或 http://主机:19530")
    settings = _settings()
    home = index_dir or settings.index_dir
    target = MilvusStore(uri, token=token, prefix=prefix, state_dir=home)
    report = run_migration(IndexStore(home).open(), target, settings_embedder(settings), sample=sample)
    if as_json:
        _dump(report.to_dict())
    else:
        click.echo(f"已迁移：{report.source} → {report.target}（前缀 {prefix}），用时 {report.elapsed_s:.1f} 秒")
        click.echo(f"  本地 文档 {report.documents} 篇，段落 {report.passages} 段")
        click.echo(f"  Milvus 文档 {report.target_documents} 篇，段落 {report.target_passages} 段")
        click.echo(
            f"  抽样检索 {report.sample} 次：首条相同 {report.same_first} 次，"
            f"两边前 5 名都找到原段落 {report.found_both} 次，前 5 名平均重合 {report.overlap_at_5:.0%}"
        )
        for problem in report.problems:
            click.echo(f"  问题：{problem}")
    if not report.ok:
        sys.exit(1)


@main.command(context_settings=CONTEXT)
@INDEX_OPTION
@click.option("--collection", help="只列出这个知识库（集合）的文档")
@JSON_OPTION
@_handle_errors
def documents(index_dir: Path | None, collection: str | None, as_json: bool) -> None:
    """列出索引中的文档（编号、标题、类型、年份、来源）。"""
    internal = ("methods", "offset", "length")  # what the index keeps for itself
    rows = [
        {k: v for k, v in d.items() if k not in internal}
        for d in _kb(index_dir).open().iter_document_info()
        if not collection or d["collection"] == collection
    ]
    if as_json:
        _dump(rows)
        return
    for d in rows:
        extra = "，".join(str(x) for x in (d.get("type"), d.get("year")) if x)
        click.echo(
            f"{d['doc_id']}  《{d['title']}》 [{d['collection']}]{('（' + extra + '）') if extra else ''}  {d['source']}"
        )
    click.echo(f"共 {len(rows)} 篇")


@main.command(context_settings=CONTEXT)
@INDEX_OPTION
@click.argument("name", required=False)
@click.option("--collection", multiple=True, help="只看这些知识库（集合）中的文档，可重复")
@JSON_OPTION
@_handle_errors
def methods(index_dir: Path | None, name: str | None, collection: tuple[str, ...], as_json: bool) -> None:
    """列出文档中的工作法、机制和品牌（工作法卡片）；给出名称（或简称）则只看这一张。"""
    from .errors import DangjianError
    from .methods import find_card

    cards = _method_cards(_kb(index_dir).open().iter_document_info(), collection)
    if name:
        card = find_card(cards, name)
        if card is None:
            raise DangjianError(
                f"知识库中没有名为“{name}”的工作法（可用 dangjian methods 查看全部）", code="method_not_found"
            )
        cards = [card]
    if as_json:
        _dump([c.to_dict() for c in cards])
        return
    for card in cards:
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
@JSON_OPTION
@_handle_errors
def quiz(index_dir: Path | None, topic: str, count: int, seed: int, collection: tuple[str, ...], as_json: bool) -> None:
    """为新社区工作者出题：填空、选择、判断，每题附答案和原文出处。"""
    from .quiz import make_quiz

    cards = _method_cards(_kb(index_dir).open().iter_document_info(), collection)
    questions = make_quiz(cards, topic=topic, n=count, seed=seed)
    if as_json:
        _dump([q.to_dict() for q in questions])
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
@_handle_errors
def draft(index_dir, topic, template, outline_file, output, collection, per_section) -> None:
    """按模板或提纲从已有材料中摘编素材稿，每段注明出处，导出 Word（公文格式）或 Markdown。"""
    from .draft import make_draft
    from .errors import DangjianError

    headings = None
    if outline_file:
        try:
            headings = outline_file.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise DangjianError(f"读不了提纲文件 {outline_file}（{exc}）；请用 UTF-8 文本，每行一个标题") from None
    from .llm import configured_model

    result = make_draft(
        _kb(index_dir),
        topic,
        template=template,
        headings=headings,
        filters=_filters(collection, (), (), ()),
        per_section=per_section,
        model=configured_model(_settings()),
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


def _method_cards(records, collections):
    """The method cards of the index records in ``collections`` (all when empty)."""
    from .methods import build_cards

    return build_cards(d for d in records if not collections or d["collection"] in collections)


def _filters(collection, doc, doc_type, year):
    from .index.search import Filters

    return Filters(
        collections=list(collection) or None,
        doc_ids=list(doc) or None,
        types=list(doc_type) or None,
        years=list(year) or None,
    )


FILTER_OPTIONS = [
    click.option("--collection", multiple=True, help="只在这些知识库（集合）中检索，可重复"),
    click.option("--doc", multiple=True, help="只在这些文档编号中检索，可重复"),
    click.option("--type", "doc_type", multiple=True, help="只检索这些类型的文档（如 工作总结），可重复"),
    click.option("--year", multiple=True, type=int, help="只检索这些年份的文档，可重复"),
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
@_handle_errors
def search(query, k, queries_file, index_dir, as_json, collection, doc, doc_type, year) -> None:
    """检索与问题最相关的原文段落，给出出处（文档、章节、页码、段落）。"""
    if (query is None) == (queries_file is None):
        _fail("请给出一个问题，或用 --queries-file 指定问题文件（二者选一）", 2)
    settings = _settings()
    kb = _kb(index_dir)
    k = k or settings.top_k
    filters = _filters(collection, doc, doc_type, year)
    if queries_file is not None:
        from .errors import DangjianError

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
        _dump(result.to_dict())
        return
    from .answer import NOT_FOUND, not_stated

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
@_handle_errors
def ask(question, k, index_dir, as_json, collection, doc, doc_type, year) -> None:
    """回答问题：摘取最相关的原文句子，每句标注出处编号（配置了大模型时由大模型作答并逐句核对）。"""
    from .llm import configured_model
    from .methods import named_in

    settings = _settings()
    kb = _kb(index_dir)
    model = configured_model(settings)
    answer = kb.ask(question, k=k or settings.top_k, filters=_filters(collection, doc, doc_type, year), model=model)
    card = named_in(_method_cards(kb.searcher().docs.values(), collection), question)
    if as_json:
        _dump({**answer.to_dict(), "method": card.to_dict() if card else None})
        return
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


@main.command(context_settings=CONTEXT)
@click.option("--host", default="127.0.0.1", show_default=True, help="监听地址（局域网内访问用 0.0.0.0）")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True, help="端口")
@INDEX_OPTION
@click.option(
    "--corpus",
    type=click.Path(path_type=Path, file_okay=False),
    help="索引不存在时，先从这个文件夹建立索引（默认随附的 corpus/）",
)
@_handle_errors
def serve(host: str, port: int, index_dir: Path | None, corpus: Path | None) -> None:
    """启动问答服务和网页：浏览器打开 http://127.0.0.1:8000 ，接口文档在 /docs。"""
    import logging

    import uvicorn

    from .kb import KnowledgeBase
    from .service import create_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    access = logging.getLogger("dangjian.access")  # one JSON object per line, nothing around it
    if not access.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        access.addHandler(handler)
        access.propagate = False
    from .llm import configured_model

    settings = _settings()
    configured_model(settings)  # a wrong model setting is one clear line now, not a failed startup
    kb = KnowledgeBase.from_settings(settings, index_dir)
    kb.store.exists()  # an unreachable Milvus too
    _limit_malloc_arenas()
    # our own JSON line per request replaces uvicorn's access log, which prints the whole URL
    # (and so the question of GET /search)
    uvicorn.run(create_app(settings, kb=kb, corpus=corpus), host=host, port=port, log_level="info", access_log=False)


def _limit_malloc_arenas(arenas: int = 2) -> None:
    """glibc gives every thread that allocates its own heap; two for the whole service hold
    ~110 MB less at 100k passages under load, at the cost of ~7 % of the throughput
    (bench/RESULTS.md)."""
    try:
        ctypes.CDLL("libc.so.6").mallopt(-8, arenas)  # M_ARENA_MAX
    except (OSError, AttributeError):  # not glibc
        pass


@main.group(context_settings=CONTEXT)
def keys() -> None:
    """管理问答服务的 API 密钥（保存在索引目录的 keys.json 中，只存哈希）。"""


@keys.command("create", context_settings=CONTEXT)
@click.option(
    "--role",
    type=click.Choice(["reader", "cite", "editor", "admin"]),
    required=True,
    help="reader 可检索问答；cite 只能看引文、不能下载全文；editor 还可上传删除；admin 全部",
)
@click.option("--collection", "collections", multiple=True, help="只能访问这些知识库（可重复；默认全部）")
@click.option("--name", default="", help="备注，如使用人或用途")
@INDEX_OPTION
@_handle_errors
def keys_create(role: str, collections: tuple[str, ...], name: str, index_dir: Path | None) -> None:
    """创建密钥；密钥只显示这一次，请妥善保存。"""
    from .service.keys import KeyStore

    key = KeyStore(index_dir or _settings().index_dir).create(role, list(collections) or None, name)
    click.echo(key)
    click.echo(
        f"（角色 {role}，知识库：{'、'.join(collections) or '全部'}；请求时加请求头 Authorization: Bearer 密钥）",
        err=True,
    )


@keys.command("list", context_settings=CONTEXT)
@INDEX_OPTION
@JSON_OPTION
@_handle_errors
def keys_list(index_dir: Path | None, as_json: bool) -> None:
    """列出密钥（编号、角色、知识库、备注、创建时间；不显示密钥本身）。"""
    from dataclasses import asdict

    from .service.keys import KeyStore

    records = KeyStore(index_dir or _settings().index_dir).records()
    if as_json:
        _dump([{k: v for k, v in asdict(r).items() if k != "digest"} for r in records])
        return
    for r in records:
        click.echo(f"{r.key_id}\t{r.role}\t{'、'.join(r.collections or []) or '全部'}\t{r.name}\t{r.created_at}")


@keys.command("revoke", context_settings=CONTEXT)
@click.argument("key_id")
@INDEX_OPTION
@_handle_errors
def keys_revoke(key_id: str, index_dir: Path | None) -> None:
    """撤销密钥（按 keys list 中的编号）；正在运行的服务立即生效。"""
    from .service.keys import KeyStore

    KeyStore(index_dir or _settings().index_dir).revoke(key_id)
    click.echo(f"已撤销密钥 {key_id}")


def _print_report(report) -> None:
    echo = click.echo
    echo(f"导入完成：索引 {report.index_dir}（版本 {report.version or '无'}），用时 {report.elapsed_s:.1f} 秒")
    echo(
        f"  处理文件 {report.files} 个：新增文档 {len(report.added)} 篇，更新 {len(report.replaced)} 篇，"
        f"未变化 {len(report.unchanged)} 篇，重复 {len(report.duplicates)} 篇，跳过 {len(report.skipped)} 项"
    )
    echo(f"  本次切分：章节 {report.sections} 个，段落 {report.passages} 段")
    echo(f"  索引合计：文档 {report.total_documents} 篇，段落 {report.total_passages} 段")
    if report.duplicates:
        echo("重复的文档（内容已在索引中，未重复存储）：")
        for dup in report.duplicates:
            echo(f"  - {dup.source}：与 {dup.duplicate_of} 内容相同")
    if report.skipped:
        echo(f"跳过的文件（{len(report.skipped)} 项）：")
        for item in report.skipped:
            echo(f"  - {item.reason}")


@main.command(context_settings=CONTEXT)
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.option("--full", is_flag=True, help="显示段落全文（默认只显示开头）")
@_handle_errors
def inspect(file: Path, as_json: bool, full: bool) -> None:
    """查看一个文件的章节结构和切分结果（不写入索引），导入前核对用。"""
    from .ingest import chunk_sections, load_document, split_sections

    settings = _settings()
    doc = load_document(file, max_file_mb=settings.max_file_mb)
    sections = split_sections(doc)
    passages = chunk_sections(
        doc, sections, target_chars=settings.chunk_target_chars, max_chars=settings.chunk_max_chars
    )
    if as_json:
        data = doc.to_dict()
        data.pop("blocks")
        _dump(
            {"document": data, "sections": [s.to_dict() for s in sections], "passages": [p.to_dict() for p in passages]}
        )
        return
    echo = click.echo
    echo(f"《{doc.title}》 {doc.file_type}，{len(doc.text)} 字，{len(sections) - 1} 个章节，{len(passages)} 段")
    echo(f"文档编号 {doc.doc_id}")
    shown = {k: v for k, v in doc.metadata.items() if k != "names"}
    if shown:
        echo("元数据：" + "；".join(f"{k}={v}" for k, v in shown.items()))
    if doc.metadata.get("names"):
        echo("发现的专有名称：" + "、".join(doc.metadata["names"]))
    echo("\n章节结构：")
    echo(f"  {doc.title}")
    for section in sections[1:]:
        echo("  " + "  " * section.depth + section.heading)
    echo("\n段落：")
    for n, p in enumerate(passages, start=1):
        where = " > ".join(p.section_path) or "（正文开头）"
        page = f"，第 {p.page} 页" if p.page else ""
        echo(f"[{n}] {where}（字符 {p.start}–{p.end}，{len(p.text)} 字{page}）")
        body = p.text if full or len(p.text) <= 80 else p.text[:80] + "……"
        echo("    " + body.replace("\n", "\n    "))


@main.command("eval", context_settings=CONTEXT)
@click.argument("sets", nargs=-1, required=True)
@INDEX_OPTION
@click.option(
    "--pipelines",
    default="ours,bm25,dense,peer",
    show_default=True,
    help="参与比较的检索流程，逗号分隔：ours（本系统）、bm25、dense、peer（按 Langchain-Chatchat 默认做法）",
)
@click.option("--report", is_flag=True, help="保存结果到 evals/results/ 并重新生成 evals/REPORT.md")
@click.option("--limit", type=int, default=0, help="只评测前 N 个问题（快速试验）")
@JSON_OPTION
@_handle_errors
def evaluate_command(sets, index_dir, pipelines, report, limit, as_json) -> None:
    """运行评测集并与基线比较。

    SETS 是评测集名称（domain、dev、fast、cmrc、cmrc-laws、drcd，或 all 表示报告中的全部），
    也可以是一个问题文件（JSONL，每行 question 和 gold 定位），此时需用 --index 指定已有索引。
    评测用的索引和向量缓存放在 DANGJIAN_EVAL_DIR（默认 ~/.cache/dangjian/eval）。
    """
    from .errors import DangjianError
    from .evaluation import harness
    from .evaluation import report as reporting
    from .evaluation import sets as evsets
    from .evaluation.runner import load_questions

    chosen = tuple(p.strip() for p in pipelines.split(",") if p.strip())
    unknown = [p for p in chosen if p not in harness.PIPELINES]
    if unknown:
        raise DangjianError(f"未知的检索流程：{'、'.join(unknown)}；可选：{'、'.join(harness.PIPELINES)}")
    names = list(evsets.REPORT_SETS) if sets == ("all",) else list(sets)
    settings = _settings()
    log = (lambda msg: click.echo(msg, err=True)) if as_json else click.echo
    outputs = []
    for name in names:
        kb = _kb(index_dir) if index_dir else None
        if Path(name).suffix == ".jsonl":
            if kb is None:
                raise DangjianError("用问题文件评测时请用 --index 指定要评测的索引")
            evset = evsets.EvalSet(Path(name).stem, name, [], load_questions(name), peer=False)
        else:
            evset = evsets.load_set(name, harness.work_dir())
        if limit:
            evset.questions = evset.questions[:limit]
        log(f"评测集 {evset.name}：{evset.title}，{len(evset.questions)} 个问题")
        result = harness.run(evset, settings, pipelines=chosen, kb=kb, progress=log)
        outputs.append(result)
        if report and not limit:
            path = reporting.save(result, evsets.evals_dir() / "results")
            log(f"  结果已保存：{path}")
        if not as_json:
            _print_eval(result)
    if report and not limit:
        target = evsets.evals_dir() / "REPORT.md"
        target.write_text(reporting.render(evsets.evals_dir(), evsets.REPORT_SETS), encoding="utf-8")
        log(f"报告已更新：{target}")
    if as_json:
        _dump([reporting.saved(r) for r in outputs])


def _print_eval(result) -> None:
    from .evaluation.report import is_miss

    echo = click.echo
    keys = [
        "hit@1",
        "hit@5",
        "hit@10",
        "mrr@10",
        "ndcg@10",
        "completeness",
        "declined",
        "answerable_declined",
        "p50_ms",
    ]
    labels = ["hit@1", "hit@5", "hit@10", "MRR", "nDCG", "列举完整", "拒答率", "误拒率", "p50毫秒"]
    echo("  流程    " + "".join(label.rjust(9) for label in labels))
    for name, p in result["pipelines"].items():
        row = [p["summary"].get(k) for k in keys]
        echo("  " + name.ljust(8) + "".join(("–" if v is None else f"{v:.3f}").rjust(9) for v in row))
    ours = result["pipelines"].get("ours")
    misses = [r for r in ours["results"] if is_miss(r)] if ours else []
    if misses:
        echo(f"  本系统未命中 {len(misses)} 个（前 5 名内没有出处、该答未答或该拒未拒），前 15 个：")
    for r in misses[:15]:
        if not r["answerable"]:
            where = "未拒答"
        else:
            where = "拒答" if r["abstained"] else f"名次 {r['rank'] or '10 名外'}"
        echo(f"    {r['id']} [{r['kind']}] {r['question']}（{where}）")


from .cli_ops import register as _register_ops  # noqa: E402  (intranet operations: cli_ops.py)

_register_ops(main)

if __name__ == "__main__":
    main()
