"""Choice options keep their keys while organisers edit them, so answers already given keep their meaning."""

from __future__ import annotations

from portal.events.options import keyed, offered, revise


def line(vi: str, en: str) -> dict:
    return {"vi": vi, "en": en}


STUDENT, INVESTOR, PRESS = line("Sinh viên", "Student"), line("Nhà đầu tư", "Investor"), line("Báo chí", "Press")


def keys(options: list[dict]) -> list[str]:
    return [option["key"] for option in options]


def test_options_saved_without_keys_are_keyed_by_their_position():
    assert keys(keyed([STUDENT, INVESTOR])) == ["0", "1"]
    assert keys(keyed([{**STUDENT, "key": "a1"}, INVESTOR])) == ["a1", "1"]


def test_lines_keep_their_keys_when_options_are_inserted_and_reordered():
    current = [STUDENT, INVESTOR]  # keyed "0" and "1" by position
    revised = revise(current, [line("Khách mời", "Guest"), INVESTOR, STUDENT], answered_keys={"0", "1"})
    assert [(o["en"], o["key"]) for o in revised[1:]] == [("Investor", "1"), ("Student", "0")]
    assert revised[0]["key"] not in {"0", "1"}


def test_correcting_one_language_keeps_the_key_through_the_other():
    current = revise([], [STUDENT, INVESTOR], set())
    revised = revise(current, [line("Sinh viên đại học", "Student"), line("Nhà đầu tư", "Investors")], set())
    assert keys(revised) == keys(current)
    assert [o["en"] for o in revised] == ["Student", "Investors"]


def test_a_removed_option_stays_retired_while_answers_hold_its_key_and_goes_otherwise():
    current = revise([], [STUDENT, INVESTOR, PRESS], set())
    student, investor, press = keys(current)
    revised = revise(current, [STUDENT], answered_keys={investor})
    assert [(o["en"], o["key"], o.get("retired", False)) for o in revised] == [
        ("Student", student, False), ("Investor", investor, True)]
    assert keys(offered(revised)) == [student]

    typed_again = revise(revised, [STUDENT, INVESTOR], answered_keys={investor})
    assert keys(offered(typed_again)) == [student, investor]
    assert press not in keys(typed_again)


def test_a_new_option_never_takes_a_key_in_use_or_answered():
    # "1" and "2" belonged to options removed earlier; answers still hold them.
    revised = revise([{**STUDENT, "key": "0"}], [STUDENT, INVESTOR], answered_keys={"1", "2"})
    assert revised[1]["key"] not in {"0", "1", "2"}
    assert len({revise([], [line(str(n), str(n)) for n in range(200)], set())[n]["key"] for n in range(200)}) == 200
