"""Lead lists imported into a campaign on the real Redis: bad rows with their line and reason, encodings,
numbers in every form, duplicates, the do-not-call list, dry runs, and files that cannot be read at all."""

from __future__ import annotations

import codecs

import pytest

from callcenter_ari.campaigns.model import CampaignSpec
from callcenter_ari.store.campaign_desk import CampaignConflict, CampaignDesk, CampaignInvalid
from callcenter_ari.store.lead_imports import ImportFailed
from tests.campaigns.conftest import SPEC, chunks, csv_of, load

ROWS = [
    "张三,138 0013 8000,VIP",  # 2: national, spaced
    "李四,100@other-context,x",  # 3: a dial string
    "王五,PJSIP/x,",  # 4
    "赵六,\uff11\uff13\uff19\uff10\uff10\uff11\uff13\uff19\uff10\uff10\uff10,",  # 5: full-width digits
    "钱七,1.38E+10,",  # 6: Excel's scientific notation
    "孙八,13700137000,a,b",  # 7: ragged
    "周九,+86 136-0013-6000,",  # 8: international
    "吴十,'13500135000,note",  # 9: Excel's text apostrophe
    "郑一,0086 13400134000,",  # 10: international from China
    "冯二,123&456,",  # 11
    "陈三,Local/100@from-internal,",  # 12
    "褚四,(021) 6123-4567,",  # 13: a Shanghai landline
    "卫五,13800138000,again",  # 14: the same number as line 2
    "蒋六,12345,",  # 15: too short
]


NAMES = {
    "gbk": ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨秀英", "黄强", "赵敏", "吴磊", "周杰"],
    "big5": ["張偉", "王芳", "李娜", "劉洋", "陳靜", "楊秀英", "黃強", "趙敏", "吳磊", "周傑"],
    "cp1252": ["Müller", "Garçon", "Søren", "Zoë", "Françoise", "Jürgen", "Ángel", "Renée", "Björn", "Ñuñez"],
}


async def campaign(desk: CampaignDesk, campaign_id: str = "loans", spec: CampaignSpec = SPEC) -> str:
    await desk.create(campaign_id, spec, by="test")
    return campaign_id


async def rejects_of(desk: CampaignDesk, import_id: str) -> dict[int, str]:
    found: dict[int, str] = {}
    async for batch in desk.imports.rejects(import_id):
        found.update({r.line: r.reason for r in batch})
    return found


class TestRows:
    async def test_good_rows_load_and_every_bad_row_is_reported_with_its_line_and_reason(
        self, desk: CampaignDesk
    ) -> None:
        await campaign(desk)
        record = await load(desk, "loans", csv_of(ROWS))
        assert record.status == "done" and record.rows == 14
        assert await rejects_of(desk, record.id) == {
            3: "not_a_number",
            4: "not_a_number",
            6: "scientific",
            7: "ragged",
            11: "not_a_number",
            12: "not_a_number",
            14: "duplicate",
            15: "invalid_number",
        }
        assert record.loaded == 6 and record.rejected == 8
        numbers = {lead.number for batch in [b async for b in desk.leads.scan("loans")] for lead in batch}
        assert numbers == {
            "+8613800138000",
            "+8613900139000",
            "+8613600136000",
            "+8613500135000",
            "+8613400134000",
            "+862161234567",
        }
        lead = await desk.leads.by_number("loans", "+8613800138000")
        assert lead is not None and lead.name == "张三" and lead.data == {"备注": "VIP"} and lead.line == 2
        assert lead.zone == "Asia/Shanghai" and lead.state == "new"
        assert record.columns == {"phone": "手机", "name": "姓名"} and record.data_columns == ["备注"]
        assert (await desk.campaigns.require("loans")).data_columns == ["备注"]

    async def test_a_duplicate_names_the_line_it_repeats_and_a_second_file_is_checked_against_the_campaign(
        self, desk: CampaignDesk
    ) -> None:
        await campaign(desk)
        first = await load(desk, "loans", csv_of(["A,13800138000,", "B,13800138000,"]))
        reject = next(iter([r async for batch in desk.imports.rejects(first.id) for r in batch]))
        assert reject.line == 3 and "line 2" in reject.message
        second = await load(desk, "loans", csv_of(["C,+86 138 0013 8000,", "D,13900139000,"]))
        assert await rejects_of(desk, second.id) == {2: "in_campaign"}
        assert second.loaded == 1
        assert (await desk.stats("loans")).by_state["new"] == 2

    @pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8-sig", "utf-8", "utf-16"])
    async def test_encodings_are_detected(self, desk: CampaignDesk, encoding: str) -> None:
        await campaign(desk)
        record = await load(
            desk, "loans", csv_of(["张三,13800138000,北京市朝阳区", "李四,13900139000,上海"]), write_as=encoding
        )
        assert record.loaded == 2, record
        lead = await desk.leads.by_number("loans", "+8613800138000")
        assert lead is not None and lead.name == "张三" and lead.data["备注"] == "北京市朝阳区"

    @pytest.mark.parametrize("encoding", ["gbk", "big5", "cp1252"])
    async def test_the_encoding_of_a_file_longer_than_the_sample_is_detected(
        self, desk: CampaignDesk, encoding: str
    ) -> None:
        """The sample the encoding is told from ends wherever 64 KB ends, often inside a character."""
        await campaign(desk)
        names = NAMES[encoding]
        text = csv_of([f"{names[n % len(names)]},1380013{n:04d},{n}" for n in range(6000)], header="name,phone,n")
        data = text.encode(encoding)
        record = await load(desk, "loans", data)
        assert record.loaded == 6000 and record.encoding == {"gbk": "gb18030"}.get(encoding, encoding)

    async def test_the_zone_column_wins_over_the_numbers_zone(self, desk: CampaignDesk) -> None:
        """The list's author knows where the person is: a filled zone cell wins; an empty one leaves the number's."""
        await campaign(desk)
        text = csv_of(["a,+1 212 555 0123,Europe/London", "b,+1 212 555 0124,"], header="name,phone,time_zone")
        assert (await load(desk, "loans", text)).loaded == 2
        stated = await desk.leads.by_number("loans", "+12125550123")
        unstated = await desk.leads.by_number("loans", "+12125550124")
        assert stated is not None and stated.zone == "Europe/London"
        assert unstated is not None and unstated.zone == "America/New_York"

    async def test_a_stated_encoding_is_used(self, desk: CampaignDesk) -> None:
        await campaign(desk)
        data = csv_of(["张三,13800138000,"]).encode("gbk")
        record = await load(desk, "loans", data, encoding="gbk")
        assert record.encoding == "gbk" and record.loaded == 1

    async def test_numbers_read_in_the_default_region_or_as_written_abroad(self, desk: CampaignDesk) -> None:
        await campaign(desk)
        text = csv_of(["US,+1 (212) 555-0123,", "DE,0049 30 1234567,", "local,021 6123 4567,"], header="name,phone,x")
        record = await load(desk, "loans", text)
        assert record.loaded == 3
        us = await desk.leads.by_number("loans", "+12125550123")
        assert us is not None and us.zone == "America/New_York"
        assert await desk.leads.by_number("loans", "+49301234567") is not None
        other_region = await load(desk, "loans", csv_of(["x,(212) 555-0199,"], header="n,phone,x"), region="US")
        assert other_region.loaded == 1 and await desk.leads.by_number("loans", "+12125550199") is not None

    async def test_columns_are_found_by_name_or_position_and_a_file_without_header_reads(
        self, desk: CampaignDesk
    ) -> None:
        await campaign(desk)
        named = await load(desk, "loans", "客户,联系电话,金额\nA,13800138000,100\n", phone_column="联系电话")
        assert named.columns == {"phone": "联系电话", "name": "客户"}
        bare = await load(desk, "loans", "13900139000;甲\n13700137000;乙\n")
        assert bare.loaded == 2 and bare.columns == {"phone": "column_1"} and bare.delimiter == ";"
        lead = await desk.leads.by_number("loans", "+8613900139000")
        assert lead is not None and lead.data == {"column_2": "甲"}

    async def test_the_do_not_call_list_is_checked_at_import(self, desk: CampaignDesk) -> None:
        await campaign(desk)
        await desk.add_dnc(["13800138000"], "CN", "asked", by="test")
        record = await load(desk, "loans", csv_of(["A,13800138000,", "B,13900139000,"]))
        assert await rejects_of(desk, record.id) == {2: "do_not_call"} and record.loaded == 1

    async def test_a_dry_run_reports_what_would_load_and_loads_nothing(self, desk: CampaignDesk) -> None:
        await campaign(desk)
        record = await load(desk, "loans", csv_of(ROWS), dry_run=True)
        assert record.dry_run and record.loaded == 6 and record.rejected == 8
        assert (await desk.stats("loans")).leads == 0
        assert await desk.leads.redis.exists(desk.leads.keys.lead_import(record.id, "seen")) == 0
        real = await load(desk, "loans", csv_of(ROWS))
        assert real.loaded == 6


class TestFiles:
    @pytest.mark.parametrize(
        ("data", "expected"),
        [
            (b"", "the file is empty"),
            ("姓名,地址\n张三,北京\n".encode(), "no phone column among 姓名, 地址"),
            (b"PK\x03\x04rest-of-a-zip", "Excel workbook (.xlsx)"),
            (b"phone\n" + bytes(range(0x80, 0x100)) * 300, "cannot tell the file's encoding"),
            (b"phone\n" + b"\x00\x01", "a NUL byte"),
            (b"phone,name\n", "no rows to read"),
            (b'phone,name\n13800138000,"open quote\n', "ends inside a quoted cell"),
        ],
    )
    async def test_a_file_that_cannot_be_read_is_a_clear_error_and_loads_nothing(
        self, desk: CampaignDesk, data: bytes, expected: str
    ) -> None:
        await campaign(desk)
        with pytest.raises(ImportFailed) as failed:
            await load(desk, "loans", data)
        assert expected in str(failed.value)
        assert failed.value.record.status == "failed" and failed.value.record.loaded == 0
        assert (await desk.stats("loans")).leads == 0

    async def test_a_file_that_goes_bad_half_way_says_how_far_it_got(self, desk: CampaignDesk) -> None:
        """4,000 good UTF-8 rows (more than the sample the encoding is told from), then a GBK line: the rows before
        it load, the error names line 4002."""
        await campaign(desk)
        good = "".join(f"甲,1380013{n:04d},\n" for n in range(4000)).encode()
        data = "姓名,phone,x\n".encode() + good + "坏,13900139000,\n".encode("gbk") + b"B,13700137000,\n"
        with pytest.raises(ImportFailed) as failed:
            await load(desk, "loans", data)
        record = failed.value.record
        assert record.error_line == 4002 and "not utf-8" in record.error
        assert record.loaded == 4000 and "4000 rows loaded" in str(failed.value)
        assert (await desk.imports.get(record.id, 0.0)) is not None
        assert (await desk.stats("loans")).leads == 4000

    async def test_a_file_over_the_limit_stops_at_the_limit(self, desk: CampaignDesk) -> None:
        await campaign(desk)
        small = desk.settings.__class__(max_upload_mb=1)
        desk.settings = small
        data = b"phone\n" + b"".join(b"1380013%04d\n" % n for n in range(10000)) * 10
        with pytest.raises(ImportFailed) as failed:
            await load(desk, "loans", data)
        assert "larger than 1 MB" in str(failed.value)

    async def test_a_stopped_or_finished_campaign_takes_no_leads(self, desk: CampaignDesk) -> None:
        await campaign(desk)
        await desk.act("loans", "stop", by="test")
        with pytest.raises(CampaignConflict):
            await load(desk, "loans", csv_of(["A,13800138000,"]))

    async def test_an_unknown_encoding_or_region_names_the_option(self, desk: CampaignDesk) -> None:
        await campaign(desk)
        with pytest.raises(CampaignInvalid, match="encoding: unknown encoding 'klingon'"):
            await load(desk, "loans", csv_of(["A,13800138000,"]), encoding="klingon")
        with pytest.raises(CampaignInvalid, match="region"):
            await load(desk, "loans", csv_of(["A,13800138000,"]), region="XX")


async def test_rejects_of_a_huge_bad_file_are_counted_beyond_what_is_kept(desk: CampaignDesk) -> None:
    await campaign(desk)
    text = csv_of([f"x,abc{n}," for n in range(1500)])
    record = await load(desk, "loans", text)
    assert record.rejected == 1500 and record.rejects_kept == 1000 and record.reasons == {"not_a_number": 1500}
    assert len(await rejects_of(desk, record.id)) == 1000


async def test_the_bom_of_gb18030_is_not_part_of_the_header(desk: CampaignDesk) -> None:
    await campaign(desk)
    data = b"\x84\x31\x95\x33" + csv_of(["张三,13800138000,"]).encode("gb18030")
    record = await load(desk, "loans", data)
    assert record.encoding == "gb18030" and record.columns["phone"] == "手机"
    assert codecs.BOM_UTF8 not in data
    _ = chunks


async def test_an_import_whose_process_died_reads_as_interrupted_with_its_counts(desk: CampaignDesk) -> None:
    """A running import's report is saved as it goes; not heard of for two minutes, it is shown as interrupted."""
    await campaign(desk)
    record = await load(desk, "loans", csv_of(["A,13800138000,"]))
    record.status, record.updated_at = "running", 1000.0
    await desk.imports.save(record, desk.imports.index("loans"))
    stale = await desk.imports.get(record.id, 1000.0 + 121)
    fresh = await desk.imports.get(record.id, 1000.0 + 60)
    assert stale is not None and stale.status == "interrupted" and stale.loaded == 1
    assert fresh is not None and fresh.status == "running"
