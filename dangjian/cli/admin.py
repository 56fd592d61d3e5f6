"""Running and checking: serve, keys, eval."""

from __future__ import annotations

import ctypes
from pathlib import Path

import click

from .base import CONTEXT, INDEX_OPTION, JSON_OPTION, dump, handle_errors, load_settings, main, open_kb


@main.command(context_settings=CONTEXT)
@click.option("--host", default="127.0.0.1", show_default=True, help="监听地址（局域网内访问用 0.0.0.0）")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True, help="端口")
@INDEX_OPTION
@click.option(
    "--corpus",
    type=click.Path(path_type=Path, file_okay=False),
    help="索引不存在时，先从这个文件夹建立索引（默认随附的 corpus/）",
)
@handle_errors
def serve(host: str, port: int, index_dir: Path | None, corpus: Path | None) -> None:
    """启动问答服务和网页：浏览器打开 http://127.0.0.1:8000 ，接口文档在 /docs。"""
    import logging

    import uvicorn

    from ..kb import KnowledgeBase
    from ..service import create_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    access = logging.getLogger("dangjian.access")  # one JSON object per line, nothing around it
    if not access.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        access.addHandler(handler)
        access.propagate = False
    from ..llm import configured_model

    settings = load_settings()
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
@handle_errors
def keys_create(role: str, collections: tuple[str, ...], name: str, index_dir: Path | None) -> None:
    """创建密钥；密钥只显示这一次，请妥善保存。"""
    from ..service.keys import KeyStore

    key = KeyStore(index_dir or load_settings().index_dir).create(role, list(collections) or None, name)
    click.echo(key)
    click.echo(
        f"（角色 {role}，知识库：{'、'.join(collections) or '全部'}；请求时加请求头 Authorization: Bearer 密钥）",
        err=True,
    )


@keys.command("list", context_settings=CONTEXT)
@INDEX_OPTION
@JSON_OPTION
@handle_errors
def keys_list(index_dir: Path | None, as_json: bool) -> None:
    """列出密钥（编号、角色、知识库、备注、创建时间；不显示密钥本身）。"""
    from dataclasses import asdict

    from ..service.keys import KeyStore

    records = KeyStore(index_dir or load_settings().index_dir).records()
    if as_json:
        dump([{k: v for k, v in asdict(r).items() if k != "digest"} for r in records])
        return
    for r in records:
        click.echo(f"{r.key_id}\t{r.role}\t{'、'.join(r.collections or []) or '全部'}\t{r.name}\t{r.created_at}")


@keys.command("revoke", context_settings=CONTEXT)
@click.argument("key_id")
@INDEX_OPTION
@handle_errors
def keys_revoke(key_id: str, index_dir: Path | None) -> None:
    """撤销密钥（按 keys list 中的编号）；正在运行的服务立即生效。"""
    from ..service.keys import KeyStore

    KeyStore(index_dir or load_settings().index_dir).revoke(key_id)
    click.echo(f"已撤销密钥 {key_id}")


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
@handle_errors
def evaluate_command(sets, index_dir, pipelines, report, limit, as_json) -> None:
    """运行评测集并与基线比较。

    SETS 是评测集名称（domain、dev、fast、answers、conversations、roles（章节作用）、cmrc、cmrc-laws、drcd，或 all 表示报告中的全部），
    也可以是一个问题文件（JSONL，每行 question 和 gold 定位），此时需用 --index 指定已有索引。
    评测用的索引和向量缓存放在 DANGJIAN_EVAL_DIR（默认 ~/.cache/dangjian/eval）。
    """
    from ..errors import DangjianError
    from ..evaluation import harness
    from ..evaluation import report as reporting
    from ..evaluation import sets as evsets
    from ..evaluation.runner import load_questions

    chosen = tuple(p.strip() for p in pipelines.split(",") if p.strip())
    unknown = [p for p in chosen if p not in harness.PIPELINES]
    if unknown:
        raise DangjianError(f"未知的检索流程：{'、'.join(unknown)}；可选：{'、'.join(harness.PIPELINES)}")
    names = list(evsets.REPORT_SETS) if sets == ("all",) else list(sets)
    settings = load_settings()
    log = (lambda msg: click.echo(msg, err=True)) if as_json else click.echo
    outputs = []
    for name in names:
        kb = open_kb(index_dir) if index_dir else None
        if name == evsets.ANSWER_SET:
            log("评测集 answers：回答评测（答案文字是否说出所问的内容）")
            result = harness.run_answers(settings, progress=log)
            outputs.append(result)
            if report:
                log(f"  结果已保存：{reporting.save(result, evsets.evals_dir() / 'results')}")
            if not as_json:
                _print_answers(result)
            continue
        if name == evsets.ROLE_SET:
            from ..evaluation.harness import _commit
            from ..evaluation.roles import run_roles

            result = run_roles(evsets.evals_dir(), evsets.REPO, evsets.shared_data(), _commit())
            outputs.append(result)
            roles = result["roles"]
            log(
                f"评测集 roles：{roles['sections']} 个人工标注的章节，作用准确率 {100 * roles['accuracy']:.1f}%，"
                f"年份准确率 {100 * (roles['year_accuracy'] or 0):.1f}%（{roles['dated']} 个标了年份）"
            )
            if report:
                log(f"  结果已保存：{reporting.save(result, evsets.evals_dir() / 'results')}")
            continue
        if name == evsets.CONVERSATION_SET:
            log("评测集 conversations：追问评测（对话中的追问、写全的问题、不带上下文单独问）")
            result = harness.run_conversations(settings, progress=log)
            outputs.append(result)
            if report:
                log(f"  结果已保存：{reporting.save(result, evsets.evals_dir() / 'results')}")
            if not as_json:
                _print_conversations(result)
            continue
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
        dump([reporting.saved(r) for r in outputs])


def _print_answers(result) -> None:
    echo = click.echo
    for name, p in result["pipelines"].items():
        summary = "，".join(f"{k} {v}" for k, v in p["summary"].items())
        echo(f"  {name}：{summary}")
    for r in result["pipelines"]["ours"]["results"]:
        if not r["complete"]:
            echo(f"    {r['id']} [{r['kind']}] {r['question']}：缺 {'、'.join(r['missing'])}")


def _print_conversations(result) -> None:
    from ..evaluation.conversations import shortfalls

    echo = click.echo
    p = result["pipelines"]["ours"]
    for key, label in (
        ("followup_context", "追问（带上下文）"),
        ("followup_full", "追问（写全的问题）"),
        ("followup_alone", "追问（不带上下文）"),
        ("standalone_context", "换话题的问题（带上下文）"),
        ("standalone_alone", "换话题的问题（单独问）"),
        ("first", "第一问"),
    ):
        s = p["summary"][key]
        echo(f"  {label}：{s['turns']} 轮，item_recall {s.get('item_recall', '–')}，complete {s.get('complete', '–')}")
    for r in shortfalls(p["results"]):
        echo(f"    {r['id']} {r['question']} → {r['resolved'] or '（原样）'}：缺 {'、'.join(r['context']['missing'])}")


def _print_eval(result) -> None:
    from ..evaluation.report import is_miss

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
