"""The ``dangjian`` command. Heavy imports happen inside commands so ``--help`` is instant."""

from __future__ import annotations

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
    """党建知识库：导入党建文档，按章节切分为可逐字引用的段落。"""


@main.command(context_settings=CONTEXT)
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--index",
    "index_dir",
    type=click.Path(path_type=Path),
    help="索引目录（默认取 DANGJIAN_INDEX_DIR，即 dangjian_data）",
)
@click.option("--json", "as_json", is_flag=True, help="输出 JSON（供脚本使用）")
@_handle_errors
def ingest(paths: tuple[Path, ...], index_dir: Path | None, as_json: bool) -> None:
    """导入文件或文件夹（递归）到索引，并打印摘要。

    支持 .txt .md .docx .pdf .html .jsonl，以及安装了 LibreOffice 时的 .doc .wps。
    """
    from .kb import KnowledgeBase

    settings = _settings()
    kb = KnowledgeBase(
        index_dir or settings.index_dir,
        target_chars=settings.chunk_target_chars,
        max_chars=settings.chunk_max_chars,
        max_file_mb=settings.max_file_mb,
    )
    show_bar = not as_json and sys.stderr.isatty()
    bar = None

    def progress(done: int, total: int, current: str) -> None:
        nonlocal bar
        if not show_bar:
            return
        if bar is None:
            bar = click.progressbar(length=total, label="导入中", file=sys.stderr, show_pos=True)
            bar.__enter__()
        bar.update(done - bar.pos)
        if done >= total:
            bar.__exit__(None, None, None)

    report = kb.ingest(paths, progress=progress)
    if as_json:
        _dump(report.to_dict())
    else:
        _print_report(report)
    if report.skipped and not (report.added or report.replaced or report.unchanged or report.duplicates):
        sys.exit(1)  # nothing could be ingested at all


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


if __name__ == "__main__":
    main()
