"""The statistics page and its exports: a period of whole days ("to" included) chooses the deployments counted,
a period that is not one is refused with its reason (400, nothing shown, nothing recorded), totals are the
rows' sums, the charts are there with an accessible name, and the CSV is the page's table and is recorded in
the audit trail; at the console, through the API and in the use case alike."""

from __future__ import annotations

import csv
import io
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from actors import api_token, console_client, make_app, staff, username
from openfr.errors import BadInputError, PermissionDeniedError
from openfr.governance import audit
from openfr.governance.permissions import Role
from openfr.services.deployment_statistics import SUMMED
from openfr.store import Deployment
from openfr.thresholds import expected_false_alerts
from openfr.web.app import create_app
from statistics_data import add_deployment, day, the_first_days_of_may

MAY = {"from": "2026-05-01", "to": "2026-05-03"}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    app = make_app(tmp_path_factory.mktemp("statistics") / "home")
    people = staff(app)
    app.galleries.create(people[Role.ADMINISTRATOR], "custody", "custody images (test)")  # a deployment draws on it
    the_first_days_of_may(app, "custody")
    web = create_app(app)
    yield app, people, web
    app.close()


def _console(web, role: Role) -> TestClient:
    return console_client(web, username(role), htmx=False)


def _events(app, action: str) -> list[dict]:
    with app.runtime.db.read() as session:
        return audit.events(session, action=action)


def _refusals(app) -> int:
    with app.runtime.db.read() as session:
        return len(audit.events(session, action="refused"))


def _audit_count(app) -> int:
    with app.runtime.db.read() as session:
        return audit.head(session)["events"]


def test_the_period_counts_deployments_by_the_day_they_went_live_to_included(world):
    app, people, _ = world
    auditor = people[Role.AUDITOR]
    names = lambda **period: [r["deployment"] for r in app.deployments.statistics(auditor, **period)]  # noqa: E731
    # Newest first; "to" includes its last second, "from" its first; the evening before, the next day's
    # midnight and a draft that never went live are not in the period.
    assert names(since="2026-05-01", until="2026-05-03") == ["last-second", "first-morning"]
    assert names(since="2026-05-01", until="2026-05-02") == ["first-morning"]
    assert names(since="2026-05-02", until="2026-05-03") == ["last-second"]
    assert names(since="2026-05-04") == ["next-day"]
    assert names(until="2026-04-30") == ["eve-before"]
    assert names(since="0001-01-01", until="9999-12-31") == ["next-day", "last-second", "first-morning", "eve-before"]
    assert names(since=" 2026-05-03 ", until="2026-05-03") == ["last-second"]  # a day alone; spaces trimmed
    # No period: every deployment, the draft included (as before the period existed).
    assert names() == ["still-a-draft", "next-day", "last-second", "first-morning", "eve-before"]


def test_totals_are_the_sums_of_the_rows_and_time_to_alert_is_pooled(world):
    app, people, _ = world
    report = app.deployments.statistics_report(people[Role.AUDITOR], since=MAY["from"], until=MAY["to"])
    rows, totals = report["rows"], report["totals"]
    assert (report["from"], report["to"], totals["deployments"]) == ("2026-05-01", "2026-05-03", 2)
    for key in SUMMED:
        assert totals[key] == sum(r[key] for r in rows), key
    assert (totals["faces_seen"], totals["alerts"], totals["confirmed"], totals["false_alerts"]) == (2500, 6, 1, 2)
    assert (totals["awaiting_decision"], totals["superseded"], totals["engagements"]) == (2, 1, 2)
    assert totals["outcomes"] == {"not-engaged": 1, "engaged-not-the-person": 1, "engaged-arrest": 1}
    # Every alert's time counts once: 50 60 70 | 200 300 400, not the median of the two rows' medians.
    assert totals["time_to_alert_ms"]["p50"] == 135.0
    assert totals["false_alerts_per_100k"] == 2 / 2500 * 100_000
    first = next(r for r in rows if r["deployment"] == "first-morning")
    assert first["false_alerts_per_100k"] == 50.0  # 1 rejected among 2,000 people
    assert first["went_live"] == "2026-05-01"
    predicted = expected_false_alerts(app.runtime.engine.card, 0.45, 100)
    assert first["expected_false_alerts_per_100k"] == (None if predicted is None else round(predicted, 2))
    # Every alert is in exactly one part of the chart's bar.
    for r in rows:
        assert r["confirmed"] + r["false_alerts"] + r["awaiting_decision"] + r["superseded"] == r["alerts"]


@pytest.mark.parametrize(
    ("period", "message"),
    [
        ({"from": "last tuesday"}, "from: not a date (YYYY-MM-DD): 'last tuesday'"),
        ({"to": "2026-13-01"}, "to: not a date"),
        ({"from": "2026-05-03", "to": "2026-05-01"}, "the period ends before it starts"),
    ],
)
def test_a_period_that_is_not_one_is_refused_with_its_reason_and_changes_nothing(world, period, message):
    app, people, web = world
    with pytest.raises(BadInputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        app.deployments.statistics_report(people[Role.AUDITOR], since=period.get("from"), until=period.get("to"))
    console = _console(web, Role.AUDITOR)
    token = api_token(app, username(Role.AUDITOR))
    api = TestClient(web, base_url="https://testserver", headers={"Authorization": f"Bearer {token}"})
    before = _audit_count(app)
    page = console.get("/statistics", params=period)
    assert page.status_code == 400
    assert 'role="alert"' in page.text and message.replace("'", "&#39;") in page.text
    assert 'class="stats"' not in page.text and "<svg" not in page.text and "Totals" not in page.text
    assert 'aria-invalid="true"' in page.text  # the form is still there, to correct the period
    assert console.get("/statistics.csv", params=period).status_code == 400
    for fmt in ("json", "csv"):
        answer = api.get("/api/statistics", params={**period, "format": fmt})
        assert answer.status_code == 400 and message in answer.json()["detail"]
    assert _audit_count(app) == before  # no export recorded: nothing was exported


def test_the_page_shows_totals_charts_with_accessible_names_and_the_table(world):
    _, _, web = world
    page = _console(web, Role.AUDITOR).get("/statistics", params=MAY)
    assert page.status_code == 200
    html = page.text
    assert 'id="total-alerts">6<' in html and 'id="total-faces">2500<' in html and 'id="total-tta">135.0 ms<' in html
    assert html.count('<svg role="img"') == 2
    assert (
        '<svg role="img" aria-labelledby="chart-alerts-title"' in html
        and '<title id="chart-alerts-title">Alerts per deployment: 6 in 2 deployment(s); 1 confirmed, 2 false, '
        "2 awaiting decision, 1 superseded.</title>"
        in html
    )
    assert '<title id="chart-rates-title">False alerts per 100,000 people seen' in html
    assert ' style="' not in html  # the CSP forbids inline styles: the charts are coloured by classes
    assert 'href="/statistics.csv?from=2026-05-01&amp;to=2026-05-03"' in html
    table = _table(html)
    assert [r[0] for r in table[1:-1]] == ["last-second", "first-morning"]


def test_the_csv_is_the_pages_table_and_its_download_is_recorded(world):
    app, _, web = world
    console = _console(web, Role.AUDITOR)
    shown = [[cell.replace("—", "") for cell in row] for row in _table(console.get("/statistics", params=MAY).text)]
    before = len(_events(app, "statistics.export"))
    answer = console.get("/statistics.csv", params=MAY)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    assert 'filename="openfr-statistics-2026-05-01-to-2026-05-03.csv"' in answer.headers["content-disposition"]
    exported = list(csv.reader(io.StringIO(answer.text)))
    assert len(exported[0]) == len(shown[0])  # a column for each of the page's
    assert exported[1:] == shown[1:]  # every row and the totals, cell for cell
    assert exported[-1][0] == "Total (2 deployments)"
    events = _events(app, "statistics.export")
    assert len(events) == before + 1
    assert events[-1]["actor"] == username(Role.AUDITOR)
    assert events[-1]["details"] == {"format": "csv", "deployments": 2, "filter_from": "2026-05-01",
                                     "filter_to": "2026-05-03"}  # fmt: skip
    # The API gives the same figures through the same use case, and its CSV download is recorded too.
    token = api_token(app, username(Role.AUDITOR))
    api = TestClient(web, base_url="https://testserver", headers={"Authorization": f"Bearer {token}"})
    report = api.get("/api/statistics", params=MAY).json()
    assert [r["deployment"] for r in report["rows"]] == ["last-second", "first-morning"]
    assert report["totals"]["alerts"] == 6
    assert api.get("/api/statistics", params={**MAY, "format": "csv"}).text == answer.text
    assert len(_events(app, "statistics.export")) == before + 2


def test_a_cell_that_starts_like_a_formula_is_exported_as_text(world):
    app, people, _ = world
    add_deployment(app, "formula", "custody", live_at=day("2026-06-01T10:00:00"), people=10)
    with app.runtime.db.transaction() as session:  # a name from before names were checked, say
        session.scalars(sa.select(Deployment).where(Deployment.name == "formula")).one().name = "=cmd|' /C calc'!A0"
    try:
        exported = app.deployments.export_statistics(people[Role.AUDITOR], since="2026-06-01", until="2026-06-01")
    finally:  # the other tests count the module's deployments
        with app.runtime.db.transaction() as session:
            session.execute(sa.delete(Deployment).where(Deployment.live_at >= day("2026-06-01T00:00:00")))
    rows = list(csv.reader(io.StringIO(exported.csv)))
    assert rows[1][0] == "'=cmd|' /C calc'!A0"  # shown as text by a spreadsheet, never run


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.INVESTIGATOR, Role.OFFICER])
def test_roles_without_stats_read_are_refused_and_nothing_is_recorded(world, role):
    app, people, web = world
    with pytest.raises(PermissionDeniedError):
        app.deployments.statistics_report(people[role])
    console = _console(web, role)
    before, refused = _audit_count(app), _refusals(app)
    assert console.get("/statistics", params=MAY).status_code == 403
    assert console.get("/statistics.csv", params=MAY).status_code == 403
    # Refused before anything was read: nothing recorded but the two refusals themselves.
    assert (_audit_count(app), _refusals(app)) == (before + 2, refused + 2)


class _TableCells(HTMLParser):
    """The cells' text of the page's statistics table, row by row."""

    def __init__(self):
        super().__init__()
        self.rows: list[list[str]] = []
        self.inside = self.cell = False

    def handle_starttag(self, tag, attrs):
        if tag == "table" and ("class", "stats") in attrs:
            self.inside = True
        elif self.inside and tag == "tr":
            self.rows.append([])
        elif self.inside and tag in ("td", "th"):
            self.cell = True
            self.rows[-1].append("")

    def handle_endtag(self, tag):
        if tag == "table":
            self.inside = False
        elif tag in ("td", "th"):
            self.cell = False

    def handle_data(self, data):
        if self.inside and self.cell:
            self.rows[-1][-1] += data.strip()


def _table(html: str) -> list[list[str]]:
    parser = _TableCells()
    parser.feed(html)
    return parser.rows
