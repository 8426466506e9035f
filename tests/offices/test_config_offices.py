"""[[offices]] in the one TOML: validated with key paths; none = today's single office."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from counsel_bot.config import ConfigError, Settings, load_settings, settings_from_mapping

README = Path(__file__).resolve().parents[2] / "README.md"


def _office(office_id: str, **extra: object) -> dict[str, object]:
    return {"id": office_id, **extra}


def test_no_offices_is_the_single_office() -> None:
    settings = settings_from_mapping({})
    assert settings.offices == ()
    assert settings.fallback_office == ""
    assert settings == Settings()


def test_three_offices_with_fallback_and_on_call() -> None:
    settings = settings_from_mapping({
        "routing": {"fallback_office": "general", "on_call_office": "family"},
        "offices": [
            _office("family", name="Familienberatung", topics=["family"], postcodes=["89"],
                    counsellors=["@anna:x"], team_leads=["@lea:x"], hours={"mon": ["14:00-18:00"]},
                    retention_days=14, staff_room="#family:x"),
            _office("school", topics=["school"], postcodes=["80000-85999"]),
            _office("general", topics=["general"], counsellors=["@cem:x"]),
        ],
    })
    assert [o.id for o in settings.offices] == ["family", "school", "general"]
    assert settings.fallback_office == "general"
    assert settings.on_call_office == "family"
    family = settings.offices[0].office()
    assert family.serves_postcode("89073")
    assert not family.serves_postcode("90000")


def test_fallback_defaults_to_the_first_office() -> None:
    settings = settings_from_mapping({"offices": [_office("a"), _office("b")]})
    assert settings.fallback_office == "a"
    assert settings.on_call_office == "a"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"offices": [{"name": "x"}]}, "offices[0].id: missing"),
        ({"offices": [_office("a", topics=["cooking"])]}, "unknown topic 'cooking'"),
        ({"offices": [_office("a", postcodes=["89x"])]}, "postcode area '89x'"),
        ({"offices": [_office("a", postcodes=["89999-89000"])]}, "runs backwards"),
        ({"offices": [_office("a", counsellors=["anna"])]}, "'anna' is not a Matrix user id"),
        ({"offices": [_office("a", staff_room="team")]}, "staff_room must be an alias"),
        ({"offices": [_office("a", mail_address="familie")]}, "is not a mail address"),
        ({"offices": [_office("a", hours={"mon": ["25:00-26:00"]})]}, "offices[0]"),
        ({"offices": [_office("A B")]}, "office id 'A B'"),
        ({"offices": [_office("a", colour="red")]}, "offices[0].colour: unknown option"),
        ({"offices": [_office("a"), _office("a")]}, "the id 'a' is used twice"),
        ({"offices": [_office("a")], "routing": {"fallback_office": "b"}},
         "routing.fallback_office: 'b' is not an office id"),
        ({"routing": {"on_call_office": "b"}}, "need [[offices]]"),
        ({"offices": {"id": "a"}}, "offices: expected a list"),
        ({"offices": [_office("a")], "staff": {"counsellors": ["@zoe:x"]}},
         "@zoe:x is in no office"),
    ],
)
def test_bad_offices_name_the_key(data: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        settings_from_mapping(data)
    assert message in str(raised.value)


@pytest.mark.parametrize(("hours", "message"), [
    ({"mon": ["25:00-26:00"]}, "office 'a': hours.mon[0]: '25:00-26:00' is not a valid range"),
    ({"monday": ["14:00-18:00"]}, "office 'a': hours.monday: unknown day"),
])
def test_bad_office_hours_name_the_offices_key(hours: dict[str, object], message: str) -> None:
    """An office's `hours` were checked as if they were [opening_hours]: the error named
    "opening_hours.weekly.mon[0]", a key that was fine, and sent the admin to the wrong table."""
    with pytest.raises(ConfigError) as raised:
        settings_from_mapping({"offices": [_office("a", hours=hours)]})
    assert message in str(raised.value)
    assert "opening_hours" not in str(raised.value)


def test_the_readme_example_loads(tmp_path: Path) -> None:
    text = README.read_text(encoding="utf-8")
    start = text.index("<!-- offices-example -->")
    block = text[start:].split("```toml", 1)[1].split("```", 1)[0]
    config = tmp_path / "counsel.toml"
    config.write_text(block)
    tomllib.loads(block)
    settings = load_settings(config)
    assert len(settings.offices) == 3



@pytest.mark.parametrize("address", ["<familie@counsel.localhost>",
                                     "familie@counsel.localhost,",
                                     "familie@counsel.localhost;schule@counsel.localhost",
                                     "familie@counsel.localhost\n"])
def test_an_office_address_the_replies_cannot_come_from_is_refused_at_load(
    address: str,
) -> None:
    """The office's replies come from its mail_address, and the mail composer takes only
    a plain address. Before, the config took anything with an @, a dot and no space: the
    bot started, every reply of that office was refused by the composer at sending, was
    tried a few times and dropped (a counsellor's words lost without a word); with a comma or
    a semicolon the inbound server also refused the youths' mails to it."""
    with pytest.raises(ConfigError) as raised:
        settings_from_mapping({"offices": [_office("a", mail_address=address)]})
    assert "is not a mail address" in str(raised.value)


@pytest.mark.parametrize(("key", "value"), [
    ("staff_room", "#team:x"),
    ("mail_address", "beratung@example.org"),
])
def test_two_offices_never_share_a_staff_room_or_mail_address(key: str, value: str) -> None:
    """A copied [[offices]] block with its staff room left as it was put both offices' staff
    into one room: each office's notices and crisis alerts reached the other office's staff,
    and commands there counted for the first office only. A shared mail address sent every
    mail to the first office. Both are refused, naming the key and what to change."""
    data = {"offices": [_office("familie", **{key: value}), _office("schule", **{key: value})]}
    with pytest.raises(ConfigError) as raised:
        settings_from_mapping(data)
    assert f"offices: the {key} {value!r} is given to 'familie' and 'schule'" in str(raised.value)


def test_an_office_address_that_is_the_main_address_is_refused() -> None:
    """A mail to [mail] office_address goes to the office its text names (README,
    "Offices"); a mail to an office's own mail_address goes to that office. An office given
    the main address as its own took every mail to it, whatever the youth wrote about, and
    the main address no longer routed at all. Refused, naming both keys."""
    data = {"mail": {"office_address": "beratung@example.org"},
            "offices": [_office("familie"), _office("jugend",
                                                    mail_address="Beratung@example.org")]}
    with pytest.raises(ConfigError) as raised:
        settings_from_mapping(data)
    message = str(raised.value)
    assert "office 'jugend': mail_address" in message
    assert "[mail] office_address" in message


@pytest.mark.parametrize("days", [3651, 10**9])
def test_an_offices_retention_is_bounded_like_the_default(days: int) -> None:
    """[retention] closed_days must be 1-3650; an office's own retention_days had no upper
    bound: a slip of a digit kept that office's conversations for a century, and a value
    past what a timedelta holds stopped the bot with a traceback instead of naming the key."""
    data = {"offices": [_office("familie", retention_days=days)]}
    with pytest.raises(ConfigError) as raised:
        settings_from_mapping(data)
    assert "retention_days must be between 0" in str(raised.value)
    assert "3650" in str(raised.value)
    kept = settings_from_mapping({"offices": [_office("familie", retention_days=3650)]})
    assert kept.offices[0].retention_days == 3650


@pytest.mark.parametrize("languages", [["DE"], ["deutsch"], ["de", ""], []])
def test_an_offices_languages_are_codes_as_a_counsellors_are(languages: list[str]) -> None:
    """Of several offices that fit a youth's topic, those whose `languages` hold the
    conversation's language ("de", "en") take it. `!languages` takes only codes of two or
    three small letters; the configuration took anything, so an office written
    languages = ["DE"] (or none) lost every youth its topic brought to a neighbour office
    that spelled "de". Refused, naming the key."""
    with pytest.raises(ConfigError) as raised:
        settings_from_mapping({"offices": [_office("familie", languages=languages)]})
    assert "office 'familie': languages" in str(raised.value)
    assert "like \"de\"" in str(raised.value)
    assert settings_from_mapping({"offices": [_office("familie", languages=["de", "tr"])]})


@pytest.mark.parametrize(("routing", "named"), [
    ({"on_call_office": "beratung"}, "routing.on_call_office"),
    ({"fallback_office": "beratung"}, "routing.fallback_office"),  # on call as the fallback
    ({}, "the first office"),  # on call as the fallback, which is the first office
])
def test_the_on_call_office_has_staff(routing: dict[str, str], named: str) -> None:
    """A crisis whose own office has nobody on duty is announced in the on-call office's
    staff room (`conversation.offices._office_now`), and with no routing keys the on-call
    office is the first one. A first office added without its counsellors yet (the others
    have theirs) took those crisis alerts into a room nobody reads. Refused, naming the
    option and what to change."""
    data = {"routing": routing, "offices": [
        _office("beratung", topics=["general"]),
        _office("familie", topics=["family"], counsellors=["@anna:x"], team_leads=["@lea:x"]),
    ]}
    with pytest.raises(ConfigError) as raised:
        settings_from_mapping(data)
    message = str(raised.value)
    assert "'beratung' has no counsellors or team_leads" in message
    assert named in message
    assert settings_from_mapping({"routing": {"on_call_office": "familie",
                                              "fallback_office": "familie"},
                                  "offices": data["offices"]})


def test_the_fallback_office_has_staff() -> None:
    """What no office serves goes to the fallback office, and only its staff see it
    (`OfficeRules.sees`). A fallback office without staff, the others staffed and a staffed
    on-call office named, left every such youth in a queue nobody sees: never answered,
    unless crisis words made it the on-call office's. Refused like an unstaffed on-call
    office."""
    offices = [_office("beratung", topics=["general"]),
               _office("familie", topics=["family"], counsellors=["@anna:x"])]
    with pytest.raises(ConfigError) as raised:
        settings_from_mapping({"routing": {"on_call_office": "familie"}, "offices": offices})
    message = str(raised.value)
    assert "'beratung' has no counsellors or team_leads" in message
    assert "the first office" in message
    assert settings_from_mapping({"routing": {"on_call_office": "familie",
                                              "fallback_office": "familie"},
                                  "offices": offices})


@pytest.mark.parametrize("name", [" ", "\t\n"])
def test_a_blank_office_name_is_refused_naming_the_key(name: str) -> None:
    """A name of only spaces passed the check, was told to youths ("you are with  ") and
    stopped `counsel up` at the entry page with a bare ValueError naming no key."""
    with pytest.raises(ConfigError, match=r"offices\[0\]: office 'a': name is blank"):
        settings_from_mapping({"offices": [_office("a", name=name)]})


@pytest.mark.parametrize(("key", "user", "message"), [
    ("team_leads", "lea:x", "office 'a': team_leads: 'lea:x' is not a Matrix user id"),
    ("counsellors", "@Anna:x", "office 'a': counsellors: "),
])
def test_a_bad_staff_id_names_the_offices_list_it_stands_in(
        key: str, user: str, message: str) -> None:
    """The error named the office but not whether the id stood in its counsellors or its
    team_leads: an admin looking for a lead's typo searched both lists."""
    with pytest.raises(ConfigError, match=message):
        settings_from_mapping({"offices": [_office("a", **{key: [user]})]})


def test_an_office_that_words_never_reach_is_named() -> None:
    """Two offices with the same topics, postcodes and languages (one copied from the other
    and left so): every youth who writes about them is asked what it is about, to no use,
    and always goes to the first; the second is reached only by its start text. Allowed
    (a team reached by its link alone), but `counsel up` says so."""
    from counsel_bot.runtime.offices import unreached_offices

    same = {"topics": ["family"], "postcodes": ["89"]}
    settings = settings_from_mapping({"offices": [
        _office("ulm", **same), _office("school", topics=["school"]),
        _office("ulm-2", **same), _office("ulm-en", **same, languages=["en"])]})
    [warning] = unreached_offices(settings)
    assert "'ulm-2'" in warning
    assert "'ulm'" in warning
    assert "stelle:ulm-2" in warning
    assert unreached_offices(settings_from_mapping({"offices": [
        _office("ulm", **same), _office("munich", topics=["family"], postcodes=["80"])]})) == []
