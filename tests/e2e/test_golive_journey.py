"""Going live with no demo, in a real Chromium: the operator runs `flask setup init`, 方山县's admin
imports the county's townships, adds 积翠镇's 站所 with their industries and a village, uploads 30
enterprises (one bad row refused by row and column, then corrected), prints the account letters
and reads them back; a principal logs in with the initial password, must change it, and opens the
enterprise's lists."""
from __future__ import annotations

import io
import re

from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.e2e.conftest import first_log_in, log_out, pdf_text, serving
from tests.onboarding.conftest import code, enterprise_row, workbook

ENTERPRISES = 30
BAD_ROW = 17  # spreadsheet row: the 16th enterprise


def _rows(bad: bool) -> list[list]:
    rows = []
    for i in range(1, ENTERPRISES + 1):
        change = {"unit": "积翠村" if i % 3 == 0 else "积翠镇", "industry": ("商贸", "燃气", "自建房")[i % 3],
                  "high_risk": "是" if i % 10 == 0 else "否"}
        if bad and i + 1 == BAD_ROW:
            good = code(i)
            change["credit_code"] = good[:17] + ("1" if good[17] != "1" else "2")  # a wrong check character
        rows.append(enterprise_row(i, **change))
    return rows


def test_a_county_goes_live_from_an_empty_database(committed_app, browser, tmp_path):
    setup = committed_app.test_cli_runner().invoke(args=[
        "setup", "init", "--admin", "fangshan_admin", "--admin-name", "方山县管理员", "--division", "141128",
        "--generate-password"])
    assert setup.exit_code == 0, setup.output
    password = re.search(r"只显示这一次.*?：(\S+)", setup.output).group(1)

    with serving(committed_app) as base:
        context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900}, accept_downloads=True)
        page = context.new_page()
        page.set_default_timeout(15_000)
        first_log_in(page, base, "fangshan_admin", password, "Fangshan#2026")
        expect(page.get_by_role("heading", name="方山县")).to_be_visible()

        # The county's townships from the bundled 2023 divisions.
        page.get_by_role("navigation").get_by_role("link", name="组织架构").click()
        page.get_by_role("link", name="方山县", exact=True).last.click()
        page.get_by_role("button", name="导入本县乡镇街道（2023 年区划）").click()
        expect(page.get_by_role("status")).to_contain_text("已导入 6 个乡镇街道")
        expect(page.locator("#children")).to_contain_text("积翠镇")
        expect(page.locator("#children")).to_contain_text("北武当镇")

        # 积翠镇's 站所 with the industries they lead (seed 003), and a village.
        page.locator("#children").get_by_role("link", name="积翠镇", exact=True).click()
        expect(page.get_by_role("heading", name="积翠镇")).to_be_visible()
        township_url = page.url
        for name, industries in (("城建站", ("建筑施工", "自建房", "燃气")), ("水利站", ("河道",))):
            page.get_by_text("新建下级单位或部门").click()
            page.get_by_label("类型").select_option(label="站所/部门")
            page.get_by_label("名称").fill(name)
            for industry in industries:
                page.get_by_label(industry, exact=True).check()
            page.get_by_role("button", name="新建", exact=True).click()
            expect(page.get_by_role("heading", name=name)).to_be_visible()
            expect(page.locator("dl.facts")).to_contain_text("、".join(sorted(
                industries, key=["建筑施工", "燃气", "河道", "自建房"].index)))
            page.goto(township_url)
        page.get_by_text("新建下级单位或部门").click()
        page.get_by_label("类型").select_option(label="村/社区")
        page.get_by_label("名称").fill("积翠村")
        page.get_by_role("button", name="新建", exact=True).click()
        expect(page.get_by_role("heading", name="积翠村")).to_be_visible()

        # The Chinese template, then 30 enterprises with one bad row: refused by row and column.
        page.get_by_role("navigation").get_by_role("link", name="批量导入").click()
        section = page.locator("#import-enterprises")
        with page.expect_download() as download:
            section.get_by_role("link", name=re.compile("下载“企业及负责人”导入模板")).click()
        assert download.value.suggested_filename == "企业及负责人导入模板.xlsx"
        with open(download.value.path(), "rb") as f:
            header = [c.value for c in load_workbook(io.BytesIO(f.read())).worksheets[0][1]]
        assert header[:4] == ["企业名称", "统一社会信用代码", "行业领域", "所属街道/乡镇或村/社区"]
        bad, good = tmp_path / "方山县企业.xlsx", tmp_path / "方山县企业（改正）.xlsx"
        bad.write_bytes(workbook(_rows(bad=True)))
        good.write_bytes(workbook(_rows(bad=False)))
        section.get_by_label("Excel 文件（.xlsx）").set_input_files(str(bad))
        section.get_by_role("button", name="上传并检查（企业及负责人）").click()
        alert = page.locator("#import-enterprises").get_by_role("alert")
        expect(alert).to_contain_text("没有写入任何数据")
        expect(alert).to_contain_text(f"第 {BAD_ROW} 行 B 列“统一社会信用代码”：统一社会信用代码第 18 位校验码错误")
        assert alert.inner_text().count("第 ") == 2  # that cell only, and the digit it names

        # Corrected: the preview, then the import.
        page.locator("#import-enterprises").get_by_label("Excel 文件（.xlsx）").set_input_files(str(good))
        page.locator("#import-enterprises").get_by_role("button", name="上传并检查（企业及负责人）").click()
        expect(page.get_by_role("status")).to_contain_text(f"将登记 {ENTERPRISES} 家企业")
        expect(page.get_by_role("status")).to_contain_text(f"建立 {2 * ENTERPRISES} 个账号")
        expect(page.locator("table")).to_contain_text("方山县第16商贸有限公司")
        page.get_by_role("button", name="确认导入").click()
        expect(page.get_by_role("status").first).to_contain_text(f"已导入 {ENTERPRISES} 家企业、{2 * ENTERPRISES} 个账号")

        # The account letters: one page per person, read back as text.
        link = page.get_by_role("link", name="下载 PDF")
        expect(link).to_be_visible(timeout=120_000)
        response = context.request.get(base + link.get_attribute("href"))
        assert response.ok and response.headers["content-type"] == "application/pdf"
        from pypdf import PdfReader
        pages = PdfReader(io.BytesIO(response.body())).pages
        assert len(pages) == 2 * ENTERPRISES
        text = pdf_text(response.body())
        assert "平台账号通知书" in text and "方山县第7商贸有限公司主要负责人" in text
        letter = re.search(r"张7：.*?用户名(\d{11})初始密码([A-Za-z0-9@#%+=]{12})", text)
        assert letter and letter.group(1) == "13900000007", text[:500]
        log_out(page)

        # The principal's first login with the initial password: a password of their own first, then
        # the enterprise's lists.
        first_log_in(page, base, letter.group(1), letter.group(2), "Ziji#Mima2026")
        page.get_by_role("navigation").get_by_role("link", name="责任清单").click()
        expect(page.get_by_role("heading", name="方山县第7商贸有限公司")).to_be_visible()
        context.close()
