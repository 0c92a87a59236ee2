"""The server-drawn SVG charts: numbers in, markup out. Bars are as long as their figures say, every name is
escaped, each chart is one accessible image with a name, and nothing needs an inline style (the CSP)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from openfr.web import charts
from openfr.web.charts import Bar, Measure, Series, against_expected, nice_max, number, stacked_bars

SVG = "{http://www.w3.org/2000/svg}"
KINDS = (Series("confirmed", "Confirmed"), Series("false", "False"))


def _parse(markup: str) -> ET.Element:
    """The figure as XML (it must be well formed), with the SVG namespace the browser gives inline SVG."""
    return ET.fromstring(str(markup).replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1))


def _svg(figure: ET.Element) -> ET.Element:
    return figure.find(f"{SVG}svg")


def _lines(svg: ET.Element) -> list[str]:
    """The words above the bars, line by line (the axis left out)."""
    return [t.text for t in svg.iter(f"{SVG}text") if t.get("class") in ("chart-label", "chart-value")]


@pytest.mark.parametrize(("value", "top"), [(0, 1), (0.3, 1), (1, 1), (1.2, 2), (3, 5), (7, 10), (10, 10), (11, 20),
                                            (450, 500), (5001, 10_000)])  # fmt: skip
def test_the_axis_ends_on_a_round_figure_at_or_above_the_largest(value, top):
    assert nice_max(value) == top


def test_figures_are_written_without_needless_decimals():
    assert [number(v) for v in (0, 3, 3.0, 2.5, 0.641, 12.10)] == ["0", "3", "3", "2.5", "0.64", "12.1"]


def test_stacked_bars_are_as_long_as_their_parts_and_named_for_assistive_technology():
    figure = _parse(stacked_bars("c1", "Alerts: 5 in total", KINDS, [Bar("north", (3, 1)), Bar("south", (1, 0))]))
    svg = _svg(figure)
    assert svg.get("role") == "img" and svg.get("aria-labelledby") == "c1-title"
    assert svg.find(f"{SVG}title").get("id") == "c1-title" and svg.find(f"{SVG}title").text == "Alerts: 5 in total"
    rects = svg.findall(f"{SVG}rect")
    assert [r.get("class") for r in rects] == ["chart-confirmed", "chart-false", "chart-confirmed"]  # no 0 part
    unit = float(rects[0].get("width")) / 3
    assert float(rects[1].get("width")) == pytest.approx(unit)  # 1 is a third of 3
    assert float(rects[1].get("x")) == pytest.approx(3 * unit)  # stacked after the first part
    assert unit * nice_max(4) == pytest.approx(charts.WIDTH - charts.MARGIN)  # the axis spans the drawing
    assert _lines(svg) == ["north", "4 (3 confirmed, 1 false)", "south", "1 (1 confirmed)"]
    legend = ["".join(li.itertext()) for li in figure.iter("li")]
    assert legend == ["Confirmed", "False"]


def test_names_are_escaped_long_ones_cut_and_nothing_is_styled_inline():
    name = "<script>alert(1)</script>" + "x" * 60
    markup = str(stacked_bars("c2", 'Title with "quotes" & <tags>', KINDS, [Bar(name, (1, 1))]))
    assert "<script>" not in markup and "&lt;script&gt;" in markup
    assert "&lt;tags&gt;" in markup and "style=" not in markup
    svg = _svg(_parse(markup))
    name = _lines(svg)[0]
    assert name.endswith("…") and len(name) == charts.LABEL_CHARS


def test_a_long_list_is_cut_to_the_first_bars_and_says_so():
    bars = [Bar(f"d{i}", (1, 0)) for i in range(charts.MAX_BARS + 5)]
    figure = _parse(stacked_bars("c3", "t", KINDS, bars))
    assert len(_svg(figure).findall(f"{SVG}rect")) == charts.MAX_BARS
    assert f"The first {charts.MAX_BARS} of {charts.MAX_BARS + 5}" in "".join(figure.itertext())


def test_nothing_to_show_is_said_in_words():
    figure = _parse(stacked_bars("c4", "No alerts", KINDS, []))
    assert "Nothing to show." in "".join(_svg(figure).itertext())


def test_a_rate_is_drawn_against_its_expectation_and_a_flag_is_said_in_words_not_only_colour():
    measures = [
        Measure("calm", 2.0, expected=1.0),
        Measure("busy", 8.0, expected=1.0, flagged=True),
        Measure("empty", None, expected=1.0, note="no people seen"),
    ]
    svg = _svg(_parse(against_expected("c5", "Rates", measures, expected_label="Expected")))
    rects = svg.findall(f"{SVG}rect")
    assert [r.get("class") for r in rects] == ["chart-observed", "chart-flagged"]  # nothing drawn for "empty"
    ticks = [line for line in svg.findall(f"{SVG}line") if line.get("class") == "chart-expected"]
    assert len(ticks) == 2 and float(ticks[0].get("x1")) == pytest.approx(float(rects[0].get("width")) / 2)
    assert _lines(svg) == ["calm", "2, expected 1", "busy", "8, expected 1, flagged", "empty", "no people seen"]
