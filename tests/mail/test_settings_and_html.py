"""Mail settings validation and the HTML reducer on its own."""

from __future__ import annotations

import time  # budgets in process CPU time: a loaded CI machine's other work does not count

import pytest

from homeserver_bridge.mail import MailLimits, MailSettings
from homeserver_bridge.mail.html_text import html_to_text


def test_defaults_are_valid_and_off() -> None:
    settings = MailSettings()
    assert not settings.enabled
    assert settings.listen_address == "127.0.0.1"
    assert settings.smtp_starttls
    assert settings.limits == MailLimits(max_bytes=1024 * 1024, max_attachments=10)
    assert settings.office_domain == "counsel.localhost"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"listen_address": "localhost"}, "listen_address"),
        ({"listen_port": 70000}, "listen_port"),
        ({"office_address": "beratung"}, "office_address"),
        ({"office_address": "a@b"}, "office_address"),
        ({"max_bytes": 10}, "max_bytes"),
        ({"max_attachments": -1}, "max_attachments"),
        ({"smtp_port": 0}, "smtp_port"),
        ({"enabled": True}, "smtp_host"),
        ({"smtp_username": "u"}, "smtp_username"),
        (
            {"smtp_host": "mail.example.org", "smtp_username": "u",
             "smtp_password_file": "/pw", "smtp_starttls": False},
            "smtp_starttls",
        ),
        ({"smtp_timeout_seconds": 0}, "smtp_timeout_seconds"),
    ],
)  # fmt: skip
def test_settings_are_validated_naming_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        MailSettings(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>a</p><p>b</p>", "a\nb"),
        ("a<br>b<br/>c", "a\nb\nc"),
        ("<ul><li>eins</li><li>zwei</li></ul>", "- eins\n- zwei"),
        ("<pre>  x\n  y</pre>", "x\n  y"),
        ("<a href='https://x.example/a'>https://x.example/a</a>", "https://x.example/a"),
        ("<a href='mailto:kim@y.example'>kim@y.example</a>", "kim@y.example"),
        ("<a href='data:text/html,evil'>link</a>", "link"),
        ("<img src='https://t.example/p.gif'>", ""),
        ("x<img alt='Herz'>", "x [Herz]"),
        ("<title>t</title><template>tp</template><textarea>ta</textarea>", "ta"),
        ("&lt;script&gt;alert(1)&lt;/script&gt;", "<script>alert(1)</script>"),
        ("<script>never closed", ""),
        ("a\u202eb\u2066c\x07d", "abcd"),
        ("😊 Grüße\u200d", "😊 Grüße\u200d"),
        # A blockquote is the mail answered, quoted as a plain-text mail quotes it.
        ("ok<blockquote>a<br>b<blockquote>c</blockquote></blockquote>d",
         "ok\n> a\n> b\n> > c\nd"),
        ("<blockquote><ul><li>x</li></ul><pre>p\nq</pre></blockquote>", "> - x\n> p\n> q"),
        ("<blockquote> </blockquote>x", "x"),
    ],
)
def test_html_to_text(html: str, text: str) -> None:
    assert html_to_text(html) == text


def test_deep_nesting_is_linear_and_safe() -> None:
    html = "<div>" * 100_000 + "<script>x</script>tief" + "</div>" * 100_000
    assert html_to_text(html) == "tief"


@pytest.mark.parametrize("html", [
    "<html><head><meta charset='utf-8'><body><p>Ich will mich umbringen.</p></body></html>",
    "<head><title>Mail</title><style>p {}</style><body>Ich will mich umbringen.",
    "<html><head><meta charset='utf-8'><p>Ich will mich umbringen.</p></html>",
    "<head><meta charset='utf-8'>Ich will mich umbringen.",
])
def test_a_head_left_open_does_not_swallow_the_body(html: str) -> None:
    """HTML may leave out </head> (and <body>): the first thing that belongs to the body
    ends the head, and the youth's own mail program shows the words. Before, the reducer
    waited for a </head> that never came and dropped every word as head content: the
    counsellor read an empty mail, and no crisis word in it was judged."""
    assert html_to_text(html) == "Ich will mich umbringen."


def test_stray_end_tags_after_deep_skipped_content_are_linear() -> None:
    """Content to skip is tracked at any depth, so the open tags can be many; each stray end
    tag searched all of them. 20 000 "<svg>" and as many "</p>" took some 6 s on a test
    machine, a mail's megabyte minutes, on the bot's event loop."""
    html = "<svg>" * 20_000 + "</p>" * 20_000 + "</svg>" * 20_000 + "Hilfe"
    started = time.process_time()
    assert html_to_text(html) == "Hilfe"
    assert time.process_time() - started < 1.0
