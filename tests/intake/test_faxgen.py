"""The bench's independent fax set (bench/faxgen) labels what it draws.

Checked on the HTML the generator hands to Chromium, without rendering: every labelled
value is printed on its patient's pages, in one of the ways a person writes it (a date in
any common US style, a phone with any separators), page ranges tile the packet, NPIs pass
their check digit and the stored labels are the ones the generator draws today.
"""

import datetime as dt
import json
import re
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from refloop.intake.models import FIELD_NAMES
from refloop.network.npi import is_valid_npi

BENCH = Path(__file__).resolve().parents[2] / "bench"
# Appended, not prepended: bench/ holds scripts whose names must never shadow a package.
sys.path.append(str(BENCH))

from faxgen import packets  # noqa: E402

URGENCY_WORDS = {
    "routine": ["routine", "standard"],
    "urgent": ["urgent", "expedited"],
    "stat": ["stat"],
}


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        self._skip += tag == "style"
        self.parts.append(" ")

    def handle_endtag(self, tag):
        self._skip -= tag == "style"
        self.parts.append(" ")

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def visible_text(markup: str) -> str:
    parser = _Text()
    parser.feed(markup)
    return re.sub(r"\s+", " ", "".join(parser.parts))


def date_shown(day: dt.date, text: str) -> bool:
    month = day.strftime("%b")
    forms = [
        day.strftime("%m/%d/%Y"),
        day.strftime("%m-%d-%Y"),
        day.isoformat(),
        day.strftime("%d-%b-%Y"),
        f"{day.month}/{day.day}/{day:%Y}",
        f"{day.month}/{day.day}/{day:%y}",
        f"{month} {day.day},{day:%Y}",
        f"{month} {day.day}, {day:%Y}",
        f"{day:%B} {day.day}, {day:%Y}",
    ]
    return any(form in text for form in forms)


def phone_shown(label: str, text: str) -> bool:
    a, b, c = re.fullmatch(r"\((\d{3})\) (\d{3})-(\d{4})", label).groups()
    return re.search(rf"\(?{a}\)?[ .\-]?{b}[ .\-]{c}\b", text) is not None


def assert_shown(name: str, value: str, text: str, seed: int) -> None:
    where = f"seed {seed} {name}"
    lower = text.lower()
    if name == "patient_date_of_birth":
        assert date_shown(dt.date.fromisoformat(value), text), where
    elif name in ("patient_phone", "provider_phone", "provider_fax"):
        assert phone_shown(value, text), where
    elif name == "icd10_codes":
        positions = [text.find(code) for code in value.split(", ")]
        assert -1 not in positions and positions == sorted(positions), where
    elif name == "provider_name":
        # "Elena Castillo", "Elena R. Castillo, MD", "Dr. Castillo" is not enough: "Castillo, Elena".
        first, last = re.escape(value.rsplit(" ", 1)[0]), re.escape(value.rsplit(" ", 1)[1])
        pattern = rf"{first}( [A-Z]\.?)? {last}|{last}, {first}"
        assert re.search(pattern, text, re.IGNORECASE), where
    elif name == "urgency":
        assert any(word in lower for word in URGENCY_WORDS[value]), where
    elif name in ("reason", "insurance"):
        # Free text is typed as written, case and all (a block-capital font draws any text
        # in capitals, so an all-capitals label may stand for mixed-case markup).
        assert value in text or (value.isupper() and value in text.upper()), where
    else:
        assert value.lower() in lower, where


@pytest.fixture(scope="module")
def drawn():
    return [packets.make_packet(seed) for seed in packets.seeds()]


def test_every_labelled_value_is_printed_on_its_patients_pages(drawn):
    checked = 0
    for packet in drawn:
        for label in packet.labels:
            first, last = label["pages"]
            text = visible_text("".join(packet.page_html[first - 1 : last]))
            for name in FIELD_NAMES:
                if label[name]:
                    assert_shown(name, label[name], text, packet.seed)
                    checked += 1
    assert checked > 40 * 10


def test_the_provider_is_the_referring_one_not_the_receiving_doctor(drawn):
    for packet in drawn:
        for label in packet.labels:
            first, last = label["pages"]
            text = visible_text("".join(packet.page_html[first - 1 : last]))
            if label["provider_npi"]:
                assert is_valid_npi(label["provider_npi"]), packet.seed
                assert label["provider_npi"] in text
            # The receiving doctor's name is printed too, and is never the label.
            assert label["provider_name"].split()[-1] in text


def test_pages_tile_the_packet_and_the_set_has_its_shape(drawn):
    layouts: dict[str, int] = {}
    two_patients = 0
    for packet in drawn:
        ranges = [label["pages"] for label in packet.labels]
        assert ranges[0][0] == 1 and ranges[-1][1] == packet.pages == len(packet.page_html)
        for before, after in zip(ranges, ranges[1:], strict=False):
            assert after[0] == before[1] + 1
        assert packet.html.count('<section class="page') == packet.pages
        assert "{BANNER}" not in packet.html
        layouts[packet.layout] = layouts.get(packet.layout, 0) + 1
        two_patients += len(packet.labels) > 1
        for label in packet.labels:
            assert set(FIELD_NAMES) <= set(label)
            if label["patient_date_of_birth"]:
                dt.date.fromisoformat(label["patient_date_of_birth"])
            assert label["urgency"] in ("", "routine", "urgent", "stat")
    assert len(layouts) >= 8 and min(layouts.values()) >= 4
    assert sum(p.pages for p in drawn) >= 75
    assert 0.1 <= two_patients / len(drawn) <= 0.2


def test_a_seed_draws_the_same_packet_and_the_stored_labels(drawn):
    again = packets.make_packet(drawn[3].seed)
    assert again.html == drawn[3].html and again.labels == drawn[3].labels
    stored = json.loads((BENCH / "fax_labels" / "faxgen.json").read_text())
    assert [p["labels"] for p in stored["packets"]] == [p.labels for p in drawn]


def test_the_text_check_would_catch_a_label_that_is_not_drawn(drawn):
    packet = drawn[0]
    text = visible_text("".join(packet.page_html))
    label = packet.labels[0]
    with pytest.raises(AssertionError):
        assert_shown("patient_phone", "(999) 000-1111", text, packet.seed)
    wrong_day = dt.date.fromisoformat(label["patient_date_of_birth"]) + dt.timedelta(days=1)
    with pytest.raises(AssertionError):
        assert_shown("patient_date_of_birth", wrong_day.isoformat(), text, packet.seed)


MARKED = re.compile(r'class="box (?:x|fill|tick)"></span>([^<]+)|class="circled">([^<]+)<')


def test_the_marked_checkbox_is_the_labelled_urgency(drawn):
    marked_forms = 0
    for packet in drawn:
        for label in packet.labels:
            first, last = label["pages"]
            words = [
                a or b
                for page in packet.page_html[first - 1 : last]
                for a, b in MARKED.findall(page)
            ]
            if not words:
                continue
            marked_forms += 1
            assert len(words) == 1, packet.seed
            meant = words[0].lower()
            level = next(
                k for k, synonyms in URGENCY_WORDS.items() if any(s in meant for s in synonyms)
            )
            assert level == label["urgency"], packet.seed
    assert marked_forms >= 20
