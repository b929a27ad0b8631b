"""Reports from the tablet, the API and the CLI: the right people get the files, others a
clear refusal, and bad requests a clear error that changes nothing."""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from coldset.cli import main
from tests.web.conftest import P, Web


@pytest.fixture
def token(web: Web) -> Any:
    accounts = web.app.state.coldset.accounts
    return lambda who: {"Authorization": f"Bearer {accounts.create_token(who, 'test')}"}


def test_reports_page_lists_days_units_and_firearms_for_the_armorer(web: Web) -> None:
    web.login("hana")
    r = web.client.get(f"{P}/reports")
    assert r.status_code == 200
    assert f"{P}/reports/day/day-1.pdf" in r.text
    assert f"{P}/reports/day/day-1.pdf?unit=second" in r.text
    assert f"{P}/reports/firearm/colt-1.pdf" in r.text
    assert f'href="{P}/reports"' in web.client.get(f"{P}/board").text  # in the menu


def test_day_report_pdf_and_csv_from_the_tablet(web: Web) -> None:
    web.login("lee")
    r = web.client.get(f"{P}/reports/day/day-1.pdf")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(r.content)).pages)
    assert "Day report" in text and "day-1" in text
    c = web.client.get(f"{P}/reports/day/day-1.csv?table=lots&unit=main")
    assert c.status_code == 200 and c.text.startswith("lot,kind,caliber")
    h = web.client.get(f"{P}/reports/firearm/colt-1.csv")
    assert h.status_code == 200 and h.text.startswith("log_index,time,by")


def test_a_performer_sees_no_reports(web: Web) -> None:
    web.login("alec")
    assert f'href="{P}/reports"' not in web.client.get(f"{P}/board").text
    r = web.client.get(f"{P}/reports")
    assert r.status_code == 403 and "armorer" in r.text
    assert web.client.get(f"{P}/reports/day/day-1.pdf").status_code == 403


@pytest.mark.parametrize(
    "path",
    [
        "/reports/day/day-9.pdf",
        "/reports/day/day-1.doc",
        "/reports/day/day-1.csv?table=x",
        "/reports/day/day-1.pdf?unit=nope",
        "/reports/firearm/ghost.pdf",
    ],
)
def test_bad_report_requests_are_a_clear_404(web: Web, path: str) -> None:
    web.login("hana")
    size = web.size()
    r = web.client.get(P + path)
    assert r.status_code == 404 and "Traceback" not in r.text
    assert web.size() == size


def test_reports_through_the_api(web: Web, token: Any) -> None:
    api = f"/api/v1/productions/{web.state.production.id}/reports"
    r = web.client.get(f"{api}/day/day-1", headers=token("hana"))
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    r = web.client.get(f"{api}/day/day-1?format=csv&table=refusals", headers=token("hana"))
    assert r.status_code == 200 and r.text.startswith("log_index")
    r = web.client.get(f"{api}/firearm/colt-1?format=csv", headers=token("dave"))
    assert r.status_code == 200
    assert web.client.get(f"{api}/day/day-1", headers=token("alec")).status_code == 403
    assert web.client.get(f"{api}/day/day-1").status_code == 401
    nf = web.client.get(f"{api}/day/nope", headers=token("hana"))
    assert nf.status_code == 404 and nf.headers["content-type"] == "application/problem+json"
    bad = web.client.get(f"{api}/day/day-1?format=docx", headers=token("hana"))
    assert bad.status_code == 422


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    old = sys.argv
    sys.argv = ["coldset", *args]
    try:
        main()
        code = 0
    except SystemExit as e:
        code = int(e.code or 0)
    finally:
        sys.argv = old
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def test_cli_report_to_a_file_and_csv_to_stdout(
    web: Web, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = str(web.install.settings.home)
    prod = web.state.production.id
    out = tmp_path / "day.pdf"
    code, stdout, err = _cli(
        capsys, "--home", home, "report", "day", prod, "day-1", "--output", str(out)
    )
    assert code == 0, err
    assert out.read_bytes().startswith(b"%PDF") and "written to" in stdout
    code, stdout, _ = _cli(
        capsys, "--home", home, "report", "day", prod, "day-1", "--format", "csv", "--table", "lots"
    )
    assert code == 0 and stdout.startswith("lot,kind,caliber")
    code, stdout, _ = _cli(
        capsys,
        "--home",
        home,
        "report",
        "firearm",
        prod,
        "colt-1",
        "--format",
        "csv",
        "--output",
        str(tmp_path / "h.csv"),
        "--json",
    )
    assert code == 0 and '"ok": true' in stdout.replace(" ", " ")


def test_cli_report_errors_are_one_line_and_write_nothing(
    web: Web, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = str(web.install.settings.home)
    prod = web.state.production.id
    out = tmp_path / "x.pdf"
    code, _, err = _cli(
        capsys, "--home", home, "report", "day", prod, "day-9", "--output", str(out)
    )
    assert code == 1 and "no shoot day 'day-9'" in err and "Traceback" not in err
    assert not out.exists()
    code, _, err = _cli(
        capsys, "--home", home, "report", "day", prod, "day-1", "--format", "csv", "--table", "nope"
    )
    assert code == 1 and "no table 'nope'" in err
    code, _, err = _cli(capsys, "--home", home, "report", "firearm", "nope", "colt-1")
    assert code == 1 and "no log named 'nope'" in err


def test_incident_bound_book_and_label_sheets_from_the_tablet_and_api(web: Web, token: Any) -> None:
    web.login("hana")
    page = web.client.get(f"{P}/reports")
    assert f"{P}/reports/bound-book.csv" in page.text
    book = web.client.get(f"{P}/reports/bound-book.csv")
    assert book.status_code == 200 and book.text.startswith("date_of_receipt,")
    sheet = web.client.get(f"{P}/labels/firearms.pdf?sheet=a4-21")
    assert sheet.status_code == 200 and sheet.content.startswith(b"%PDF")
    assert "labels/firearms.pdf?sheet=letter-30" in web.client.get(f"{P}/labels").text
    assert web.client.get(f"{P}/labels/firearms.pdf?sheet=nope").status_code == 404
    assert web.client.get(f"{P}/reports/incident/inc-0.pdf").status_code == 404
    api = f"/api/v1/productions/{web.state.production.id}/reports"
    r = web.client.get(f"{api}/bound-book", headers=token("hana"))
    assert r.status_code == 200 and r.text.startswith("date_of_receipt,")
    assert web.client.get(f"{api}/incident/inc-0", headers=token("hana")).status_code == 404
