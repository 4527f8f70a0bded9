"""/detective in a real browser while an incident runs on the local Kafka.

A real exporter watches a real broker; one group's consumers crash (the analytics diagnose `consumer_down`)
while a healthy group named `<script>alert(1)</script>` keeps consuming. Headless Chromium (Debian's package)
loads the pages and the test reads the DOM Chromium built, as a person would see it: the diagnosed group first
with its cause, its case file with charts and runbook, and the hostile group name as plain text. Screenshots go
to $KAFKA_DETECTIVE_SCREENSHOT_DIR when set (else the test's temporary directory).
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from e2e_support import wait_until

from kafka_detective_tools.sandbox import browser
from kafka_detective_tools.sandbox.local_kafka import LocalKafka
from kafka_detective_tools.sandbox.stack import sandbox_exporter
from kafka_detective_tools.sandbox.traffic import Phase, TrafficDriver, TrafficScenario

pytestmark = [pytest.mark.e2e, pytest.mark.kafka]

CLUSTER = "browser"
EVIL = "<script>alert(1)</script>"
DOWN = TrafficScenario(name="detective-down", title="consumers crash", story="", topic="detective-orders",
                       group="detective-checkout", partitions=2, expected_cause="consumer_down", phases=(
                           Phase("normal traffic", 20, 60, consumers=2),
                           Phase("consumers crashed", 900, 60, consumers=0)))
HEALTHY = TrafficScenario(name="detective-evil", title="a healthy group with a hostile name", story="",
                          topic="detective-evil", group=EVIL, partitions=1, phases=(
                              Phase("steady", 920, 5, consumers=1),))


class Dom(HTMLParser):
    """Elements, attributes and text of the DOM Chromium dumped; rows of the cases table."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.links: list[str] = []
        self.text: list[str] = []
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "a":
            self.links += [v for k, v in attrs if k == "href" and v]
        if tag == "tr" and ("class", "case") in attrs:
            self.rows.append([])
        if tag == "td" and self.rows:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        if tag == "tbody":
            self._cell = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, ""


@pytest.fixture(scope="module")
def live() -> Iterator[dict[str, Any]]:
    assert browser.chromium(), "chromium is not installed (Debian: apt-get install chromium, or make setup)"
    with LocalKafka(brokers=1) as kafka:
        exporter = sandbox_exporter(kafka.bootstrap_servers, cluster=CLUSTER)
        with exporter:
            drivers = [TrafficDriver(kafka.bootstrap_servers, s, kafka=kafka).start() for s in (DOWN, HEALTHY)]
            try:
                yield {"base": f"http://127.0.0.1:{exporter.port}"}
            finally:
                for driver in drivers:
                    driver.stop()


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    configured = os.environ.get("KAFKA_DETECTIVE_SCREENSHOT_DIR")
    return Path(configured) if configured else tmp_path_factory.mktemp("screenshots")


def test_the_diagnosed_group_is_listed_first_and_its_case_file_shows_charts_and_runbook(live, shots):
    index = f"{live['base']}/detective"
    # the consumers crash 20 s in; the analytics flag the lag problem and diagnose it within a few cycles
    wait_until(lambda: "consumer_down" in fetch(index)[1], 300, "the exporter diagnoses consumer_down")
    dom = Dom(browser.dump_dom(index))
    assert dom.rows, "no case rows in the page Chromium rendered"
    first = dom.rows[0]
    assert first[2] == DOWN.group, first
    assert "Consumer group down" in first[4] and "consumer_down" in first[4], first
    browser.screenshot(index, shots / "detective.png", height=700)

    case_link = next(link for link in dom.links if link.startswith("/detective/case?") and "detective-checkout" in link)
    case_url = live["base"] + case_link
    case = Dom(browser.dump_dom(case_url))
    text = " ".join(case.text)
    assert "Consumer group down (no members)" in text
    assert case.tags.count("svg") == 4, "the four charts (lag, lag seconds, rates, rebalances)"
    assert "Runbook:" in text and case.tags.count("li") >= 3
    assert "\u2717 " in text, "the ranked causes list the findings against them, marked \u2717"
    assert 'kafka_consumergroup_members{cluster="browser",consumergroup="detective-checkout"}' in text
    browser.screenshot(case_url, shots / "detective-case.png", height=2200)


def test_a_hostile_group_name_renders_as_text(live, shots):
    url = f"{live['base']}/detective/case?" + urlencode({"cluster": CLUSTER, "group": EVIL, "topic": HEALTHY.topic})
    wait_until(lambda: fetch(url)[0] == 200, 120, "the exporter knows the group named <script>")
    dom = Dom(browser.dump_dom(url))
    assert "script" not in dom.tags
    assert EVIL in " ".join(dom.text)
    browser.screenshot(url, shots / "detective-hostile-name.png", height=600)
