"""`callcenter-ari campaign import FILE`: a lead list (or the do-not-call list) loaded from a file, with a
progress bar, by the same import as the API's (store/lead_imports.py), straight into the tenant's Redis."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn
from rich.table import Table

from callcenter_ari.campaigns.export import REJECT_COLUMNS, CsvWriter, reject_row
from callcenter_ari.campaigns.model import CampaignError
from callcenter_ari.campaigns.reader import ReadOptions
from callcenter_ari.store.campaign_desk import CampaignDesk
from callcenter_ari.store.lead_imports import ImportFailed, ImportRecord

CHUNK = 256 * 1024


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    campaign = sub.add_parser("campaign", help="outbound campaigns: import a lead list or the do-not-call list")
    actions = campaign.add_subparsers(dest="campaign_command", required=True, metavar="ACTION")
    load = actions.add_parser("import", help="import a CSV file into a campaign (or the do-not-call list)")
    load.add_argument("file", type=Path)
    load.add_argument("--config", required=True, help="TOML configuration file (for Redis and the tenant)")
    target = load.add_mutually_exclusive_group(required=True)
    target.add_argument("--campaign", help="the campaign's id")
    target.add_argument("--do-not-call", action="store_true", help="add the numbers to the do-not-call list")
    load.add_argument("--dry-run", action="store_true", help="report what would load; load nothing")
    load.add_argument("--encoding", default="", help="utf-8, gbk, gb18030, big5, utf-16, ...; default: detected")
    load.add_argument("--delimiter", default="", help="one of , ; | or a tab; default: detected")
    load.add_argument("--header", choices=("auto", "yes", "no"), default="auto")
    load.add_argument("--phone-column", default="", help="a header name or a position from 1; default: guessed")
    load.add_argument("--name-column", default="")
    load.add_argument("--zone-column", default="")
    load.add_argument("--region", default="", help="ISO 3166 region of national numbers; default: the campaign's")
    load.add_argument("--rejects", type=Path, help="write the rejected rows to this CSV file")
    load.add_argument("--by", default="cli", help="who imports (kept with the import)")
    load.set_defaults(func=_import)


def _import(args: argparse.Namespace) -> int:
    from redis.asyncio import Redis

    from callcenter_ari import logs
    from callcenter_ari.cli import load_config_or_exit
    from callcenter_ari.store.connection import connected, tenant_keys

    config = load_config_or_exit(args.config)
    logs.configure("warning", "console")  # the progress bar and the summary say what info lines would
    console = Console(stderr=True)
    if config.redis.mode == "url" and not config.redis.url:
        console.print(f"{args.config}: redis.url is required to import")
        return 2
    try:
        size = args.file.stat().st_size
    except OSError as exc:
        console.print(f"{args.file}: cannot read: {exc.strerror}")
        return 2
    limit = config.campaigns.max_upload_bytes
    if size > limit:
        console.print(
            f"{args.file} is {size / 2**20:,.0f} MB; the limit is {limit // 2**20} MB (campaigns.max_upload_mb)"
        )
        return 2
    options = ReadOptions(
        encoding=args.encoding,
        delimiter=args.delimiter.replace("\\t", "\t"),
        header=args.header,
        phone_column=args.phone_column,
        name_column=args.name_column,
        zone_column=args.zone_column,
        region=args.region,
    )

    async def run() -> int:
        async with connected(config.redis) as redis:
            return await _import_into(redis)

    async def _import_into(redis: Redis) -> int:
        queues = {queue_id: queue.name for queue_id, queue in config.queues.items()}
        desk = CampaignDesk(
            redis,
            tenant_keys(config.redis, config.app.tenant),
            trunks=config.trunks,
            queues=queues,
            settings=config.campaigns,
            now=_wall_clock,
        )
        try:
            record = await _with_progress(desk, args, options, size, console)
        except ImportFailed as exc:
            console.print(f"[red]import stopped[/red]: {exc}")
            await _write_rejects(desk, exc.record, args.rejects)
            _summary(console, exc.record)
            return 1
        except CampaignError as exc:
            console.print(f"[red]cannot import[/red]: {exc}")
            return 2
        await _write_rejects(desk, record, args.rejects)
        _summary(console, record)
        return 0

    return anyio.run(run)


async def _with_progress(
    desk: CampaignDesk, args: argparse.Namespace, options: ReadOptions, size: int, console: Console
) -> ImportRecord:
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[rows]}"),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task(args.file.name, total=size, rows="")

        def show(record: ImportRecord) -> None:
            counts = f"{record.rows:,} rows, {record.loaded:,} loaded, {record.rejected:,} rejected"
            progress.update(task, completed=record.bytes_read, rows=counts)

        source = _chunks(args.file)
        common = {"dry_run": args.dry_run, "by": args.by, "file_name": args.file.name, "on_progress": show}
        if args.do_not_call:
            record = await desk.import_dnc(source, options, **common)
        else:
            record = await desk.import_leads(args.campaign, source, options, **common)
        show(record)
        return record


async def _chunks(path: Path) -> AsyncIterator[bytes]:
    async with await anyio.open_file(path, "rb") as file:
        while chunk := await file.read(CHUNK):
            yield chunk


async def _write_rejects(desk: CampaignDesk, record: ImportRecord, path: Path | None) -> None:
    if path is None or not record.rejects_kept:
        return
    writer = CsvWriter(REJECT_COLUMNS)
    async with await anyio.open_file(path, "wb") as out:
        await out.write(writer.rows(()))
        async for batch in desk.imports.rejects(record.id):
            await out.write(writer.rows([reject_row(rejected) for rejected in batch]))


def _summary(console: Console, record: ImportRecord) -> None:
    table = Table(title=f"import {record.id}" + (" (dry run: nothing loaded)" if record.dry_run else ""))
    table.add_column("")
    table.add_column("", justify="right")
    rows = [
        ("status", record.status),
        ("encoding", record.encoding or "-"),
        ("columns", ", ".join(f"{k}: {v}" for k, v in record.columns.items()) or "-"),
        ("rows read", f"{record.rows:,}"),
        ("would load" if record.dry_run else "loaded", f"{record.loaded:,}"),
        ("already listed", f"{record.already_listed:,}") if record.kind == "do_not_call" else ("", ""),
        ("rejected", f"{record.rejected:,}"),
        *((f"  {reason}", f"{count:,}") for reason, count in sorted(record.reasons.items())),
    ]
    for label, value in rows:
        if label:
            table.add_row(label, value)
    if record.error:
        table.add_row("stopped at", record.error)
    Console(file=sys.stdout).print(table)


def _wall_clock() -> float:
    return time.time()
