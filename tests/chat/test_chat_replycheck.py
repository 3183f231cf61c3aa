"""The reply check: drafts, good and bad, each with the flags it must get (no more, no fewer)."""

import ast
from pathlib import Path

import pytest

from callcue.chat import replycheck
from callcue.chat.engine import ChatSession
from callcue.chat.replycheck import FLAGS, check_reply
from callcue.engine.playbook import load_playbook

HIGH, LOW = 0.8, 0.3  # the chat's frustration so far; None: no context

DRAFTS = [
    # good replies
    ("Hi! Thanks for waiting. I've found your order and it ships today.", None, set()),
    ("I'm sorry this has been so frustrating. I've refunded the charge; you'll see it within 3 days.", HIGH, set()),
    ("Good news: your parcel arrives tomorrow before noon.", None, set()),
    ("Sure, I can help with that. Could you tell me your order number?", None, set()),
    ("Thanks for your patience. The engineer is booked for Friday morning.", 0.7, set()),
    ("I understand how annoying this is. Let's fix it together.", 0.9, set()),
    ("Happy to help! Is there anything else?", None, set()),
    ("I've reset your password. You should get an email in a minute.", None, set()),
    ("Of course.", None, set()),
    ("Thank you!", None, set()),
    ("Please send your PIN and the PDF by SMS.", None, set()),  # acronyms are not shouting
    ("Your refund will arrive within 3 days.", LOW, set()),  # a calm customer needs no acknowledgement
    ("Your refund will arrive within 3 days.", None, set()),  # no context: cannot tell
    ("I'm sorry about the wait, and thank you for bearing with me.", HIGH, set()),
    # cold or overly formal
    ("Please be advised that your request has been processed.", None, {"cold"}),
    ("Kindly send the documents at your earliest convenience.", None, {"cold"}),
    ("As per our policy, refunds are not possible after 30 days.", None, {"cold"}),
    ("Dear customer, we regret to inform you that the item is out of stock.", None, {"cold"}),
    ("We apologize for any inconvenience caused.", None, {"cold"}),
    ("You must complete the form before we can proceed.", None, {"cold"}),
    # curt
    ("No.", None, {"curt"}),
    ("Not possible.", None, {"curt"}),
    ("Done.", None, {"curt"}),
    # jargon
    ("Please clear the cache and flush the DNS, then check the TTL.", None, {"jargon"}),
    ("The chargeback is pending authorization.", None, {"jargon"}),
    ("Your RMA has been created.", None, {"jargon"}),
    ("I've raised it with tier 2 and they'll check the backend.", None, {"jargon"}),
    # no acknowledgement of a frustrated customer
    ("Your refund will arrive within 3 days.", HIGH, {"no-acknowledgement"}),
    ("Let me check that order for you.", 0.75, {"no-acknowledgement"}),
    ("Here is the tracking link.", 0.9, {"no-acknowledgement"}),
    # too long for a phone
    ("To reset the device you need to hold the power button for ten seconds and then wait until the light "
     "turns orange and after that press the reset button twice and wait for the light to go green.", None,
     {"long-sentence"}),
    ("Thanks for waiting. I checked your account and I can see that the payment was taken twice because the "
     "bank sent the same request two times on the same day which sometimes happens.", None, {"long-sentence"}),
    # shouting
    ("PLEASE RESTART THE ROUTER.", None, {"shouting"}),
    ("Your order is ON ITS WAY!!", None, {"shouting"}),
    ("Great news!!!", None, {"shouting"}),
    ("DO NOT unplug it.", None, {"shouting", "curt"}),
    # blame
    ("You should have read the instructions.", None, {"blame"}),
    ("As I already said, the shop is closed on Sundays.", None, {"blame"}),
    ("Like I said, it takes 5 days.", None, {"blame"}),
    ("I already told you the price.", None, {"blame"}),
    ("That is your fault, the address was wrong.", None, {"blame"}),
    ("Did you even read my message?", None, {"blame"}),
    ("Read the FAQ.", None, {"blame", "curt"}),
    # several at once
    ("As I said, please be advised that this is our policy.", HIGH, {"cold", "no-acknowledgement", "blame"}),
    ("YOU SHOULD HAVE CALLED US!!!", None, {"shouting", "blame"}),
    ("I'm sorry, as I mentioned the engineer comes on Friday.", HIGH, {"blame"}),
    ("Dear customer, as previously stated the DNS propagation takes 48 hours.", HIGH,
     {"cold", "jargon", "no-acknowledgement", "blame"}),
]


def test_there_are_enough_drafts_good_and_bad():
    assert len(DRAFTS) >= 40
    assert sum(1 for *_, want in DRAFTS if not want) >= 10
    assert {f for *_, want in DRAFTS for f in want} == set(FLAGS)


@pytest.mark.parametrize("draft, level, want", DRAFTS, ids=[f"{i:02d}" for i in range(len(DRAFTS))])
def test_draft_gets_exactly_its_flags(playbook, draft, level, want):
    result = check_reply(draft, playbook, frustration=level)
    assert set(result.ids) == want, [(f.id, f.found) for f in result.flags]
    assert result.ok == (not want)
    for flag in result.flags:
        assert flag.suggestion, f"{flag.id} has no suggestion from the playbook"


def test_suggestions_come_from_the_playbook_templates(playbook, tmp_path):
    result = check_reply("Please be advised that the store is closed.", playbook)
    assert '"please be advised" → "just so you know,"' in result.flags[0].suggestion
    team = tmp_path / "team.toml"
    team.write_text('[chat.reply]\ntemplates = [ { flag = "cold", say = "Write like a neighbour." } ]\n'
                    "max_sentence_words = 12\n")
    pb = load_playbook(team)
    result = check_reply("Please be advised that the store is closed.", pb)
    assert result.flags[0].suggestion == "Write like a neighbour."
    # the team's own threshold: 13 words in one sentence is too long for them
    assert check_reply("I have checked and your parcel is in the van and it should come by five today.",
                       pb).ids == ["long-sentence"]


def test_context_comes_from_the_chat(playbook):
    session = ChatSession(playbook=playbook)
    session.add("customer", "Hi, can I change my delivery address?", 0)
    assert "no-acknowledgement" not in session.check_reply("Here is the link.").ids
    session.add("customer", "This is RIDICULOUS. I have asked THREE times and nobody helps!!", 60)
    session.add("customer", "I want to speak to a manager now.", 70)
    assert session.frustration >= 0.5
    result = session.check_reply("Here is the link.")
    assert "no-acknowledgement" in result.ids and result.frustration == session.frustration
    assert session.check_reply("I'm so sorry, I understand. Here is the link.").ok


def test_the_check_sends_nothing_anywhere():
    """The reply check is a pure function of the draft: it imports no network or process module."""
    tree = ast.parse(Path(replycheck.__file__).read_text())
    names = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    names |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert not names & {"socket", "http", "urllib", "requests", "subprocess", "smtplib", "asyncio"}
