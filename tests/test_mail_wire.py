"""What webapp.mail puts on the wire, read back by a real SMTP server (aiosmtpd) with the modern email API."""
from __future__ import annotations

from webapp.mail import OutgoingEmail, SmtpSession, send_now


def test_an_arabic_email_with_its_html_part_and_headers_reads_back_as_written(app, smtp_server, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_DEFAULT_SENDER", "Harambée <no-reply@harambee.test>")
    send_now(OutgoingEmail(
        to="salma@example.org", subject="نداء تضامن: فيضانات في صفاقس — الرجاء المساعدة في الإيواء والطعام",
        text="مرحبا سلمى،\n\nhttps://harambee.test/aid/calls/7?t=abc", html="<p dir=\"rtl\">مرحبا سلمى</p>",
        headers=(("Content-Language", "ar"), ("List-Unsubscribe", "<https://harambee.test/aid/unsubscribe/"
                                                                  + "x" * 120 + ">"))))
    [message] = smtp_server.messages
    assert message["Subject"] == "نداء تضامن: فيضانات في صفاقس — الرجاء المساعدة في الإيواء والطعام"
    assert message["From"].addresses[0].display_name == "Harambée"
    assert message["From"].addresses[0].addr_spec == "no-reply@harambee.test"
    assert message["List-Unsubscribe"] == "<https://harambee.test/aid/unsubscribe/" + "x" * 120 + ">"
    assert message["Content-Language"] == "ar" and message["Message-ID"]
    assert message.get_content_type() == "multipart/alternative"
    assert message.get_body(("plain",)).get_content().replace("\r\n", "\n") == \
        "مرحبا سلمى،\n\nhttps://harambee.test/aid/calls/7?t=abc"
    assert "مرحبا سلمى" in message.get_body(("html",)).get_content()
    assert smtp_server.envelopes == [("no-reply@harambee.test", ["salma@example.org"])]


def test_encoded_lines_stay_within_78_characters(app):
    from webapp.mail import _mime_bytes

    data = _mime_bytes(OutgoingEmail(to="salma@example.org", subject="فيضانات " * 20, text="مرحبا " * 200),
                       "Harambee <no-reply@harambee.test>")
    assert data.isascii() and b"\r\n\r\n" in data
    assert max(len(line) for line in data.split(b"\r\n")) <= 78


def test_an_address_in_unicode_goes_out_with_smtputf8(app, smtp_server):
    """The fast path is for ASCII addresses; an internationalized one goes through the modern API (RFC 6531)."""
    with SmtpSession() as session:
        session.send(OutgoingEmail(to="awa@example.org", subject="Plain", text="One"))
        session.send(OutgoingEmail(to="josé@exemple.fr", subject="Accents", text="Deux"))
    assert [m["To"] for m in smtp_server.messages] == ["awa@example.org", "josé@exemple.fr"]
    assert [rcpt for _sender, rcpt in smtp_server.envelopes] == [["awa@example.org"], ["josé@exemple.fr"]]
