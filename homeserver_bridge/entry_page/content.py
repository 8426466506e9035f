"""What the entry page shows and how it is served: frozen, validated on construction.

The page knows nothing of the bot's config: whoever starts it renders opening hours into
lines and passes plain values, so the bridge stays below the bot.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal
from urllib.parse import quote, urlsplit

Lang = Literal["de", "en"]
LANGUAGES: tuple[Lang, ...] = ("de", "en")
Registration = Literal["closed", "token", "open"]

_USER_ID = re.compile(r"@[a-z0-9._=/+-]+:[A-Za-z0-9.:\[\]-]+")
_DIALLABLE = re.compile(r"[0-9 ]{3,20}")


def _freeze(instance: object, name: str, value: Mapping[str, object]) -> None:
    # Frozen dataclasses still hold whatever mapping they were given; keep a read-only copy.
    object.__setattr__(instance, name, MappingProxyType(dict(value)))


@dataclass(frozen=True)
class EmergencyNumber:
    """A helpline: its name and note per language ("de" required), one or more numbers."""

    name: Mapping[str, str]
    numbers: tuple[str, ...]
    note: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        if not self.name.get("de"):
            raise ValueError("an emergency number needs a German name (name['de'])")
        if not self.numbers:
            raise ValueError(f"emergency number {self.name['de']!r} has no number to call")
        for number in self.numbers:
            if not _DIALLABLE.fullmatch(number):
                raise ValueError(
                    f"emergency number {number!r} should be digits and spaces, e.g. '116 111'"
                )
        _freeze(self, "name", self.name)
        _freeze(self, "note", self.note)

    def name_in(self, lang: Lang) -> tuple[Lang, str]:
        """The name for a page in ``lang``, and the language it is really in (German fallback),
        so screen readers pronounce a German name as German on the English page."""
        return (lang, self.name[lang]) if self.name.get(lang) else ("de", self.name["de"])

    def note_in(self, lang: Lang) -> tuple[Lang, str]:
        return (lang, self.note[lang]) if self.note.get(lang) else ("de", self.note.get("de", ""))


DEFAULT_EMERGENCY_NUMBERS: tuple[EmergencyNumber, ...] = (
    EmergencyNumber(
        name={"de": "Nummer gegen Kummer"},
        numbers=("116 111",),
        note={
            "de": "Das Kinder- und Jugendtelefon. Kostenlos und anonym.",
            "en": "The helpline for children and young people. Free and anonymous.",
        },
    ),
    EmergencyNumber(
        name={"de": "TelefonSeelsorge"},
        numbers=("0800 111 0 111", "0800 111 0 222"),
        note={
            "de": "Tag und Nacht erreichbar. Kostenlos und anonym.",
            "en": "Open day and night. Free and anonymous.",
        },
    ),
    EmergencyNumber(
        name={"de": "Notruf", "en": "Emergency"},
        numbers=("112",),
        note={
            "de": "Wenn jemand in Lebensgefahr ist.",
            "en": "If someone's life is in danger.",
        },
    ),
)


_OFFICE_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")


@dataclass(frozen=True)
class OfficeListing:
    """One counselling office on the page: what it is about, when it is there, and the start
    text that takes a youth straight to it (the bot reads "stelle:<id>" as a first message)."""

    id: str
    name: str
    # Per language: its topics as one line, and its opening hours as rendered lines.
    topics: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    hours: Mapping[str, Sequence[str]] = field(default_factory=lambda: MappingProxyType({}))
    # Per language: the office's own crisis lines (another region's), as its youths get them
    # in the chat; none = the page's numbers are its too.
    emergency: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        if not _OFFICE_ID.fullmatch(self.id):
            raise ValueError(f"office id {self.id!r}: lower-case letters, digits, - and _")
        if not self.name.strip():
            raise ValueError(f"office {self.id!r} needs a name to show")
        _freeze(self, "topics", self.topics)
        _freeze(self, "emergency", self.emergency)
        _freeze(self, "hours", {lang: tuple(lines) for lang, lines in self.hours.items()})

    @property
    def start_text(self) -> str:
        return f"stelle:{self.id}"


@dataclass(frozen=True)
class EntryPageContent:
    homeserver_url: str
    server_name: str
    bot_user_id: str
    registration: Registration = "token"
    # Already rendered lines per language, e.g. {"de": ["Mo–Fr 14:00–20:00"]}.
    opening_hours: Mapping[str, Sequence[str]] = field(
        default_factory=lambda: MappingProxyType({})
    )
    emergency_numbers: tuple[EmergencyNumber, ...] = DEFAULT_EMERGENCY_NUMBERS
    office_name: str = "counsel"
    # Several offices share the bot: each listed with its own start text (none = one office).
    offices: tuple[OfficeListing, ...] = ()

    def __post_init__(self) -> None:
        url = urlsplit(self.homeserver_url)
        if url.scheme not in ("http", "https") or not url.netloc:
            raise ValueError(
                f"homeserver_url {self.homeserver_url!r} must be an http(s) address, "
                "e.g. https://matrix.example.org"
            )
        if not self.server_name:
            raise ValueError("server_name must not be empty")
        if not _USER_ID.fullmatch(self.bot_user_id):
            raise ValueError(
                f"bot_user_id {self.bot_user_id!r} is not a Matrix user id "
                "such as @beratung:example.org"
            )
        if self.registration not in ("closed", "token", "open"):
            raise ValueError(
                f"registration {self.registration!r} must be one of closed, token, open"
            )
        unknown = sorted(set(self.opening_hours) - set(LANGUAGES))
        if unknown:
            raise ValueError(f"opening_hours has languages {unknown}; only de and en are shown")
        if not self.office_name.strip():
            raise ValueError("office_name must not be empty")
        hours = {lang: tuple(lines) for lang, lines in self.opening_hours.items()}
        _freeze(self, "opening_hours", hours)
        object.__setattr__(self, "emergency_numbers", tuple(self.emergency_numbers))

    @property
    def chat_link(self) -> str:
        """A matrix.to link that opens a direct chat with the bot in whatever app is installed."""
        return "https://matrix.to/#/" + quote(self.bot_user_id, safe="@:")

    def hours_in(self, lang: Lang) -> tuple[Lang, tuple[str, ...]]:
        """The lines for a page in ``lang`` and the language they are in (German fallback)."""
        own = self.opening_hours.get(lang)
        if own:
            return lang, tuple(own)
        return "de", tuple(self.opening_hours.get("de", ()))


@dataclass(frozen=True)
class EntryPageSettings:
    bind_address: str = "127.0.0.1"
    port: int = 8090
    token_limit_per_address_per_hour: int = 3
    token_limit_global_per_hour: int = 60
    token_ttl_hours: int = 24
    # Reverse proxies whose X-Forwarded-For is believed (addresses or networks); empty means
    # the peer address is the client, whatever headers say.
    trusted_proxies: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        try:
            ipaddress.ip_address(self.bind_address)
        except ValueError:
            raise ValueError(
                f"bind_address {self.bind_address!r} is not an IP address such as 127.0.0.1"
            ) from None
        if not 1 <= self.port <= 65535:
            raise ValueError(f"port {self.port} is outside 1..65535")
        if self.token_limit_per_address_per_hour < 1:
            raise ValueError("token_limit_per_address_per_hour must be at least 1")
        if self.token_limit_global_per_hour < self.token_limit_per_address_per_hour:
            raise ValueError(
                "token_limit_global_per_hour must be at least token_limit_per_address_per_hour"
            )
        if not 1 <= self.token_ttl_hours <= 24 * 30:
            raise ValueError("token_ttl_hours must be between 1 and 720 (30 days)")
        for proxy in self.trusted_proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise ValueError(
                    f"trusted_proxies entry {proxy!r} is not an address or network "
                    "such as 127.0.0.1 or 10.0.0.0/8"
                ) from None
        object.__setattr__(self, "trusted_proxies", tuple(self.trusted_proxies))

    @property
    def url(self) -> str:
        """Where the page listens, for `counsel up` to print."""
        host = f"[{self.bind_address}]" if ":" in self.bind_address else self.bind_address
        return f"http://{host}:{self.port}/"
