"""What every ``dangjian`` command shares: the group, options, settings, error handling."""

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


def fail(message: str, code: int = 1) -> None:
    click.echo(f"错误：{message}", err=True)
    sys.exit(code)


def handle_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Print a ``DangjianError`` as one Chinese line and exit non-zero; never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from ..errors import DangjianError

        try:
            return func(*args, **kwargs)
        except DangjianError as exc:
            fail(exc.message)
        except KeyboardInterrupt:
            fail("已中断", 130)
        except Exception as exc:  # a bug: say so in one line; DANGJIAN_DEBUG=1 shows the traceback
            if os.environ.get("DANGJIAN_DEBUG"):
                raise
            fail(f"内部错误（{type(exc).__name__}: {exc}）；请设置 DANGJIAN_DEBUG=1 重试并报告问题", 70)

    return wrapper


def load_settings():
    from pydantic import ValidationError

    from ..config import Settings

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
        fail(f"环境变量设置不正确：{problems}")


def dump(data: Any) -> None:
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


def open_kb(index_dir: Path | None):
    from ..kb import KnowledgeBase

    return KnowledgeBase.from_settings(load_settings(), index_dir)
