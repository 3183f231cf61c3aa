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
    # contempt and talking down
    ("That's a stupid question.", None, {"contempt"}),
    ("Calm down, sir. Stop shouting.", None, {"contempt"}),
    ("That is not my problem.", None, {"contempt"}),
    ("You people always leave it to the last minute.", None, {"contempt"}),
    ("Please calm down and let me finish.", None, {"contempt"}),
    ("There's no need to shout, I'm trying to help.", None, {"contempt"}),
    ("Honestly, it's not rocket science: press the green button.", None, {"contempt"}),
    ("I'm not going to repeat myself, the shop opens at nine.", None, {"contempt"}),
    ("Are you even listening to what I wrote?", None, {"contempt"}),
    ("You're overreacting, it is only one day late.", None, {"contempt"}),
    ("Watch your tone, please, or I will end the chat.", None, {"contempt"}),
    ("Obviously the parcel can't arrive on a Sunday.", None, {"blame"}),
    ("As I said, you people need to read the email.", None, {"blame", "contempt"}),
    ("CALM DOWN!!", None, {"shouting", "contempt", "curt"}),
    ("Calm down.", HIGH, {"contempt", "no-acknowledgement", "curt"}),
    ("That's not my job, ask the shop.", None, {"contempt"}),
    ("I don't care who told you that, the price is the price.", None, {"contempt"}),
    # kind replies that share words with those: not flagged
    ("That's not a stupid question at all, lots of people ask it.", None, set()),
    ("There are no stupid questions, I'm happy to explain.", None, set()),
    ("No problem at all, I'll sort it for you now.", None, set()),
    ("I can hear you're upset, and I'm sorry. Let's fix this together.", HIGH, set()),
    ("I'll stay with you until it is calm again on the line, then we test it.", None, set()),
    ("Thanks for explaining it again, that helps me a lot.", None, set()),
    ("You're right to ask. Here is what happened with your order.", None, set()),
    ("I care about getting this right for you.", None, set()),
    ("It's not your fault at all; the courier had the wrong address.", None, set()),
    ("Take your time, there is no rush.", None, set()),
    ("Sure, I'll repeat the steps: unplug it, wait ten seconds, plug it back in.", None, set()),
    ("I'm sorry it took three tries. I've fixed it myself this time.", HIGH, set()),
    ("Good question! The refund goes back to the card you paid with.", None, set()),
    # jargon with advice for the term itself
    ("Our SLA is 4 hours.", None, {"jargon"}),
    ("The ETA for your parcel is Friday afternoon.", None, {"jargon"}),
    ("Your ticket number is 4471.", None, {"jargon"}),
    ("The firmware update will fix it.", None, {"jargon"}),
    ("It was prorated on your bill.", None, {"jargon"}),
    ("I found a workaround for now.", None, {"jargon"}),
    # more of the others
    ("Kindly revert at the earliest.", None, {"cold"}),
    ("Nope.", None, {"curt"}),
    ("You forgot to add the flat number.", None, {"blame"}),
    ("Here is your new code.", 0.95, {"no-acknowledgement"}),
]

# The advice for a term says what that term means, not what another one does.
TERM_ADVICE = [("Our SLA is 4 hours.", "sla", "how quickly we promise"),
               ("The ETA for your parcel is Friday afternoon.", "eta", "arrive"),
               ("Your ticket number is 4471.", "ticket number", "reference number"),
               ("Sir, you need to calm down before we go on.", "calm down", "upsetting"),
               ("That's a stupid question.", "stupid question", "good")]


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


@pytest.mark.parametrize("draft, term, advice", TERM_ADVICE, ids=[t for _, t, _ in TERM_ADVICE])
def test_the_advice_is_for_the_term_found(playbook, draft, term, advice):
    (flag,) = check_reply(draft, playbook).flags
    assert flag.found == [term]
    specific = flag.suggestion.split(";")[0]
    assert specific.startswith(f'"{term}" → ') and advice in specific
    assert "DNS" not in flag.suggestion or term == "dns"


def test_one_frustration_number_per_answer(playbook):
    result = check_reply("Here is the tracking link for your parcel.", playbook, frustration=0.6, last_customer=0.9)
    assert result.ids == ["no-acknowledgement"] and result.frustration == 0.6  # the chat's level, the one number
    assert not any(ch.isdigit() for f in result.flags for ch in f.message)  # no second number in a message


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
