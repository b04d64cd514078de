"""`callcenter-ari campaign import` as a campaign manager runs it: a separate process, the tenant's Redis, a
progress bar, a summary, the rejected rows written out, and a clear refusal of a file over the limit."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

from callcenter_ari.store.campaign_desk import CampaignDesk
from tests.campaigns.conftest import SPEC
from tests.conftest import REDIS_URL

CLI = [sys.executable, "-m", "callcenter_ari", "campaign", "import"]


def config(tmp_path: Path, prefix: str, limit_mb: int = 512) -> Path:
    path = tmp_path / "callcenter.toml"
    path.write_text(
        f"""
[app]
tenant = "t1"
[redis]
url = "{REDIS_URL}"
prefix = "{prefix}"
[queues.support]
name = "Support"
[trunks.provider1]
kind = "pjsip"
region = "CN"
endpoint = "provider1"
capacity = 30
[campaigns]
max_upload_mb = {limit_mb}
"""
    )
    return path


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, env={**os.environ, "COLUMNS": "160"})


async def test_a_gbk_file_is_imported_with_a_summary_and_its_rejects_written_out(
    desk: CampaignDesk, tmp_path: Path, key_prefix: str
) -> None:
    await desk.create("loans", SPEC, by="test")
    leads = tmp_path / "名单.csv"
    leads.write_bytes("姓名,手机\n张三,13800138000\n李四,PJSIP/x\n王五,13900139000\n".encode("gbk"))
    rejects = tmp_path / "rejects.csv"
    done = run(
        str(leads), "--config", str(config(tmp_path, key_prefix)), "--campaign", "loans", "--rejects", str(rejects)
    )
    assert done.returncode == 0, done.stderr
    assert "loaded" in done.stdout and "not_a_number" in done.stdout and "gb18030" in done.stdout
    assert (await desk.stats("loans")).leads == 2
    table = list(csv.reader(rejects.read_text(encoding="utf-8-sig").splitlines()))
    assert table[1][:2] == ["3", "not_a_number"] and table[1][3:] == ["李四", "PJSIP/x"]


async def test_the_do_not_call_list_and_a_dry_run(desk: CampaignDesk, tmp_path: Path, key_prefix: str) -> None:
    numbers = tmp_path / "dnc.csv"
    numbers.write_text("phone\n+8613800138000\n13900139000\n")
    settings = str(config(tmp_path, key_prefix))
    dry = run(str(numbers), "--config", settings, "--do-not-call", "--region", "CN", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "would load" in dry.stdout and await desk.dnc.count() == 0
    done = run(str(numbers), "--config", settings, "--do-not-call", "--region", "CN")
    assert done.returncode == 0 and await desk.dnc.count() == 2


async def test_a_file_over_the_limit_or_unreadable_is_refused_clearly(
    desk: CampaignDesk, tmp_path: Path, key_prefix: str
) -> None:
    await desk.create("loans", SPEC, by="test")
    big = tmp_path / "big.csv"
    with big.open("wb") as out:
        out.truncate(2 * 1024 * 1024 + 1)  # 2 MB of nothing: refused by its size before a byte is read
    refused = run(str(big), "--config", str(config(tmp_path, key_prefix, limit_mb=1)), "--campaign", "loans")
    assert refused.returncode == 2 and "the limit is 1 MB (campaigns.max_upload_mb)" in refused.stderr
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    stopped = run(str(empty), "--config", str(config(tmp_path, key_prefix)), "--campaign", "loans")
    assert stopped.returncode == 1 and "the file is empty" in stopped.stderr
    missing = run(str(empty), "--config", str(config(tmp_path, key_prefix)), "--campaign", "nope")
    assert missing.returncode == 2 and "no campaign 'nope'" in missing.stderr
