"""Outreach quality rules: each passes a good draft and names what is wrong with a bad one."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Literal

import pytest

from salesbus.agents.campaign import Campaign, MessageLimits, Seller
from salesbus.agents.models import (
    Channel,
    Company,
    CompanyProfile,
    Fact,
    FactSource,
    Message,
    MessageKind,
    PersonalizationElement,
    PersonalizationStrategy,
    QualityCheck,
    QualityDecision,
    SequenceStep,
)
from salesbus.agents.providers.base import Draft
from salesbus.agents.quality import RULES, SPAM_PHRASES, check_outreach, decide

ADDRESS = "12 Harbour Street, Bristol BS1 4DJ, UK"
OPT_OUT = "If you'd rather not hear from me, reply 'no' and I won't follow up."
FOOTER = f"\n\nDana Reyes\nAccount Executive, Northwind Analytics\n{ADDRESS}\n{OPT_OUT}"

SELLER = Seller(
    company="Northwind Analytics",
    product="warehouse analytics",
    value_propositions=["Find the slow step in every pick path."],
    sender_name="Dana Reyes",
    sender_title="Account Executive",
    postal_address=ADDRESS,
)
CAMPAIGN = Campaign(seller=SELLER)

PROFILE = CompanyProfile(
    company=Company(name="Acme Robotics", domain="acme.test"),
    technologies=["Snowflake"],
    facts=[
        Fact(
            id="f1",
            topic="news",
            text="Acme Robotics is opening a second warehouse in Leeds.",
            source=FactSource(kind="website", url="https://acme.test/news"),
        ),
        Fact(
            id="f2",
            topic="technology",
            text="Acme Robotics runs its reporting on Snowflake.",
            source=FactSource(kind="website", url="https://acme.test/careers"),
        ),
    ],
    generated_by="test",
)

CITES_F1 = [PersonalizationElement(text="second warehouse in Leeds", fact_ids=["f1"])]
CITES_F2 = [PersonalizationElement(text="reporting on Snowflake", fact_ids=["f2"])]


def email(kind: MessageKind, day: int, body: str, **fields: Any) -> Message:
    defaults: dict[str, Any] = {"subject": "Pick paths in Leeds", "tone": "consultative"}
    return Message(
        channel=Channel.EMAIL, kind=kind, day_offset=day, body=body + FOOTER, **defaults | fields
    )


INITIAL = email(
    MessageKind.INITIAL,
    0,
    "Hi Sam,\n\nCongrats on the second warehouse in Leeds. When Acme Robotics adds a site, "
    "pick rates usually dip for a quarter while paths settle. Northwind shows where each "
    "path loses time, straight from the WMS data you already keep.\n\n"
    "Would a 20-minute call next week be useful?",
    personalization=CITES_F1,
)
FOLLOW_UP_1 = email(
    MessageKind.FOLLOW_UP,
    3,
    "Hi Sam, since Acme Robotics reports on Snowflake, our pick-path view can sit "
    "next to the dashboards you have. Worth a look?",
    personalization=CITES_F2,
)
FOLLOW_UP_2 = email(MessageKind.FOLLOW_UP, 7, "Hi Sam, one last nudge. Happy to share a sample.")
NOTE = Message(
    channel=Channel.LINKEDIN,
    kind=MessageKind.CONNECTION_NOTE,
    body="Hi Sam, I read about Acme Robotics' new Leeds warehouse. I work on pick-path "
    "analytics and would like to connect.",
    tone="friendly",
    personalization=CITES_F1,
)
GOOD = Draft(
    strategy=PersonalizationStrategy.OPPORTUNITY_FOCUSED,
    messages=[INITIAL, FOLLOW_UP_1, FOLLOW_UP_2, NOTE],
    sequence=[
        SequenceStep(day=0, channel=Channel.EMAIL, message_index=0),
        SequenceStep(day=1, channel=Channel.LINKEDIN, message_index=3),
        SequenceStep(day=3, channel=Channel.EMAIL, message_index=1),
        SequenceStep(day=7, channel=Channel.EMAIL, message_index=2),
    ],
    generated_by="test",
)


def with_message(index: int, **changes: Any) -> Draft:
    """The good draft with message ``index`` changed."""
    messages = list(GOOD.messages)
    messages[index] = replace(messages[index], **changes)
    return GOOD.model_copy(update={"messages": messages})


def with_body(index: int, body: str) -> Draft:
    return with_message(index, body=body)


def check(rule: str, draft: Draft, campaign: Campaign = CAMPAIGN) -> QualityCheck:
    report = check_outreach(draft, PROFILE, campaign)
    return next(result for result in report.checks if result.rule == rule)


def campaign_with(**limits: Any) -> Campaign:
    return CAMPAIGN.model_copy(update={"limits": MessageLimits(**limits)})


# -- the whole report ----------------------------------------------------------------


def test_the_rule_names_are_stable() -> None:
    assert list(RULES) == [
        "subject_length",
        "email_body_length",
        "linkedin_note_length",
        "follow_ups_shorter",
        "spam_phrases",
        "unfilled_placeholders",
        "draft_linter",
        "grounded_claims",
        "no_untrusted_links",
        "opt_out_line",
        "sender_identified",
        "postal_address",
    ]
    assert all(name == rule.name for name, rule in RULES.items())


def test_a_good_draft_passes_every_rule() -> None:
    report = check_outreach(GOOD, PROFILE, CAMPAIGN)

    assert [result.rule for result in report.checks] == list(RULES)
    assert report.failed == []
    assert report.decision is QualityDecision.PASS
    assert [result.detail for result in report.checks] == [
        rule.passed_detail for rule in RULES.values()
    ]


def test_a_fixable_failure_asks_for_a_revision() -> None:
    report = check_outreach(with_message(0, subject="x" * 61), PROFILE, CAMPAIGN)

    assert [result.rule for result in report.failed] == ["subject_length"]
    assert report.decision is QualityDecision.REVISE


def test_a_compliance_failure_escalates_even_beside_fixable_ones() -> None:
    draft = with_message(0, subject="x" * 61, body="Act now, Sam!")

    report = check_outreach(draft, PROFILE, CAMPAIGN)

    assert {result.on_fail for result in report.failed} == {"revise", "escalate"}
    assert report.decision is QualityDecision.ESCALATE


@pytest.mark.parametrize(
    ("outcomes", "decision"),
    [
        ([], QualityDecision.PASS),
        ([(True, "escalate"), (True, "revise")], QualityDecision.PASS),
        ([(True, "escalate"), (False, "revise")], QualityDecision.REVISE),
        ([(False, "revise"), (False, "escalate")], QualityDecision.ESCALATE),
    ],
)
def test_decide(
    outcomes: list[tuple[bool, Literal["revise", "escalate"]]], decision: QualityDecision
) -> None:
    checks = [
        QualityCheck(rule=f"r{i}", passed=passed, detail="", on_fail=on_fail)
        for i, (passed, on_fail) in enumerate(outcomes)
    ]

    assert decide(checks) is decision


# -- lengths -------------------------------------------------------------------------


def test_subject_length() -> None:
    result = check("subject_length", with_message(1, subject="Re: " + "y" * 60))

    assert not result.passed
    assert result.on_fail == "revise"
    assert result.detail == "message 2 (email follow-up): subject is 64 characters, limit 60"


def test_an_opening_email_needs_a_subject() -> None:
    result = check("subject_length", with_message(0, subject=None))

    assert result.detail == "message 1 (email initial) has no subject"


def test_email_body_length() -> None:
    result = check("email_body_length", with_body(0, INITIAL.body + " More." * 150))

    assert not result.passed
    assert result.detail.startswith("message 1 (email initial): body is ")
    assert result.detail.endswith("characters, limit 900")


def test_linkedin_note_length() -> None:
    result = check("linkedin_note_length", with_body(3, "Hi Sam, " + "a" * 300))

    assert not result.passed
    assert (
        result.detail == "message 4 (linkedin connection-note): body is 308 characters, limit 300"
    )


def test_the_campaign_limits_are_honoured() -> None:
    tight = campaign_with(subject_max=10, email_body_max=200, linkedin_note_max=50)

    failed = {result.rule for result in check_outreach(GOOD, PROFILE, tight).failed}

    assert failed == {"subject_length", "email_body_length", "linkedin_note_length"}


def test_follow_ups_must_get_shorter() -> None:
    draft = with_body(2, FOLLOW_UP_1.body + " Also: one more thing.")

    result = check("follow_ups_shorter", draft)

    assert not result.passed
    assert result.detail.startswith("message 3 (email follow-up) is ")
    assert "not shorter than the" in result.detail


def test_follow_ups_are_compared_in_day_order() -> None:
    late_long = replace(FOLLOW_UP_1, day_offset=10)
    draft = GOOD.model_copy(update={"messages": [INITIAL, late_long, FOLLOW_UP_2, NOTE]})

    result = check("follow_ups_shorter", draft)

    assert result.detail.startswith("message 2 (email follow-up)")


# -- wording -------------------------------------------------------------------------


def test_spam_phrases_are_matched_case_insensitively_as_whole_phrases() -> None:
    draft = with_body(0, INITIAL.body + "\nACT NOW: it is risk free and guaranteed.")

    result = check("spam_phrases", draft)

    assert not result.passed
    assert result.detail == (
        "message 1 (email initial) uses spam phrases: 'act now', 'guaranteed', 'risk-free'"
    )


def test_spam_phrases_inside_other_words_do_not_count() -> None:
    draft = with_body(0, INITIAL.body + "\nOur spinner-winners react nowhere near as fast.")

    assert check("spam_phrases", draft).passed


def test_the_subject_is_checked_for_spam_too() -> None:
    result = check("spam_phrases", with_message(0, subject="Click here, Sam"))

    assert result.detail == "message 1 (email initial) uses spam phrases: 'click here'"


def test_a_campaign_adds_its_own_spam_phrases() -> None:
    draft = with_body(1, "Let's unlock synergy." + FOOTER)

    assert check("spam_phrases", draft).passed
    result = check("spam_phrases", draft, campaign_with(extra_spam_phrases=["Synergy"]))
    assert result.detail == "message 2 (email follow-up) uses spam phrases: 'synergy'"


def test_the_built_in_spam_list_covers_the_classics() -> None:
    for phrase in ("act now", "100% free", "risk-free", "limited time", "no obligation"):
        assert phrase in SPAM_PHRASES


@pytest.mark.parametrize(
    "placeholder",
    ["{{first_name}}", "{company}", "[First Name]", "<company>", "%s", "INSERT", "TODO"],
)
def test_unfilled_placeholders(placeholder: str) -> None:
    draft = with_body(0, f"Hi {placeholder}, " + INITIAL.body)

    result = check("unfilled_placeholders", draft)

    assert not result.passed
    assert result.detail == (
        f"message 1 (email initial) has unfilled placeholders: '{placeholder}'"
    )


def test_ordinary_text_is_not_taken_for_a_placeholder() -> None:
    text = "Insert the badge, then 100% done. Reach me at <dana@northwind.test> (todo list)."
    draft = with_body(0, INITIAL.body + "\n" + text)

    assert check("unfilled_placeholders", draft).passed


# -- grounding -----------------------------------------------------------------------


def test_citing_a_fact_the_profile_lacks_escalates() -> None:
    bogus = [PersonalizationElement(text="raised a Series C", fact_ids=["f1", "f9"])]

    result = check("grounded_claims", with_message(0, personalization=bogus))

    assert not result.passed
    assert result.on_fail == "escalate"
    assert result.detail == "message 1 (email initial) cites facts not in the profile: f9"


def test_naming_the_company_without_citing_a_fact_escalates() -> None:
    result = check("grounded_claims", with_message(1, personalization=[]))

    assert result.detail == "message 2 (email follow-up) mentions Acme Robotics but cites no facts"


def test_naming_a_technology_without_citing_a_fact_escalates() -> None:
    body = "Hi Sam, teams on snowflake like our view." + FOOTER

    result = check("grounded_claims", with_message(2, body=body))

    assert result.detail == "message 3 (email follow-up) mentions Snowflake but cites no facts"


def test_a_generic_message_needs_no_citation() -> None:
    assert FOLLOW_UP_2.personalization == []
    assert check("grounded_claims", GOOD).passed


# -- compliance ----------------------------------------------------------------------


def test_an_email_without_an_opt_out_line_escalates() -> None:
    body = INITIAL.body.replace(OPT_OUT, "")

    result = check("opt_out_line", with_body(0, body))

    assert not result.passed
    assert result.on_fail == "escalate"
    assert result.detail == "message 1 (email initial) has no opt-out line"


@pytest.mark.parametrize(
    "line",
    [
        "Unsubscribe: reply to this email.",
        "You can opt out at any time.",
        "Not for you? Just reply NO.",
        "Reply with “stop” and I will stop.",
        "If this isn't relevant, I won't reach out again.",
        "Let me know if you'd rather not hear from me.",
    ],
)
def test_opt_out_lines_in_their_usual_wordings(line: str) -> None:
    body = INITIAL.body.replace(OPT_OUT, line)

    assert check("opt_out_line", with_body(0, body)).passed


def test_a_reply_to_book_is_not_an_opt_out() -> None:
    body = INITIAL.body.replace(
        OPT_OUT,
        "Reply now to book a slot.",
    )

    assert not check("opt_out_line", with_body(0, body)).passed


def test_every_email_names_the_sender_and_the_company() -> None:
    body = INITIAL.body.replace("Dana Reyes\n", "").replace("Northwind Analytics", "us")

    result = check("sender_identified", with_body(0, body))

    assert not result.passed
    assert result.on_fail == "escalate"
    assert result.detail == (
        "message 1 (email initial) does not name the sender (Dana Reyes) "
        "or the company (Northwind Analytics)"
    )


def test_the_seller_may_be_named_without_its_legal_suffix() -> None:
    seller = SELLER.model_copy(update={"company": "Northwind Analytics, Inc."})
    campaign = CAMPAIGN.model_copy(update={"seller": seller})

    assert check("sender_identified", GOOD, campaign).passed


def test_every_email_carries_the_postal_address() -> None:
    result = check("postal_address", with_body(2, FOLLOW_UP_2.body.replace(ADDRESS, "")))

    assert not result.passed
    assert result.on_fail == "escalate"
    assert result.detail == f"message 3 (email follow-up) lacks the postal address ({ADDRESS})"


def test_the_postal_address_may_span_lines() -> None:
    body = INITIAL.body.replace(ADDRESS, "12 Harbour Street\nBristol BS1 4DJ\nUK")

    assert check("postal_address", with_body(0, body)).passed


def test_no_postal_address_is_needed_when_the_campaign_sets_none() -> None:
    campaign = CAMPAIGN.model_copy(
        update={"seller": SELLER.model_copy(update={"postal_address": None})}
    )
    draft = with_body(0, INITIAL.body.replace(ADDRESS, ""))

    assert check("postal_address", draft, campaign).passed


def test_email_rules_ignore_other_channels() -> None:
    note_only = GOOD.model_copy(update={"messages": [NOTE]})

    report = check_outreach(note_only, PROFILE, CAMPAIGN)

    assert report.decision is QualityDecision.PASS
