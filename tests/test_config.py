"""The example configuration documents every option, with exactly the safe defaults."""

from __future__ import annotations

import dataclasses
import tomllib
import typing
from pathlib import Path

import pytest

from counsel_bot.config import ConfigError, Settings, load_settings, settings_from_mapping
from e2e.vault import passphrase_from_env_or_file

EXAMPLE = Path(__file__).resolve().parent.parent / "config" / "counsel.example.toml"


def test_the_example_is_the_defaults() -> None:
    assert load_settings(EXAMPLE) == Settings()


def test_an_empty_file_is_valid(tmp_path: Path) -> None:
    empty = tmp_path / "counsel.toml"
    empty.write_text("")
    assert load_settings(empty) == Settings()


def _option_paths(cls: type, prefix: str = "") -> list[str]:
    hints = typing.get_type_hints(cls)
    paths = []
    for field in dataclasses.fields(cls):
        kind = hints[field.name]
        if dataclasses.is_dataclass(kind) and prefix.count(".") < 1:
            paths += _option_paths(typing.cast(type, kind), f"{prefix}{field.name}.")
        else:
            paths.append(prefix + field.name)
    return paths


def test_every_option_is_in_the_example() -> None:
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    missing = []
    for path in _option_paths(Settings):
        node: object = data
        for part in path.split("."):
            if not isinstance(node, dict) or part not in node:
                missing.append(path)
                break
            node = node[part]
    assert missing == []


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"web": {"prot": 1}}, "web.prot: unknown option"),
        ({"mail": {"enabled": "yes"}}, "mail.enabled: expected true or false"),
        ({"homeserver": {"url": "ftp://x"}}, "must start with http"),
        ({"crisis": {"escalate_after_minutes": 0}}, "escalate_after_minutes must be positive"),
        ({"opening_hours": {"timezone": "Mars/Olympus"}}, "opening_hours"),
        ({"staff": {"unsigned_devices": "ignore"}}, "staff.unsigned_devices: 'ignore' is not"),
        ({"store": {"url": "mysql://db/counsel"}}, "store: url must be empty .* postgresql://"),
        ({"store": {"url": "postgresql://counsel:hunter2@db/counsel"}}, "must not hold a password"),
        ({"store": {"password_file": "pw"}}, "password_file is set but url is empty"),
    ],
)
def test_bad_values_name_the_option(data: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        settings_from_mapping(data)


@pytest.mark.parametrize("url", [
    "postgresql://counsel@db/counsel?password=hunter2",
    "postgresql://db/counsel?user=counsel&password=hunter2",
    "postgres:///counsel?host=/run/postgresql&sslmode=require&password=hunter2",
])
def test_a_password_in_the_postgresql_urls_query_is_refused_too(url: str) -> None:
    """`url = "postgresql://counsel@db/counsel?password=…"` is as much a password in the
    configuration file as `counsel:…@db` (refused), and libpq takes it all the same: it
    stood in counsel.toml (read by every admin, in each backup that holds the file), while
    the check meant to keep it in password_file said nothing."""
    with pytest.raises(ConfigError, match="must not hold a password; put it into password_file"):
        settings_from_mapping({"store": {"url": url}})


def test_a_postgresql_url_is_accepted() -> None:
    settings = settings_from_mapping({"store": {"url": "postgresql://counsel@db:5432/counsel",
                                                "password_file": "/etc/counsel/pg"}})
    assert settings.store.postgres
    assert not Settings().store.postgres


@pytest.mark.parametrize(("values", "key"), [
    ({"office_phone": "call us"}, "office_phone"),
    ({"office_phone": "0731 1\n2"}, "office_phone"),
    ({"office_address": "Münsterplatz 1\r\n89073 Ulm"}, "office_address"),
    ({"office_address": "x" * 5000}, "office_address"),
])
def test_the_default_appointment_address_and_phone_are_checked_like_an_offices(
    values: dict[str, str], key: str,
) -> None:
    """The [appointments] defaults (used by every installation without offices, and by
    offices that set none) are told to youths and put into calendar files like an office's
    own: one line, a number youths can dial; the error names the key and the fix. Before,
    a phone "call us" was told to youths as the number to call."""
    with pytest.raises(ConfigError, match=f"appointments: {key} .*like"):
        settings_from_mapping({"appointments": values})
    assert settings_from_mapping({"appointments": {
        "office_address": "Münsterplatz 1, 89073 Ulm", "office_phone": "+49 731 123456"}})


@pytest.mark.parametrize(("data", "message"), [
    ({"crisis": {"emergency_de": ""}}, "crisis: emergency_de must"),
    ({"crisis": {"emergency_en": "   "}}, "crisis: emergency_en must"),
    ({"crisis": {"emergency_de": "Ruf uns an"}}, "crisis: emergency_de must"),
    ({"offices": [{"id": "a", "emergency_de": " "}]}, "office 'a': emergency_de must"),
    ({"offices": [{"id": "a", "emergency_en": "tbd"}]}, "office 'a': emergency_en must"),
])
def test_the_emergency_numbers_cannot_be_left_blank(
    data: dict[str, object], message: str,
) -> None:
    """The text a youth is shown when crisis wording is flagged. Everywhere else in this
    file an empty value means the shipped default (and an office's empty emergency_de means
    the [crisis] one), but an empty [crisis] emergency_de was taken as it was: a youth in
    crisis was told where to get help right away, followed by nothing. A text without a
    number to call is refused too."""
    with pytest.raises(ConfigError, match=message):
        settings_from_mapping(data)
    assert settings_from_mapping({"crisis": {"emergency_de": "Notruf 112"}})


@pytest.mark.parametrize(("data", "message"), [
    ({"crisis": {"emergency_de": "Notruf 112 " + "ü" * 12_000}},
     "crisis: emergency_de is 12011 characters long"),
    ({"crisis": {"emergency_en": "Call 112 " + "x" * 70_000}}, "crisis: emergency_en is"),
    ({"offices": [{"id": "a", "emergency_de": "Notruf 112 " + "ü" * 12_000}]},
     "office 'a': emergency_de is"),
    ({"offices": [{"id": "a", "out_of_hours_text": "Wir sind bald da. " * 4000}]},
     "office 'a': out_of_hours_text is"),
    ({"offices": [{"id": "a", "out_of_hours_text": " \n "}]},
     "office 'a': out_of_hours_text is blank"),
])
def test_a_text_the_youth_is_sent_must_fit_a_matrix_message(
    data: dict[str, object], message: str,
) -> None:
    """The emergency numbers go into the notice a youth in crisis is sent, and an office's
    out_of_hours_text into the out-of-hours notice. Any length was accepted: a long text
    (a pasted web page, 12,000 umlauts that nio escapes to six bytes each) took the notice
    past Matrix's 64 KiB event limit, the homeserver refused it for good, and the youth in
    crisis was never told whom to call. A blank out_of_hours_text was sent as a blank line
    instead of when the office opens. Both are refused when the configuration is loaded."""
    with pytest.raises(ConfigError, match=message):
        settings_from_mapping(data)
    assert settings_from_mapping({"crisis": {"emergency_de": "Notruf 112 " + "ü" * 900},
                                  "offices": [{"id": "a",
                                               "out_of_hours_text": "Bis bald. " * 190}]})


@pytest.mark.parametrize("name", ["", " ", "COUNSEL VAULT", "1PASS", "COUNSEL=X"])
def test_a_passphrase_variable_no_environment_can_hold_is_refused(name: str) -> None:
    """`passphrase_env = ""` (meant as "take the file only") was accepted; the bot then
    stopped, without a passphrase_file, with "set the environment variable  or
    vault.passphrase_file", naming no variable. A name with a space or an equals sign
    cannot be set at all. The file names the key and says what to write."""
    with pytest.raises(ConfigError, match=r"vault: passphrase_env .* environment variable"):
        settings_from_mapping({"vault": {"passphrase_env": name}})
    assert settings_from_mapping({"vault": {"passphrase_env": "OFFICE_2_PASSPHRASE"}})


def test_an_empty_passphrase_variable_beside_a_passphrase_file_still_starts(
    tmp_path: Path,
) -> None:
    """`passphrase_env = ""` with a passphrase_file is "the file only": the bot read the
    file and never an environment variable (a stray COUNSEL_VAULT_PASSPHRASE of another
    installation on the host is not taken). Refused since the names were checked, such a
    working configuration stopped the service at its next start; leaving the key out, as
    the refusal said, would let that variable win over the file."""
    passphrase = tmp_path / "vault.passphrase"
    passphrase.write_text("the office's own")
    passphrase.chmod(0o600)
    config = tmp_path / "counsel.toml"
    config.write_text('[vault]\npassphrase_env = ""\npassphrase_file = "vault.passphrase"\n')

    vault = load_settings(config).vault
    environ = {"COUNSEL_VAULT_PASSPHRASE": "another installation's"}
    assert passphrase_from_env_or_file(vault.passphrase_env, tmp_path / vault.passphrase_file,
                                       environ=environ) == "the office's own"


def test_relative_files_are_found_beside_the_configuration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`passphrase_file = "vault.passphrase"` (as the first run writes it) and [store]
    password_file are read beside counsel.toml; the other *_file options and the crisis
    paths were read from the working directory, which under deploy/counsel.service is
    /opt/counsel. A Jitsi secret put beside /etc/counsel/counsel.toml stopped the service
    ("cannot read"), and `counsel stats` found the metrics token only when run from the
    right directory."""
    etc = tmp_path / "etc"
    etc.mkdir()
    token = etc / "metrics.token"
    token.write_text("t" * 32)
    token.chmod(0o600)
    config = etc / "counsel.toml"
    config.write_text(
        '[web]\nmetrics_token_file = "metrics.token"\n'
        '[mail]\nsmtp_username = "beratung"\nsmtp_password_file = "smtp.password"\n'
        '[video]\nbase_url = "https://meet.example.org"\njitsi_app_id = "counsel"\n'
        'jitsi_app_secret_file = "secrets/jitsi"\n'
        '[crisis]\nlexicon_dir = "lexicons"\nmodel_file = "/srv/head.npz"\n')
    elsewhere = tmp_path / "opt"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)

    settings = load_settings(config)
    assert settings.web.metrics_token() == "t" * 32
    assert settings.mail.smtp_password_file == str(etc / "smtp.password")
    assert settings.video.jitsi_app_secret_file == str(etc / "secrets" / "jitsi")
    assert settings.crisis.lexicon_dir == str(etc / "lexicons")
    assert settings.crisis.model_file == "/srv/head.npz"  # absolute: as given
    assert load_settings(EXAMPLE) == Settings()  # empty: still the default


@pytest.mark.parametrize(("forum", "message"), [
    ([{"id": "schule und prüfungen", "name": "Schule"}], r"forum\[0\]: id 'schule und"),
    ([{"id": "", "name": "Schule"}], r"forum\[0\]: id ''"),
    ([{"id": "schule!", "name": "Schule"}], r"forum\[0\]: id 'schule!'"),
    ([{"id": "schule", "name": " "}], r"forum\[0\]: name"),
    ([{"id": "schule", "name": "Schule"}, {"id": "Schule", "name": "Prüfungen"}],
     "forum: the id 'Schule' is used twice"),
])
def test_a_forum_topic_youths_cannot_name_is_refused(
    forum: list[dict[str, str]], message: str,
) -> None:
    """A youth posts with "forum ID text", and only a word of letters, digits, - and _ is
    read as an ID: a topic whose id has a space or other mark was accepted, its room made,
    and every youth who wrote to it was told how to use the command instead. Two topics
    whose ids differ only in case were one to the bot (the second silently replaced the
    first). The error names the entry and says what to write."""
    with pytest.raises(ConfigError, match=message):
        settings_from_mapping({"forum": forum})
    assert settings_from_mapping({"forum": [{"id": "schule", "name": "Schule und Prüfungen"},
                                            {"id": "liebe-und-co", "name": "Liebe"}]})


def test_a_snippet_defined_twice_is_refused() -> None:
    """`!s NAME` finds a snippet by its name in any case. An office's own snippets were
    refused when one name came twice, the [[snippets]] every office shares were not: the
    second silently replaced the first, and counsellors were handed a text nobody chose."""
    with pytest.raises(ConfigError, match="snippets: the snippet 'hallo' is defined twice"):
        settings_from_mapping({"snippets": [{"name": "hallo", "text": "Hallo!"},
                                            {"name": "Hallo", "text": "Servus!"}]})


def test_mail_counselling_needs_a_working_day_to_count_its_deadline_on() -> None:
    """A mail's first reply is due within [mail_deadline] first_reply_working_days, counted
    on the [opening_hours] week. A week without hours (a mail-only office, or every day
    emptied over the holidays) was accepted with [mail] enabled; the first mail then stopped
    the bot at its next tick, deadline counting on no working day, and every restart
    stopped again while that mail's conversation was open: no youth, chat or mail, reached
    anyone. The configuration is refused, naming the keys."""
    closed = {day: [] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    mail = {"enabled": True, "smtp_host": "mail.example.org"}
    with pytest.raises(ConfigError, match=r"opening_hours.*weekly.*\[mail\]"):
        settings_from_mapping({"opening_hours": {"weekly": closed}, "mail": mail})
    # Without mail a closed week is the office's choice (the youth is told when it opens).
    assert settings_from_mapping({"opening_hours": {"weekly": closed}})
    assert settings_from_mapping({"opening_hours": {"weekly": {"fri": ["14:00-18:00"]}},
                                  "mail": mail})


@pytest.mark.parametrize("localpart", ["Beratung", "beratüng", "BERATUNG-nord"])
def test_a_bot_localpart_the_homeserver_would_change_is_refused(localpart: str) -> None:
    """The homeserver registers the bot's account lower-case and refuses letters outside
    a-z; counsel then logged in, told youths to write to, and told its own messages apart
    by an id that was not the account's (@Beratung:server is not @beratung:server), or did
    not start at all. The loader said "letters, digits, - and _" and took any of these."""
    with pytest.raises(ConfigError, match=r"bot: .*localpart"):
        settings_from_mapping({"bot": {"localpart": localpart}})
    assert settings_from_mapping({"bot": {"localpart": "beratung-nord_2"}})


@pytest.mark.parametrize(("data", "message"), [
    ({"staff": {"team_leads": ["@Lea:counsel.localhost"]}}, "staff: '@Lea:counsel.localhost'"),
    ({"staff": {"counsellors": ["@ANNA:counsel.localhost"]}}, "staff: '@ANNA:counsel.localhost'"),
    ({"offices": [{"id": "a", "team_leads": ["@Lea:counsel.localhost"]}]},
     "office 'a': team_leads: '@Lea:counsel.localhost'"),
])
def test_a_staff_id_with_capitals_is_refused(data: dict[str, object], message: str) -> None:
    """Matrix accounts are lower-case (the homeserver registers "Lea" as @lea), and ids are
    compared as written: a team lead listed as @Lea:server was nobody the bot knew. Her
    commands were not a lead's, and a crisis page mentioned an account that does not exist,
    so no lead was paged. The error names the id and how to write it."""
    with pytest.raises(ConfigError, match=message + ".*lower-case"):
        settings_from_mapping(data)


@pytest.mark.parametrize("zone", ["Europe", "America", "Europe/" + "Berlin" * 50])
def test_a_timezone_that_is_a_region_or_too_long_is_a_config_error(
    tmp_path: Path, zone: str,
) -> None:
    """An admin who writes the region ("Europe") instead of the zone, or pastes a long line,
    gets the one-line error naming the key. Before, the zone database's directory (or a file
    name too long for it) raised IsADirectoryError / OSError, and `counsel up` printed an
    internal error ("a bug, please report it") with a traceback and exit status 70."""
    config = tmp_path / "counsel.toml"
    config.write_text(f'[opening_hours]\ntimezone = "{zone}"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"opening_hours.timezone: .* is not a known timezone"):
        load_settings(config)


def test_a_file_saved_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    """Windows editors (Notepad before 2019, "UTF-8 with BOM" elsewhere) start the file with
    a byte order mark. It was refused as "not valid TOML: Invalid statement (at line 1,
    column 1)", pointing at a first line that looks right; the service did not start."""
    config = tmp_path / "counsel.toml"
    config.write_bytes("\ufeff[bot]\ndisplay_name = \"Beratung Süd\"\n".encode())
    assert load_settings(config).bot.display_name == "Beratung Süd"


@pytest.mark.parametrize(("data", "key"), [
    ({"staff": {"team_leads": ["@beratung:counsel.localhost"]}}, "staff.team_leads"),
    ({"staff": {"counsellors": ["@beratung:counsel.localhost"]}}, "staff.counsellors"),
    ({"bot": {"localpart": "team"},
      "offices": [{"id": "a", "team_leads": ["@team:counsel.localhost"]}]},
     "office 'a': team_leads"),
])
def test_the_bots_own_account_is_no_staff_member(data: dict[str, object], key: str) -> None:
    """The bot's account (@beratung:…, "the office's account" to an admin) named as a team
    lead was taken: crisis flags nobody handled paged the team leads, that is the bot
    itself, and no person; an installation naming no lead would have called its
    counsellors instead. As a counsellor it was a colleague who never answers."""
    with pytest.raises(ConfigError, match=rf"{key}: .* is the bot's own account"):
        settings_from_mapping(data)
