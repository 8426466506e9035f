"""HTML for the login form and the dashboard, from the templates shipped in this package.

The dashboard renders from the same JSON its script polls (`snapshot_to_json`), so the first
paint and every refresh show the same thing. Every value is escaped before it is placed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape
from importlib.resources import files
from string import Template
from typing import Any

_PACKAGE = "counsel_bot.web"
_CATEGORY_NAMES = {
    "suicide": "suicide", "self_harm": "self-harm", "abuse": "abuse",
    "sexual_abuse": "sexual abuse", "violence_to_others": "violence to others",
    "child_danger": "child in danger",
}
# Shape plus word, so severity never depends on telling colours apart.
_SEVERITY_MARK = {"high": "▲▲▲", "medium": "▲▲", "low": "▲"}


def _resource(*parts: str) -> bytes:
    return files(_PACKAGE).joinpath(*parts).read_bytes()


@dataclass(frozen=True)
class Assets:
    login: Template
    dashboard: Template
    totp: Template
    css: bytes
    js: bytes
    icon: bytes


def load_assets() -> Assets:
    return Assets(
        login=Template(_resource("templates", "login.html").decode("utf-8")),
        dashboard=Template(_resource("templates", "dashboard.html").decode("utf-8")),
        totp=Template(_resource("templates", "totp.html").decode("utf-8")),
        css=_resource("static", "dashboard.css"),
        js=_resource("static", "dashboard.js"),
        icon=_resource("static", "favicon.svg"),
    )


def duration(seconds: int | float | None) -> str:
    """Short human form: "45 s", "12 min", "2 h 05 min"; "none" for no value."""
    if seconds is None:
        return "none"
    total = max(int(seconds), 0)
    if total < 60:
        return f"{total} s"
    minutes = total // 60
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"


# Today's median wait before anyone was assigned: not a duration ("0 s" is youths taken at
# once). The dashboard's script and `counsel stats` say the same (dashboard.js medianWait).
NO_SAMPLE_YET = "none yet"


# "Today" for a lead of some offices: the day's tally covers every office (router_source).
# The dashboard's script says the same (dashboard.js TODAY_NOT_SHOWN).
NOT_SHOWN = "–"
TODAY_NOT_SHOWN = ("Today's figures are counted for all offices together, so they are not "
                   "shown to the team lead of some offices.")


def _figure(value: object) -> str:
    return NOT_SHOWN if value is None else str(value)


def median_wait(seconds: float | None) -> str:
    """Today's median wait: a duration, or "none yet" while nobody was assigned today."""
    return NO_SAMPLE_YET if seconds is None else duration(seconds)


def render_login(assets: Assets, *, message: str = "", user_id: str = "",
                 alert: bool = True) -> str:
    note = ""
    if message:
        role = "alert" if alert else "status"
        note = f'<p class="message" role="{role}">{escape(message)}</p>'
    return assets.login.substitute(message=note, user_id=escape(user_id))


def _note(message: str, alert: bool) -> str:
    if not message:
        return ""
    return f'<p class="message" role="{"alert" if alert else "status"}">{escape(message)}</p>'


def render_totp_enrol(assets: Assets, *, user: str, qr_svg: str, secret: str,
                      message: str = "", required: bool = False, replacing: bool = False) -> str:
    """The enrolment page: QR code (inline SVG from segno), the secret to type, the form.
    `replacing`: a second factor is set up already, and replacing it needs one of its codes."""
    why = ("Two-factor sign-in is required for this dashboard. " if required else "")
    current = (
        '<label for="current">Code from your current authenticator app, or a recovery '
        'code</label>'
        '<input id="current" name="current" type="text" autocomplete="off" required>'
        if replacing else "")
    body = (
        f'<p>{why}Scan this code with an authenticator app (for example FreeOTP, Aegis or '
        'your password manager), then enter the six-digit code it shows.</p>'
        f'<figure class="qr" aria-label="QR code for your authenticator app">{qr_svg}'
        '<figcaption>Cannot scan? Enter this key by hand: '
        f'<code id="totp-secret">{escape(secret)}</code></figcaption></figure>'
        '<form method="post" action="/totp" class="login">'
        '<label for="code">Six-digit code</label>'
        '<input id="code" name="code" type="text" inputmode="numeric" '
        'autocomplete="one-time-code" required pattern="[0-9 ]{6,7}">'
        f'{current}'
        f'<button type="submit">{"Replace" if replacing else "Turn on"} two-factor sign-in'
        '</button></form>'
    )
    heading = "Replace two-factor sign-in" if replacing else "Set up two-factor sign-in"
    return assets.totp.substitute(user=escape(user), heading=heading,
                                  message=_note(message, True), body=body)


def render_recovery_codes(assets: Assets, *, user: str, codes: Sequence[str]) -> str:
    items = "".join(f"<li><code>{escape(c)}</code></li>" for c in codes)
    body = (
        "<p>Two-factor sign-in is on. Keep these recovery codes somewhere safe (printed, or in "
        "your password manager): each signs you in once if your phone is lost. They are shown "
        "only now; we keep only their hashes.</p>"
        f'<ol id="recovery-codes" class="codes">{items}</ol>'
        '<p><a href="/dashboard">Continue to the dashboard</a></p>'
    )
    return assets.totp.substitute(user=escape(user), heading="Recovery codes",
                                  message=_note("Two-factor sign-in is now on.", False),
                                  body=body)


def _cells(values: Sequence[str]) -> str:
    return "".join(f"<td>{v}</td>" for v in values)


def _empty(text: str, columns: int) -> str:
    return f'<tr><td colspan="{columns}" class="empty">{escape(text)}</td></tr>'


def _badge(kind: str, value: str, text: str) -> str:
    return f'<span class="badge {kind}-{escape(value)}">{text}</span>'


def severity_badge(severity: str) -> str:
    mark = _SEVERITY_MARK.get(severity, "")
    return _badge("sev", severity, f'<span aria-hidden="true">{mark}</span> {escape(severity)}')


# Explains the order: a youth a counsellor gave back keeps their place from the first
# arrival, while the wait shown counts from the hand-back.
_HANDED_BACK = '<span class="hint">(handed back)</span>'


def _queue_rows(queue: Sequence[Mapping[str, Any]]) -> str:
    if not queue:
        return _empty("Nobody is waiting.", 5)
    rows = []
    for q in queue:
        priority = str(q["priority"])
        shown = _badge("prio", priority, escape(priority)) if priority == "crisis" else "normal"
        waited = (f'<time datetime="{escape(str(q["waiting_since"]))}">'
                  f'{duration(q["waited_seconds"])}</time>')
        if q.get("handed_back"):
            waited += f" {_HANDED_BACK}"
        rows.append("<tr>" + _cells([
            f"<code>{escape(str(q['conversation']))}</code>", shown,
            escape(str(q["channel"])), escape(str(q["language"])), waited,
        ]) + "</tr>")
    return "".join(rows)


def _staff_rows(staff: Sequence[Mapping[str, Any]]) -> str:
    if not staff:
        return _empty("Nobody is on duty.", 3)
    return "".join(
        '<tr><th scope="row">' + escape(str(s["nickname"])) + "</th>"
        + _cells([str(int(s["load"])), str(int(s["capacity"]))]) + "</tr>"
        for s in staff
    )


def _crisis_rows(crisis: Sequence[Mapping[str, Any]]) -> str:
    if not crisis:
        return _empty("No open crisis flags.", 5)
    rows = []
    for c in crisis:
        conversation = escape(str(c["conversation"]))
        category = c["category"]
        link = c["room_link"]
        room = (f'<a href="{escape(str(link))}" rel="noopener noreferrer">'
                f'Open room of {conversation}</a>' if link else "no link")
        rows.append("<tr>" + _cells([
            severity_badge(str(c["severity"])),
            escape(_CATEGORY_NAMES.get(str(category), "not recorded")),
            f"<code>{conversation}</code>", duration(c["open_seconds"]), room,
        ]) + "</tr>")
    return "".join(rows)


def render_dashboard(assets: Assets, data: Mapping[str, Any], *, user: str,
                     refresh_seconds: int, updated: str) -> str:
    today = data["today"] or {}
    return assets.dashboard.substitute(
        refresh=str(refresh_seconds),
        user=escape(user),
        updated=escape(updated),
        queue_length=str(data["queue_length"]),
        crisis_waiting=str(data["crisis_waiting"]),
        longest_wait=duration(data["longest_wait_seconds"] if data["queue"] else None),
        on_duty=str(len(data["staff"])),
        unverified=str(data["unverified_on_duty"]),
        overdue=str(data.get("overdue_replies", 0)),
        open_flags=str(len(data["crisis"])),
        crisis_rows=_crisis_rows(data["crisis"]),
        queue_rows=_queue_rows(data["queue"]),
        staff_rows=_staff_rows(data["staff"]),
        today_note=TODAY_NOT_SHOWN if data["today"] is None else "",
        today_opened=_figure(today.get("opened")),
        today_closed=_figure(today.get("closed")),
        today_crisis=_figure(today.get("crisis_flags")),
        today_median=(median_wait(today["median_wait_seconds"]) if today
                      else NOT_SHOWN),
        today_breaches=_figure(today.get("deadline_breaches")),
    )
