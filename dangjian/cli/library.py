"""Building the index: ingest, remove, reindex, migrate, documents, inspect."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .base import CONTEXT, INDEX_OPTION, JSON_OPTION, dump, fail, handle_errors, load_settings, main, open_kb


@main.command(context_settings=CONTEXT)
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@INDEX_OPTION
@click.option("--collection", default="default", show_default=True, help="放入哪个知识库（集合）")
@JSON_OPTION
@handle_errors
def ingest(paths: tuple[Path, ...], index_dir: Path | None, collection: str, as_json: bool) -> None:
    """导入文件或文件夹（递归）到索引，并打印摘要。

    支持 .txt .md .docx .pdf（含扫描件，自动文字识别）.html .jsonl .ofd .zip，图片 .jpg .png .tif 等，
    表格和演示文稿 .xlsx .pptx；安装了 LibreOffice 时还有 .doc .wps .et .xls .dps .ppt。
    内容未变的文件不会重复处理；同一路径内容变化的文件会替换旧版本。
    """
    from ..progress import console_progress

    progress = console_progress(not as_json)
    try:
        report = open_kb(index_dir).ingest(paths, collection=collection, progress=progress)
    finally:
        if progress:
            progress.close()
    if as_json:
        dump(report.to_dict())
    else:
        _print_report(report)
    if report.skipped and not (report.added or report.replaced or report.unchanged or report.duplicates):
        sys.exit(1)  # nothing could be ingested at all


@main.command(context_settings=CONTEXT)
@click.argument("doc_ids", nargs=-1, required=True)
@INDEX_OPTION
@JSON_OPTION
@handle_errors
def remove(doc_ids: tuple[str, ...], index_dir: Path | None, as_json: bool) -> None:
    """从索引中删除文档（元数据、向量、关键词索引中都不再有它）。"""
    report = open_kb(index_dir).remove(doc_ids)
    if as_json:
        dump(report.to_dict())
        return
    click.echo(f"已删除文档 {len(report.removed)} 篇：{'、'.join(report.removed)}")
    click.echo(f"索引合计：文档 {report.total_documents} 篇，段落 {report.total_passages} 段（版本 {report.version}）")


@main.command(context_settings=CONTEXT)
@INDEX_OPTION
@JSON_OPTION
@handle_errors
def reindex(index_dir: Path | None, as_json: bool) -> None:
    """用当前设置的嵌入模型和词典重建全部向量和关键词索引（更换模型后使用）。"""
    from ..progress import console_progress

    progress = console_progress(not as_json)
    try:
        report = open_kb(index_dir).reindex(progress=progress)
    finally:
        if progress:
            progress.close()
    if as_json:
        dump(report.to_dict())
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
@handle_errors
def migrate(uri: str, index_dir: Path | None, token: str, prefix: str, sample: int, as_json: bool) -> None:
    """把本地索引（含向量，不重新计算）复制到 Milvus，并核对条数和抽样检索结果。

    目标前缀下原有的内容会被替换；之后设置 DANGJIAN_STORE_URI 即可让服务使用 Milvus。
    """
    from ..index.store import IndexStore
    from ..kb import settings_embedder
    from ..stores import is_milvus_uri
    from ..stores.migrate import migrate as run_migration
    from ..stores.milvus import MilvusStore

    if not is_milvus_uri(uri):
        fail(f"无法识别的 Milvus 地址“{uri}”：请用以 .db 结尾的文件路径或 http://主机:19530")
    settings = load_settings()
    home = index_dir or settings.index_dir
    target = MilvusStore(uri, token=token, prefix=prefix, state_dir=home)
    report = run_migration(IndexStore(home).open(), target, settings_embedder(settings), sample=sample)
    if as_json:
        dump(report.to_dict())
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
@handle_errors
def documents(index_dir: Path | None, collection: str | None, as_json: bool) -> None:
    """列出索引中的文档（编号、标题、类型、年份、来源）。"""
    internal = ("methods", "offset", "length")  # what the index keeps for itself
    rows = [
        {k: v for k, v in d.items() if k not in internal}
        for d in open_kb(index_dir).open().iter_document_info()
        if not collection or d["collection"] == collection
    ]
    if as_json:
        dump(rows)
        return
    for d in rows:
        extra = "，".join(str(x) for x in (d.get("type"), d.get("year")) if x)
        click.echo(
            f"{d['doc_id']}  《{d['title']}》 [{d['collection']}]{('（' + extra + '）') if extra else ''}  {d['source']}"
        )
    click.echo(f"共 {len(rows)} 篇")


def _print_report(report) -> None:
    echo = click.echo
    echo(f"导入完成：索引 {report.index_dir}（版本 {report.version or '无'}），用时 {report.elapsed_s:.1f} 秒")
    echo(
        f"  处理文件 {report.files} 个：新增文档 {len(report.added)} 篇，更新 {len(report.replaced)} 篇，"
        f"未变化 {len(report.unchanged)} 篇，重复 {len(report.duplicates)} 篇，跳过 {len(report.skipped)} 项"
    )
    echo(f"  本次切分：章节 {report.sections} 个，段落 {report.passages} 段")
    echo(f"  索引合计：文档 {report.total_documents} 篇，段落 {report.total_passages} 段")
    if report.results:
        echo("每个文件的结果：")
        for line in file_table(report.results):
            echo("  " + line)


STATUS_WORDS = {
    "added": "新增",
    "updated": "更新",
    "unchanged": "未变化",
    "duplicate": "重复",
    "skipped": "跳过",
    "failed": "失败",
}


def file_table(results) -> list[str]:
    """One line per file: status, name (relative to here where it can be), document id, reason."""
    here = Path.cwd()
    rows = []
    for r in results:
        name = r.name
        try:
            name = str(Path(name).relative_to(here))
        except ValueError:
            pass
        rows.append((STATUS_WORDS.get(r.status, r.status), name, r.doc_id or "", r.reason))
    width = max((len(n) for _, n, _, _ in rows), default=0)
    return [f"{s:\u3000<3}  {n:<{width}}  {d:<16}  {why}".rstrip() for s, n, d, why in rows]


def _role_label(role: str, year: int | None) -> str:
    """“ 【工作谋划·2023年】”: a section's role as inspect shows it; empty when it has none."""
    return f" 【{role}·{year}年】" if role and year else (f" 【{role}】" if role else "")


@main.command(context_settings=CONTEXT)
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.option("--full", is_flag=True, help="显示段落全文（默认只显示开头）")
@handle_errors
def inspect(file: Path, as_json: bool, full: bool) -> None:
    """查看一个文件的章节结构和切分结果（不写入索引），导入前核对用。"""
    from ..index.layout import document_info
    from ..ingest import chunk_sections, load_document
    from ..ingest.describe import describe
    from ..methods import build_cards

    settings = load_settings()
    doc = load_document(file, max_file_mb=settings.max_file_mb)
    sections = describe(doc)  # what ingest stores: sections, names, methods
    passages = chunk_sections(
        doc, sections, target_chars=settings.chunk_target_chars, max_chars=settings.chunk_max_chars
    )
    cards = build_cards([document_info(doc)])
    if as_json:
        data = doc.to_dict()
        data.pop("blocks")
        dump(
            {
                "document": data,
                "sections": [s.to_dict() for s in sections],
                "passages": [p.to_dict() for p in passages],
                "methods": [c.to_dict() for c in cards],
            }
        )
        return
    echo = click.echo
    echo(f"《{doc.title}》 {doc.file_type}，{len(doc.text)} 字，{len(sections) - 1} 个章节，{len(passages)} 段")
    echo(f"文档编号 {doc.doc_id}")
    shown = {k: v for k, v in doc.metadata.items() if k not in ("names", "methods")}
    if shown:
        echo("元数据：" + "；".join(f"{k}={v}" for k, v in shown.items()))
    if doc.metadata.get("names"):
        echo("发现的专有名称（加入分词词典）：" + "、".join(doc.metadata["names"]))
    for card in cards:
        parts = "：" + "、".join(c.text for c in card.components) if card.components else ""
        echo(f"工作法卡片【{card.name}】{card.kind}{parts}")
    echo("\n章节结构：")
    echo(f"  {doc.title}")
    for section in sections[1:]:
        echo("  " + "  " * section.depth + section.heading + _role_label(section.role, section.role_year))
    echo("\n段落：")
    for n, p in enumerate(passages, start=1):
        where = " > ".join(p.section_path) or "（正文开头）"
        page = f"，第 {p.page} 页" if p.page else ""
        role = _role_label(p.roles[0] if p.roles else "", p.role_year)
        echo(f"[{n}] {where}{role}（字符 {p.start}–{p.end}，{len(p.text)} 字{page}）")
        body = p.text if full or len(p.text) <= 80 else p.text[:80] + "……"
        echo("    " + body.replace("\n", "\n    "))
