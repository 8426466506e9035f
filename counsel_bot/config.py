"""The one configuration file of counsel (TOML), loaded into typed, validated settings.

Rules this loader keeps:
- every option has a safe default, so an empty file is a valid configuration;
- an unknown key or a value of the wrong type is an error naming the key path, never ignored
  (a typo in a privacy setting must not silently fall back to something else);
- secrets are never values in this file: options ending in ``_file`` name a file that holds them.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
import typing
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

from counsel_bot.conversation.appointments import AppointmentSettings
from counsel_bot.conversation.forum import ForumTopic
from counsel_bot.conversation.groups import GroupSettings
from counsel_bot.conversation.retention import RetentionSettings
from counsel_bot.core.appointments import check_place
from counsel_bot.core.mail_deadline import MailDeadlineSettings
from counsel_bot.core.offices import Office
from counsel_bot.core.timers import TimerSettings
from counsel_bot.core.video import VideoSettings

# ConfigError is re-exported: callers catch config.ConfigError.
from counsel_bot.typed_tables import ConfigError as ConfigError
from counsel_bot.typed_tables import build
from counsel_bot.web.settings import WebSettings
from homeserver_bridge.entry_page import (
    DEFAULT_EMERGENCY_NUMBERS,
    EmergencyNumber,
    EntryPageSettings,
)
from homeserver_bridge.mail import MailSettings, is_address
from homeserver_bridge.settings import HomeserverSettings


@dataclass(frozen=True)
class BotSettings:
    # Localpart of the counselling account youths write to.
    localpart: str = "beratung"
    display_name: str = "Beratung"
    # Language used when a youth's language cannot be told; "de" or "en".
    default_language: Literal["de", "en"] = "de"
    # Seconds an undecryptable message waits for its room key before the youth is asked to resend.
    undecryptable_grace_seconds: float = 30.0

    def __post_init__(self) -> None:
        # The homeserver registers accounts lower-case and refuses other letters: the bot's
        # id must be the one it gets, or youths are sent to an account that does not exist.
        if not re.fullmatch(r"[a-z0-9_-]+", self.localpart):
            raise ValueError(f"localpart {self.localpart!r} must be a Matrix localpart of "
                             "small letters a-z, digits, - and _ (e.g. \"beratung\")")
        if not 0 < self.undecryptable_grace_seconds <= 86_400:
            raise ValueError("undecryptable_grace_seconds must be between 0 and 86400")


@dataclass(frozen=True)
class VaultSettings:
    # The vault passphrase comes from this environment variable, or else from passphrase_file.
    passphrase_env: str = "COUNSEL_VAULT_PASSPHRASE"  # noqa: S105 (a variable name)
    passphrase_file: str = ""

    def __post_init__(self) -> None:
        # Empty was taken, and the bot stopped later saying "set the environment variable
        # or ...", naming none; the file alone is used when the variable is unset anyway.
        # Empty beside a file is "the file only" (no variable of the host's is taken), as
        # configurations from before this check say it.
        if self.passphrase_env == "" and self.passphrase_file:
            return
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", self.passphrase_env):
            raise ValueError(f"passphrase_env {self.passphrase_env!r} is not the name of an "
                             "environment variable (letters, digits and _, e.g. "
                             "\"COUNSEL_VAULT_PASSPHRASE\"); leave it out to use that one, "
                             "and the passphrase_file when it is unset")


@dataclass(frozen=True)
class StoreSettings:
    # Empty = the embedded SQLite database; "postgresql://..." = PostgreSQL, active/standby.
    url: str = ""
    # The PostgreSQL password lives in this file, never in the URL.
    password_file: str = ""

    def __post_init__(self) -> None:
        if not self.url:
            if self.password_file:
                raise ValueError("password_file is set but url is empty; set url too")
            return
        scheme, sep, rest = self.url.partition("://")
        if not sep or scheme not in ("postgresql", "postgres") or not rest:
            raise ValueError("url must be empty (SQLite) or a postgresql:// URL")
        # In the user part ("counsel:secret@db") or the query ("?password=secret"): libpq
        # reads both, and either would stand in this file (and in backups that hold it).
        query = parse_qs(urlsplit(self.url).query, keep_blank_values=True)
        if ("@" in rest.split("/", 1)[0] and ":" in rest.split("@", 1)[0]) \
                or "password" in query:
            raise ValueError("url must not hold a password; put it into password_file")

    @property
    def postgres(self) -> bool:
        return bool(self.url)


@dataclass(frozen=True)
class StaffSettings:
    # Matrix ids of counsellors and team leads. Team leads may also counsel.
    counsellors: tuple[str, ...] = ()
    team_leads: tuple[str, ...] = ()
    # Parallel conversations a counsellor takes unless they set their own.
    default_capacity: int = 2
    # "!duty on" from someone with a device they have not cross-signed (youths in Element's
    # strict mode cannot read it): "warn" = on duty with a warning, "refuse" = not on duty.
    unsigned_devices: Literal["warn", "refuse"] = "warn"

    def __post_init__(self) -> None:
        if self.default_capacity < 1:
            raise ValueError("default_capacity must be at least 1")
        for user in (*self.counsellors, *self.team_leads):
            if not (user.startswith("@") and ":" in user):
                raise ValueError(f"{user!r} is not a Matrix user id like @name:server")
            _check_lower_case(user)


def _check_lower_case(user: str) -> None:
    """Accounts are lower-case (the homeserver registers "Lea" as @lea) and ids are compared
    as written: @Lea:server would be nobody the bot knows, and a page to it reach no one."""
    name = user.partition(":")[0]
    if name != name.lower():
        raise ValueError(f"{user!r}: Matrix user ids are lower-case; write "
                         f"{name.lower()}:{user.partition(':')[2]}")
    # What the homeserver lets an account be called: any other id is nobody, ever.
    if not re.fullmatch(r"@[a-z0-9._=/+-]+", name):
        raise ValueError(f"{user!r}: a Matrix user id holds only a-z, 0-9 and . _ = - / + "
                         "between the @ and the :")


_ALL_DAY = ("00:00-24:00",)
_EVERY_DAY = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class OpeningHoursSettings:
    timezone: str = "Europe/Berlin"
    # Day -> list of "HH:MM-HH:MM". The default (always open) never tells a youth that
    # nobody is there when someone might be; offices set their real hours.
    weekly: dict[str, tuple[str, ...]] = field(
        default_factory=lambda: {day: _ALL_DAY for day in _EVERY_DAY}
    )
    holidays: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        from counsel_bot.core.opening_hours import OpeningHours, OpeningHoursError

        try:
            OpeningHours.from_dict(self.as_dict())
        except OpeningHoursError as exc:
            raise ValueError(str(exc)) from None

    def as_dict(self) -> dict[str, object]:
        return {"timezone": self.timezone, "weekly": {k: list(v) for k, v in self.weekly.items()},
                "holidays": list(self.holidays)}


@dataclass(frozen=True)
class RoutingSettings:
    # false = counsellors pull conversations with !next / !take; nothing is assigned for them.
    auto_assign: bool = True
    # With [[offices]]: the office that takes what no office serves (empty = the first one),
    # and the office whose staff take a crisis when its own office has nobody on duty
    # (empty = the fallback office).
    fallback_office: str = ""
    on_call_office: str = ""


@dataclass(frozen=True)
class TimersSettings:
    # Live chat response targets: past them the counsellor is reminded in the staff room;
    # past requeue_after_minutes the conversation goes back to the queue.
    first_response_minutes: float = 5.0
    next_response_minutes: float = 15.0
    requeue_after_minutes: float = 30.0

    def __post_init__(self) -> None:
        from counsel_bot.core.timers import TimerSettingsError

        for name in ("first_response_minutes", "next_response_minutes",
                     "requeue_after_minutes"):
            if not 0 < getattr(self, name) <= 1440:
                raise ValueError(f"{name} must be positive and at most 1440 (a day)")
        try:
            self.timer_settings()
        except TimerSettingsError as exc:
            raise ValueError(str(exc)) from None

    def timer_settings(self) -> TimerSettings:
        return TimerSettings(first_response=timedelta(minutes=self.first_response_minutes),
                             next_response=timedelta(minutes=self.next_response_minutes),
                             requeue_after=timedelta(minutes=self.requeue_after_minutes))


@dataclass(frozen=True)
class OfficeTimersSettings:
    # An office's own response targets ([[offices]] timers = {...}); 0 = the [timers] value.
    first_response_minutes: float = 0.0
    next_response_minutes: float = 0.0
    requeue_after_minutes: float = 0.0

    def __post_init__(self) -> None:
        for name in ("first_response_minutes", "next_response_minutes",
                     "requeue_after_minutes"):
            if not 0 <= getattr(self, name) <= 1440:
                raise ValueError(f"timers.{name} must be between 0 (the [timers] value) and "
                                 "1440 (a day)")

    def over(self, defaults: TimersSettings) -> TimersSettings:
        """These targets, each unset one (0) taken from ``defaults``; validated together."""
        return TimersSettings(
            first_response_minutes=self.first_response_minutes
            or defaults.first_response_minutes,
            next_response_minutes=self.next_response_minutes or defaults.next_response_minutes,
            requeue_after_minutes=self.requeue_after_minutes or defaults.requeue_after_minutes)


@dataclass(frozen=True)
class SnippetSettings:
    # [[snippets]]: a text a counsellor fetches with "!s NAME" and sends from their device.
    name: str
    text: str

    def __post_init__(self) -> None:
        from counsel_bot.core.workday_commands import MAX_SNIPPET_CHARS, SNIPPET_NAME

        if not SNIPPET_NAME.fullmatch(self.name):
            raise ValueError(f"snippet name {self.name!r}: use 1-32 letters, digits, - or _")
        if not self.text.strip() or len(self.text) > MAX_SNIPPET_CHARS:
            raise ValueError(f"snippet {self.name!r}: the text must be 1-{MAX_SNIPPET_CHARS} "
                             "characters")


@dataclass(frozen=True)
class CrisisSettings:
    # Empty = the lexicons shipped in config/crisis.
    lexicon_dir: str = ""
    # The semantic model beside the rules (it finds meaning the rules never saw). Off only
    # for a machine too small for it: rules alone miss most indirect wording.
    model: bool = True
    # Empty = the head shipped in config/crisis/model/head.npz.
    model_file: str = ""
    # Minutes a crisis flag may wait for a human before the team leads are paged.
    escalate_after_minutes: float = 2.0
    emergency_de: str = (
        "Nummer gegen Kummer 116 111 (kostenlos, anonym) · TelefonSeelsorge 0800 111 0 111 "
        "oder 0800 111 0 222 (rund um die Uhr) · in akuter Gefahr: Notruf 112"
    )
    emergency_en: str = (
        "Nummer gegen Kummer 116 111 (free, anonymous) · TelefonSeelsorge 0800 111 0 111 "
        "or 0800 111 0 222 (day and night) · in acute danger: emergency number 112"
    )

    def __post_init__(self) -> None:
        if not 0 < self.escalate_after_minutes <= 1440:
            raise ValueError("escalate_after_minutes must be positive and at most 1440")
        _check_emergency("emergency_de", self.emergency_de)
        _check_emergency("emergency_en", self.emergency_en)


# A text of the file sent to youths inside a notice: a Matrix event is at most 64 KiB,
# encrypted, and nio escapes a non-ASCII letter to six bytes (an emoji to twelve). A longer
# one took the notice past the limit, refused for good: a youth in crisis never saw it.
MAX_EMERGENCY_CHARS = 1000
MAX_OUT_OF_HOURS_CHARS = 2000


def _check_emergency(key: str, text: str) -> None:
    """A youth in crisis is told to call what this says: it must name a number (an empty
    one is not the default here, it is sent as it is)."""
    if not any(c.isdigit() for c in text):
        raise ValueError(f"{key} must give the numbers a youth in crisis can call (the "
                         "shipped text is in config/counsel.example.toml); it is empty or "
                         "has no number")
    _check_length(key, text, MAX_EMERGENCY_CHARS)


def _check_length(key: str, text: str, most: int) -> None:
    if len(text) > most:
        raise ValueError(f"{key} is {len(text)} characters long; at most {most} fit the "
                         "message a youth is sent: keep it short and link to a page for more")


@dataclass(frozen=True)
class HelplineSettings:
    """[[entry_page.emergency_numbers]]: a helpline the entry page lists, to call at once."""

    name_de: str
    # Digits and spaces, e.g. "116 111"; several for one line ("0800 111 0 111").
    numbers: tuple[str, ...]
    name_en: str = ""  # empty: the German name on the English page too
    note_de: str = ""
    note_en: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "numbers", tuple(self.numbers))
        self.helpline()  # refused here, naming the key, rather than when the page starts

    def helpline(self) -> EmergencyNumber:
        names = {"de": self.name_de, "en": self.name_en}
        notes = {"de": self.note_de, "en": self.note_en}
        return EmergencyNumber(name={k: v for k, v in names.items() if v},
                               numbers=self.numbers,
                               note={k: v for k, v in notes.items() if v})


@dataclass(frozen=True)
class EntryPageConfig(EntryPageSettings):
    enabled: bool = True
    # Shown on the page, e.g. "Jugendberatung Musterstadt".
    office_name: str = "Online-Beratung"
    # The helplines the page lists; none: the German ones ([crisis] emergency_* names the
    # same in the chat). An office elsewhere lists its own, as it writes them there.
    emergency_numbers: tuple[HelplineSettings, ...] = ()

    def helplines(self) -> tuple[EmergencyNumber, ...]:
        return tuple(h.helpline() for h in self.emergency_numbers) or DEFAULT_EMERGENCY_NUMBERS

    def page_settings(self) -> EntryPageSettings:
        names = {f.name for f in dataclasses.fields(EntryPageSettings)}
        return EntryPageSettings(**{n: getattr(self, n) for n in names})


@dataclass(frozen=True)
class WebConfig(WebSettings):
    # The bot serves /metrics and the team-lead dashboard.
    enabled: bool = True

    def web_settings(self) -> WebSettings:
        names = {f.name for f in dataclasses.fields(WebSettings)}
        return WebSettings(**{n: getattr(self, n) for n in names})


@dataclass(frozen=True)
class LoggingSettings:
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


@dataclass(frozen=True)
class BackupSettings:
    # Where the bot writes the ids of conversations youths deleted, so that a restore from
    # a backup made before deletes them again (README, "Backup and restore"). Empty: none
    # is written, and a restore brings such conversations back. An absolute path on
    # another disk than the data directory (the backups' disk).
    erasure_journal: str = ""

    def __post_init__(self) -> None:
        if self.erasure_journal and not Path(self.erasure_journal).is_absolute():
            raise ValueError(f"erasure_journal {self.erasure_journal!r} must be an absolute "
                             "path on another disk than the data directory (where the "
                             "backups go), e.g. \"/var/backups/counsel/erased\"")


@dataclass(frozen=True)
class DemoSettings:
    # Create a demo counsellor, team lead and youth with printed passwords. Never in production.
    accounts: bool = False


def _check_place(who: str, address: str, phone: str) -> None:
    """An office's appointment address and phone, checked as the [appointments] defaults."""
    try:
        check_place(address, phone)
    except ValueError as exc:
        raise ValueError(f"{who}: {exc}") from None


@dataclass(frozen=True)
class OfficeSettings:
    """One counselling office of several on this installation ([[offices]])."""

    id: str
    name: str = ""
    # The ids this office had before (renamed, or offices merged into it): what was theirs
    # (waiting youths, closed conversations, appointments) is this office's. Without, a
    # removed id's are the fallback office's.
    former_ids: tuple[str, ...] = ()
    # Topic ids (family, school, addiction, violence, sexuality, lgbtq, migration, general).
    topics: tuple[str, ...] = ()
    languages: tuple[str, ...] = ("de",)
    # Postcode areas: "89" (a prefix) or "89000-89999" (a range); empty = everywhere.
    postcodes: tuple[str, ...] = ()
    # Day -> list of "HH:MM-HH:MM" in [opening_hours].timezone; empty = [opening_hours].
    hours: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Said to a youth out of hours instead of the standard text (empty = the standard text).
    out_of_hours_text: str = ""
    # The same in English, for a youth who writes English (empty = the standard English
    # text, which says when the office opens: not the German words above).
    out_of_hours_text_en: str = ""
    # Empty = the [crisis] numbers.
    emergency_de: str = ""
    emergency_en: str = ""
    # The office's staff room: an alias (#team-family:server) or room id (!abc:server).
    staff_room: str = ""
    counsellors: tuple[str, ...] = ()
    team_leads: tuple[str, ...] = ()
    # Days closed conversations are kept; 0 = [retention].closed_days.
    retention_days: int = 0
    mail_address: str = ""
    # Where its in-person appointments are and the number youths call for phone appointments;
    # empty = [appointments] office_address / office_phone.
    address: str = ""
    phone: str = ""
    # Response targets of this office's live chats; each unset one is the [timers] value.
    timers: OfficeTimersSettings = field(default_factory=OfficeTimersSettings)
    # This office's text snippets beside the [[snippets]] every office has (same name: this).
    snippets: tuple[SnippetSettings, ...] = ()

    def __post_init__(self) -> None:
        from counsel_bot.core.offices import OfficeError

        # Told to youths ("you are with ...") and shown on the entry page, which needs one.
        if self.name and not self.name.strip():
            raise ValueError(f"office {self.id!r}: name is blank; write the name youths are "
                             "told, or leave it out for the office id")
        names = [s.name.casefold() for s in self.snippets]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"office {self.id!r}: the snippet {twice[0]!r} is defined twice; "
                             "give each snippet of an office its own name")
        # Matched against a conversation's language as a counsellor's `!languages` are.
        if not self.languages or not all(re.fullmatch(r"[a-z]{2,3}", code)
                                         for code in self.languages):
            raise ValueError(f"office {self.id!r}: languages must be codes like \"de\" and "
                             f"\"en\" (two or three small letters), got {list(self.languages)}")
        if not 0 <= self.retention_days <= 3650:
            raise ValueError(f"office {self.id!r}: retention_days must be between 0 (the "
                             "[retention] closed_days) and 3650, as closed_days")
        for old in self.former_ids:
            if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,31}", old):
                raise ValueError(f"office {self.id!r}: former_ids: {old!r} is no office id "
                                 "(1-32 lower-case letters, digits, - or _)")
        for key in ("counsellors", "team_leads"):
            for user in getattr(self, key):
                if not (user.startswith("@") and ":" in user):
                    raise ValueError(f"office {self.id!r}: {key}: {user!r} is not a Matrix "
                                     "user id like @name:server")
                try:
                    _check_lower_case(user)
                except ValueError as exc:
                    raise ValueError(f"office {self.id!r}: {key}: {exc}") from None
        if self.staff_room and self.staff_room[:1] not in ("#", "!"):
            raise ValueError(f"office {self.id!r}: staff_room must be an alias (#...) or a "
                             "room id (!...)")
        # The check the mail composer makes of the address replies come from: whatever
        # passes here can send.
        if self.mail_address and not is_address(self.mail_address):
            raise ValueError(f"office {self.id!r}: mail_address {self.mail_address!r} is not "
                             "a mail address like familie@example.org")
        # Empty means the standard text (with when the office opens); blank was sent as is.
        for key in ("out_of_hours_text", "out_of_hours_text_en"):
            value = getattr(self, key)
            if value and not value.strip():
                raise ValueError(f"office {self.id!r}: {key} is blank; write the office's "
                                 "words, or leave it empty for the standard text that says "
                                 "when the office opens")
            try:
                _check_length(key, value, MAX_OUT_OF_HOURS_CHARS)
            except ValueError as exc:
                raise ValueError(f"office {self.id!r}: {exc}") from None
        for key in ("emergency_de", "emergency_en"):
            if getattr(self, key):
                try:
                    _check_emergency(key, getattr(self, key))
                except ValueError as exc:
                    raise ValueError(f"office {self.id!r}: {exc}") from None
        if self.hours:
            try:
                OpeningHoursSettings(weekly=self.hours)
            except ValueError as exc:
                # Checked as [opening_hours] would be; the key to fix is this office's hours.
                where = str(exc).replace("opening_hours.weekly", "hours", 1)
                raise ValueError(f"office {self.id!r}: {where}") from None
        _check_place(f"office {self.id!r}", self.address, self.phone)
        try:
            self.office()
        except OfficeError as exc:
            raise ValueError(str(exc)) from None

    def office(self) -> Office:
        from counsel_bot.core.offices import office_from

        return office_from(self.id, self.name, self.topics, self.postcodes, self.languages)


@dataclass(frozen=True)
class Settings:
    homeserver: HomeserverSettings = field(default_factory=HomeserverSettings)
    bot: BotSettings = field(default_factory=BotSettings)
    vault: VaultSettings = field(default_factory=VaultSettings)
    store: StoreSettings = field(default_factory=StoreSettings)
    staff: StaffSettings = field(default_factory=StaffSettings)
    opening_hours: OpeningHoursSettings = field(default_factory=OpeningHoursSettings)
    routing: RoutingSettings = field(default_factory=RoutingSettings)
    crisis: CrisisSettings = field(default_factory=CrisisSettings)
    timers: TimersSettings = field(default_factory=TimersSettings)
    snippets: tuple[SnippetSettings, ...] = ()
    appointments: AppointmentSettings = field(default_factory=AppointmentSettings)
    entry_page: EntryPageConfig = field(default_factory=EntryPageConfig)
    web: WebConfig = field(default_factory=WebConfig)
    mail: MailSettings = field(default_factory=MailSettings)
    mail_deadline: MailDeadlineSettings = field(default_factory=MailDeadlineSettings)
    video: VideoSettings = field(default_factory=VideoSettings)
    retention: RetentionSettings = field(default_factory=RetentionSettings)
    logging: LoggingSettings = field(default_factory=LoggingSettings)
    backup: BackupSettings = field(default_factory=BackupSettings)
    demo: DemoSettings = field(default_factory=DemoSettings)
    groups: GroupSettings = field(default_factory=GroupSettings)
    # [[forum]] id = "schule", name = "Schule und Prüfungen": one encrypted room per topic.
    forum: tuple[ForumTopic, ...] = ()
    # Several counselling offices on one installation; none = one office (the [staff] above).
    offices: tuple[OfficeSettings, ...] = ()

    def staff_lists(self) -> list[tuple[str, tuple[str, ...]]]:
        """Every list of staff ids, with where it stands ("staff.counsellors", "office
        'familie': team_leads"), for an error to name."""
        lists = [(f"staff.{key}", getattr(self.staff, key))
                 for key in ("counsellors", "team_leads")]
        return lists + [(f"office {o.id!r}: {key}", getattr(o, key)) for o in self.offices
                        for key in ("counsellors", "team_leads")]

    def __post_init__(self) -> None:
        # The bot knows a topic by its id in any case (youths type "forum Schule" too).
        topic_ids: set[str] = set()
        for topic in self.forum:
            if topic.id.casefold() in topic_ids:
                raise ValueError(f"forum: the id {topic.id!r} is used twice (case does not "
                                 "count); give each topic its own id")
            topic_ids.add(topic.id.casefold())
        names = [s.name.casefold() for s in self.snippets]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"snippets: the snippet {twice[0]!r} is defined twice; give each "
                             "snippet its own name")
        # Mail deadlines count working days of these hours: with none, none could be counted.
        if self.mail.enabled and not any(self.opening_hours.weekly.values()):
            raise ValueError("opening_hours.weekly: no day has opening hours, but [mail] is "
                             "enabled, and a mail's first reply is due within [mail_deadline] "
                             "first_reply_working_days working days of these hours; give at "
                             "least one day its hours")
        # The bot as a lead was paged for the crises nobody took, and rang no person's phone.
        bot = f"@{self.bot.localpart}:{self.homeserver.server_name}"
        for where, users in self.staff_lists():
            if bot in users:
                raise ValueError(f"{where}: {bot} is the bot's own account ([bot] localpart), "
                                 "which counsels nobody and whom a page about a crisis "
                                 "reaches instead of a person; name people's accounts there")
        if not self.offices:
            if self.routing.fallback_office or self.routing.on_call_office:
                raise ValueError("routing.fallback_office and routing.on_call_office need "
                                 "[[offices]]; remove them or add the offices")
            return
        ids = [o.id for o in self.offices]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise ValueError(f"offices: the id {twice[0]!r} is used twice; give each office "
                             "its own id")
        former: dict[str, str] = {}
        for office in self.offices:
            for old in office.former_ids:
                if old in ids:
                    raise ValueError(f"office {office.id!r}: former_ids: {old!r} is an "
                                     "office's id now; name only ids no office has any more")
                if old in former:
                    raise ValueError(f"offices: former_ids: {old!r} is given to "
                                     f"{former[old]!r} and {office.id!r}; what was that "
                                     "office's can be only one office's now")
                former[old] = office.id
        # One room or address for two offices would show each office's conversations and
        # crisis alerts to the other's staff (and route all of it as the first office's).
        for key in ("staff_room", "mail_address"):
            owner: dict[str, str] = {}
            for office in self.offices:
                value = getattr(office, key)
                seen = value.strip().lower() if key == "mail_address" else value
                if seen and seen in owner:
                    raise ValueError(f"offices: the {key} {value!r} is given to "
                                     f"{owner[seen]!r} and {office.id!r}; give each office "
                                     f"its own {key}")
                owner.setdefault(seen, office.id)
        # The main address routes by what a mail says; an office owning it would take all.
        main = self.mail.office_address.strip().lower()
        for office in self.offices:
            if office.mail_address.strip().lower() == main:
                raise ValueError(f"office {office.id!r}: mail_address {office.mail_address!r} "
                                 "is the [mail] office_address, whose mails go to the office "
                                 "they name; give the office an address of its own, or leave "
                                 "it empty (its replies then come from the main address)")
        in_offices = {u for o in self.offices for u in (*o.counsellors, *o.team_leads)}
        for user in (*self.staff.counsellors, *self.staff.team_leads):
            if user not in in_offices:
                raise ValueError(f"staff: {user} is in no office, so with [[offices]] they "
                                 "would see no conversation; add them to an office's "
                                 "counsellors or team_leads")
        for office in self.offices:
            try:
                office.timers.over(self.timers)
            except ValueError as exc:
                t, d = office.timers, self.timers
                given = ", ".join(
                    f"{name} {getattr(t, name) or getattr(d, name):g}"
                    + ("" if getattr(t, name) else " (from [timers])")
                    for name in ("first_response_minutes", "next_response_minutes",
                                 "requeue_after_minutes"))
                raise ValueError(f"office {office.id!r}: timers: {exc} (here: {given})"
                                 ) from None
        for key in ("fallback_office", "on_call_office"):
            named = getattr(self.routing, key)
            if named and named not in ids:
                raise ValueError(f"routing.{key}: {named!r} is not an office id; the ids are "
                                 + ", ".join(ids))
        # The on-call office's staff room hears of every crisis whose own office has nobody
        # on duty, and only the fallback office's staff see what no office serves: without
        # staff (while other offices have theirs) nobody would read either.
        on_call_why = ("routing.on_call_office" if self.routing.on_call_office
                       else "routing.fallback_office (on call too)"
                       if self.routing.fallback_office
                       else "the first office (the fallback, and on call)")
        fallback_why = ("routing.fallback_office" if self.routing.fallback_office
                        else "the first office (the fallback)")
        for named, why, what in (
                (self.on_call_office, on_call_why, "a crisis whose own office has nobody on "
                 "duty would reach nobody; give it staff or set routing.on_call_office"),
                (self.fallback_office, fallback_why, "what no office serves would never be "
                 "answered; give it staff or set routing.fallback_office")):
            office = next(o for o in self.offices if o.id == named)
            if in_offices and not office.counsellors and not office.team_leads:
                raise ValueError(f"{why}: the office {named!r} has no counsellors or "
                                 f"team_leads, so {what} to an office that has some")

    @property
    def fallback_office(self) -> str:
        """The office taking what no office serves; "" with a single office."""
        if not self.offices:
            return ""
        return self.routing.fallback_office or self.offices[0].id

    def office_timers(self, office_id: str) -> TimerSettings:
        """An office's response targets: its own, the [timers] values for what it leaves out."""
        for office in self.offices:
            if office.id == office_id:
                return office.timers.over(self.timers).timer_settings()
        return self.timers.timer_settings()

    @property
    def on_call_office(self) -> str:
        return self.routing.on_call_office or self.fallback_office


def load_settings(path: Path) -> Settings:
    """Read and validate ``path``; raise ConfigError naming the file and the key."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the configuration file ({exc.strerror})") from None
    try:
        # utf-8-sig: a byte order mark (Windows editors write one) is no TOML statement.
        data = tomllib.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    try:
        return settings_from_mapping(data, beside=path.resolve().parent)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def _beside(settings: Settings, directory: Path) -> Settings:
    """Relative paths start beside the configuration file, as vault.passphrase_file and
    store.password_file do: not in whatever directory counsel was started from."""
    def anchored(value: str) -> str:
        return str(directory / value) if value and not Path(value).is_absolute() else value

    web, mail, video, crisis = settings.web, settings.mail, settings.video, settings.crisis
    return dataclasses.replace(
        settings,
        web=dataclasses.replace(web, metrics_token_file=anchored(web.metrics_token_file)),
        mail=dataclasses.replace(mail, smtp_password_file=anchored(mail.smtp_password_file)),
        video=dataclasses.replace(
            video, jitsi_app_secret_file=anchored(video.jitsi_app_secret_file)),
        crisis=dataclasses.replace(crisis, lexicon_dir=anchored(crisis.lexicon_dir),
                                   model_file=anchored(crisis.model_file)))


def settings_from_mapping(
    data: typing.Mapping[str, Any], *, beside: Path | None = None
) -> Settings:
    """Settings from a parsed file; relative paths in it start at ``beside`` if given."""
    settings = build(Settings, data)
    return settings if beside is None else _beside(settings, beside)
