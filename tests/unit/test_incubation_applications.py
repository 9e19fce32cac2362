"""Applying to a call: drafts keep what was typed, sections two members cannot overwrite silently, submission checks
answers and eligibility and confirms by mail once, deadlines, withdrawal, files, and the form builder's rules."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from portal.accounts.models import User
from portal.db import utcnow
from portal.errors import Conflict, Invalid
from portal.incubation import applications, calls, files
from portal.incubation.models import (
    Answer,
    Application,
    ApplicationFile,
    ApplicationStatus,
    Call,
    FieldKind,
    FormField,
    Stage,
)
from portal.notifications.models import OutboxMessage
from tests.support.incubation import (
    GOOD_ANSWERS,
    PDF,
    attach_deck,
    fill,
    founded_years_ago,
    make_call,
    make_startup,
    sections_by_key,
)


@pytest.fixture(autouse=True)
def _request(app):
    with app.test_request_context(), force_locale("en"):
        yield


def start(db, call_id: int, organisation_id: int, user: User) -> int:
    with db.transaction() as s:
        return applications.start(s, s.get(Call, call_id), organisation_id, s.get(User, user.id), utcnow()).id


def submit(db, application_id: int, user: User, now=None) -> bool:
    with db.transaction() as s:
        return applications.submit(s, s.get(Application, application_id), s.get(User, user.id), now or utcnow())


def stored(db, application_id: int) -> dict[str, object]:
    with db.session_factory() as s:
        return dict(s.execute(select(FormField.key, Answer.value).join(Answer)
                              .where(Answer.application_id == application_id)).all())


def test_a_draft_keeps_whatever_was_typed_even_what_submission_would_refuse(app, db, make_user):
    call_id = make_call(db)
    organisation_id, (founder,) = make_startup(db, make_user)
    application_id = start(db, call_id, organisation_id, founder)
    fill(db, application_id, founder, {"revenue_last_year": "about a billion", "founded_on": "15/03/2024",
                                       "problem": "word " * 400})
    kept = stored(db, application_id)
    assert kept["revenue_last_year"] == "about a billion"
    assert kept["founded_on"] == "15/03/2024"
    assert len(kept["problem"].split()) == 400


def test_submission_names_every_answer_to_fix_and_keeps_the_draft(app, db, make_user, tmp_path):
    call_id = make_call(db)
    organisation_id, (founder,) = make_startup(db, make_user)
    application_id = start(db, call_id, organisation_id, founder)
    fill(db, application_id, founder, {**GOOD_ANSWERS, "revenue_last_year": "about a billion",
                                       "problem": "word " * 301, "website": "nongsach", "team": []})
    with pytest.raises(applications.IncompleteApplication) as refused:
        submit(db, application_id, founder)
    assert refused.value.errors == {
        "website": "Please enter a web address starting with https://.",
        "team": "Please answer this question.",
        "problem": "At most 300 words, please; this answer has 301.",
        "revenue_last_year": "Please enter a whole number, for example 1500000.",
        "pitch_deck": "Please upload this file.",
    }
    assert stored(db, application_id)["revenue_last_year"] == "about a billion"
    with db.session_factory() as s:
        assert s.get(Application, application_id).status == ApplicationStatus.DRAFT


def test_a_complete_application_is_submitted_and_every_member_is_told_once(app, db, make_user, tmp_path):
    call_id = make_call(db)
    organisation_id, members = make_startup(db, make_user, members=2)
    application_id = start(db, call_id, organisation_id, members[0])
    fill(db, application_id, members[1])
    attach_deck(db, application_id, members[1], tmp_path)
    assert submit(db, application_id, members[0]) is True
    assert submit(db, application_id, members[1]) is False  # a second click
    with db.session_factory() as s:
        application = s.get(Application, application_id)
        assert (application.status, application.stage) == (ApplicationStatus.SUBMITTED, Stage.ELIGIBILITY)
        assert application.sector == "agritech"
        sent = s.execute(select(OutboxMessage.to_address, OutboxMessage.subject).where(
            OutboxMessage.idempotency_key.startswith(f"application-submitted:{application_id}:"))).all()
    assert sorted(to for to, _subject in sent) == sorted(m.email for m in members)
    # the members read Vietnamese, so their confirmation is in Vietnamese
    assert {subject for _to, subject in sent} == {"Hồ sơ của bạn vào Ươm tạo thử nghiệm đã được nộp"}


@pytest.mark.parametrize(("rules", "answers", "reason"), [
    ({"max_age_years": 3}, {"founded_on": founded_years_ago(5)},
     "This call is for companies founded less than 3 years ago."),
    ({"in_hanoi": True}, {"province": "other"}, "This call is for companies registered in Hanoi."),
    ({"sectors": ["fintech"]}, {}, "This call is not open to your sector."),
    ({"team_min": 3}, {}, "This call asks for a founding team of at least 3 people."),
    ({"team_max": 1}, {}, "This call asks for a founding team of at most 1 people."),
])
def test_an_ineligible_startup_is_told_why_and_not_submitted(app, db, make_user, tmp_path, rules, answers, reason):
    call_id = make_call(db, eligibility=rules)
    organisation_id, (founder,) = make_startup(db, make_user)
    application_id = start(db, call_id, organisation_id, founder)
    fill(db, application_id, founder, {**GOOD_ANSWERS, **answers})
    attach_deck(db, application_id, founder, tmp_path)
    with pytest.raises(applications.IncompleteApplication) as refused:
        submit(db, application_id, founder)
    assert refused.value.ineligible == [reason]


def test_an_eligible_startup_meets_every_rule_at_once(app, db, make_user, tmp_path):
    call_id = make_call(db, eligibility={"max_age_years": 3, "in_hanoi": True, "sectors": ["agritech"],
                                        "team_min": 2, "team_max": 5})
    organisation_id, (founder,) = make_startup(db, make_user)
    application_id = start(db, call_id, organisation_id, founder)
    fill(db, application_id, founder)
    attach_deck(db, application_id, founder, tmp_path)
    assert submit(db, application_id, founder) is True


def test_after_the_deadline_submission_and_editing_are_refused_and_the_draft_kept(app, db, make_user, tmp_path):
    call_id = make_call(db, closes_in_days=1)
    organisation_id, (founder,) = make_startup(db, make_user)
    application_id = start(db, call_id, organisation_id, founder)
    fill(db, application_id, founder)
    attach_deck(db, application_id, founder, tmp_path)
    later = utcnow() + timedelta(days=2)
    with pytest.raises(applications.CallNotOpen):
        submit(db, application_id, founder, now=later)
    with db.transaction() as s, pytest.raises(applications.CallNotOpen):
        application = s.get(Application, application_id)
        section = sections_by_key(s, call_id)["company_name"]
        applications.save_section(s, application, section, {"company_name": "X"}, 1, s.get(User, founder.id), later)
    assert stored(db, application_id)["company_name"] == GOOD_ANSWERS["company_name"]


def test_two_members_saving_one_section_from_the_same_version_the_second_is_told(app, db, make_user):
    call_id = make_call(db)
    organisation_id, (first, second) = make_startup(db, make_user, members=2)
    application_id = start(db, call_id, organisation_id, first)
    with db.transaction() as s:
        application = s.get(Application, application_id)
        section = sections_by_key(s, call_id)["company_name"]
        applications.save_section(s, application, section, {"company_name": "First's name"}, 0,
                                  s.get(User, first.id), utcnow())
    with db.transaction() as s, pytest.raises(applications.EditConflict) as refused:
        application = s.get(Application, application_id)
        applications.save_section(s, application, section, {"company_name": "Second's name"}, 0,
                                  s.get(User, second.id), utcnow())
    assert first.full_name in str(refused.value.message)
    assert stored(db, application_id)["company_name"] == "First's name"


def test_only_members_start_or_see_an_application(app, db, make_user):
    call_id = make_call(db)
    organisation_id, (founder,) = make_startup(db, make_user)
    _other_org, (outsider,) = make_startup(db, make_user, "Khác")
    with pytest.raises(Exception) as refused:
        start(db, call_id, organisation_id, outsider)
    assert refused.value.status_code == 403
    application_id = start(db, call_id, organisation_id, founder)
    with db.session_factory() as s, pytest.raises(Exception) as hidden:
        applications.own_application(s, s.get(User, outsider.id), application_id)
    assert hidden.value.status_code == 404


def test_withdrawing_is_final_and_a_submitted_application_cannot_be_deleted(app, db, make_user, tmp_path):
    call_id = make_call(db)
    organisation_id, (founder,) = make_startup(db, make_user)
    application_id = start(db, call_id, organisation_id, founder)
    fill(db, application_id, founder)
    attach_deck(db, application_id, founder, tmp_path)
    submit(db, application_id, founder)
    with db.transaction() as s, pytest.raises(Conflict):
        files.discard_draft(s, s.get(Application, application_id), tmp_path)
    with db.transaction() as s:
        applications.withdraw(s, s.get(Application, application_id), s.get(User, founder.id), utcnow())
    with db.transaction() as s, pytest.raises(Conflict):
        applications.withdraw(s, s.get(Application, application_id), s.get(User, founder.id), utcnow())


def upload(data: bytes, name: str = "deck.pdf") -> FileStorage:
    return FileStorage(stream=io.BytesIO(data), filename=name)


def deck_field(s, call_id: int) -> FormField:
    return s.scalar(select(FormField).where(FormField.call_id == call_id, FormField.key == "pitch_deck"))


def test_files_are_checked_by_content_and_size_and_go_with_a_discarded_draft(app, db, make_user, tmp_path):
    call_id = make_call(db)
    organisation_id, (founder,) = make_startup(db, make_user)
    application_id = start(db, call_id, organisation_id, founder)
    with db.transaction() as s, pytest.raises(Invalid, match="PDF, PNG or JPEG"):
        files.attach(s, s.get(Application, application_id), deck_field(s, call_id),
                     upload(b"MZ\x90\x00 an executable", "deck.pdf"), tmp_path, s.get(User, founder.id), utcnow())
    with db.transaction() as s:
        field = deck_field(s, call_id)
        field.max_file_mb = 1
    with db.transaction() as s, pytest.raises(Invalid, match="larger than 1 MB"):
        files.attach(s, s.get(Application, application_id), deck_field(s, call_id),
                     upload(PDF + b"0" * (1024 * 1024)), tmp_path, s.get(User, founder.id), utcnow())
    assert list(tmp_path.iterdir()) == []  # nothing refused is kept on disk
    with db.transaction() as s:
        kept = files.attach(s, s.get(Application, application_id), deck_field(s, call_id),
                            upload(PDF, "../../etc/Pitch deck.PDF"), tmp_path, s.get(User, founder.id), utcnow())
        stored_name, shown_name = kept.stored_name, kept.original_name
    assert shown_name == "Pitch deck.pdf"
    assert (tmp_path / stored_name).read_bytes() == PDF
    with db.transaction() as s:
        files.discard_draft(s, s.get(Application, application_id), tmp_path)
    assert not (tmp_path / stored_name).exists()
    with db.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(ApplicationFile)) == 0


def test_a_rolled_back_upload_leaves_no_file_behind(app, db, make_user, tmp_path):
    call_id = make_call(db)
    organisation_id, (founder,) = make_startup(db, make_user)
    application_id = start(db, call_id, organisation_id, founder)
    with db.session_factory() as s:
        files.attach(s, s.get(Application, application_id), deck_field(s, call_id), upload(PDF), tmp_path,
                     s.get(User, founder.id), utcnow())
        s.rollback()
    assert list(tmp_path.iterdir()) == []


# --- the form builder -------------------------------------------------------------------------------------------

def sector_field(s, call_id: int) -> FormField:
    return s.scalar(select(FormField).where(FormField.call_id == call_id, FormField.key == "sector"))


def edit_field(db, call_id: int, manager: User, **changes) -> None:
    with db.transaction() as s:
        field = sector_field(s, call_id)
        data = {"kind": field.kind.value, "label_vi": field.label_vi, "label_en": field.label_en, "required": True,
                "options_text": calls.options_text(field.options), **changes}
        calls.save_field(s, s.get(Call, call_id), field.section, field, data, s.get(User, manager.id))


def test_a_question_with_answers_keeps_its_meaning(app, db, make_user):
    call_id = make_call(db)
    manager = make_user()
    organisation_id, (founder,) = make_startup(db, make_user)
    application_id = start(db, call_id, organisation_id, founder)
    fill(db, application_id, founder, {"sector": "agritech"})
    with pytest.raises(Invalid, match="kind cannot change"):
        edit_field(db, call_id, manager, kind=FieldKind.SHORT_TEXT.value)
    with db.session_factory() as s:
        options = calls.options_text(sector_field(s, call_id).options).splitlines()
    without_agritech = "\n".join(line for line in options if not line.startswith("agritech:"))
    with pytest.raises(Invalid, match="agritech"):
        edit_field(db, call_id, manager, options_text=without_agritech)
    # renamed, reordered and retired: the answer still means the same option
    renamed = "\n".join(["- agritech: Nông nghiệp số | Digital farming", without_agritech])
    edit_field(db, call_id, manager, options_text=renamed)
    with db.session_factory() as s:
        field = sector_field(s, call_id)
        agritech = next(o for o in field.options if o["key"] == "agritech")
        assert agritech == {"key": "agritech", "label_vi": "Nông nghiệp số", "label_en": "Digital farming",
                            "retired": True}
        assert [o["key"] for o in field.options][0] == "agritech"
    assert stored(db, application_id)["sector"] == "agritech"
    with db.transaction() as s, pytest.raises(Invalid, match="cannot be deleted"):
        calls.delete_field(s, s.get(Call, call_id), sector_field(s, call_id), s.get(User, manager.id))


def test_a_new_option_gets_a_key_of_its_own_that_never_changes(app, db, make_user):
    call_id = make_call(db)
    manager = make_user()
    with db.session_factory() as s:
        options = calls.options_text(sector_field(s, call_id).options)
    edit_field(db, call_id, manager, options_text=options + "\nKhông gian vũ trụ | Space tech")
    with db.session_factory() as s:
        added = sector_field(s, call_id).options[-1]
    assert added["key"] == "space-tech"
    edit_field(db, call_id, manager, options_text=options + "\nspace-tech: Vũ trụ | Space")
    with db.session_factory() as s:
        assert sector_field(s, call_id).options[-1] == {"key": "space-tech", "label_vi": "Vũ trụ",
                                                        "label_en": "Space", "retired": False}


def test_the_rubric_weights_must_add_up_to_100(app, db, make_user):
    call_id = make_call(db)
    manager = make_user()
    with db.transaction() as s, pytest.raises(Invalid, match="add up to 105"):
        call = s.get(Call, call_id)
        weights = {c.id: c.weight for c in call.criteria}
        weights[call.criteria[0].id] += 5
        calls.save_rubric(s, call, weights, s.get(User, manager.id))
