"""Outgoing email: rendered in the recipient's language and sent only once the transaction commits."""
from __future__ import annotations

import logging
import re
import smtplib
from dataclasses import dataclass
from email import policy as email_policy
from email.charset import QP, Charset
from email.header import Header
from email.message import EmailMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr, make_msgid, parseaddr

from flask import Flask, current_app, render_template
from flask_babel import force_locale
from markupsafe import Markup, escape
from sqlalchemy import event
from sqlalchemy.orm import Session

from webapp.extensions import db
from webapp.i18n import text_direction

log = logging.getLogger("webapp.mail")

_OUTBOX = "harambee_outbox"


@dataclass(frozen=True)
class OutgoingEmail:
    to: str
    subject: str
    text: str
    html: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    #: the body holds a secret (a ballot's receipt code): the log backend does not print it
    secret: bool = False


def render_email(template: str, to: str, locale: str | None, **context) -> OutgoingEmail:
    """Render templates/email/<template>.txt (and .html when present) in the recipient's locale."""
    lang = locale if locale in current_app.config["LANGUAGES"] else current_app.config["BABEL_DEFAULT_LOCALE"]
    with force_locale(lang):
        text = render_template(f"email/{template}.txt", **context)
        subject, _, body = text.partition("\n")
        try:
            html = render_template(f"email/{template}.html", **context)
        except Exception:  # a plain-text email is complete on its own
            html = None
        body = body.lstrip("\n")
        if html is None and text_direction(lang) == "rtl":
            # A plain-text part has no direction of its own: mail clients show Arabic flush left, punctuation
            # at the wrong end. An HTML alternative carries lang and dir="rtl".
            html = text_as_html(body, lang)
    headers = (("Content-Language", lang), *context.get("headers", {}).items())
    return OutgoingEmail(to=to, subject=subject.removeprefix("Subject:").strip(), text=body, html=html, headers=headers,
                         secret=bool(context.get("secret")))


_URL = re.compile(r"https?://[^\s<>\u2066-\u2069]+")


def text_as_html(text: str, lang: str) -> str:
    """The plain-text email as an HTML alternative in the language's direction: its paragraphs, its links
    clickable and left to right (a web address never reads backwards)."""
    def paragraph(block: str) -> str:
        parts, last = [], 0
        for m in _URL.finditer(block):
            parts.append(escape(block[last:m.start()]))
            parts.append(Markup('<a href="{0}" dir="ltr">{0}</a>').format(m.group()))
            last = m.end()
        parts.append(escape(block[last:]))
        # Markup on both sides: "<p>" + Markup(...) would call Markup.__radd__, which escapes the "<p>"
        return Markup("<p>") + Markup("").join(parts).replace("\n", Markup("<br>\n")) + Markup("</p>")

    paragraphs = "\n".join(paragraph(block.strip("\n")) for block in re.split(r"\n\s*\n", text) if block.strip())
    direction = text_direction(lang)
    return (f'<!doctype html>\n<html lang="{escape(lang)}" dir="{direction}">\n<head><meta charset="utf-8"></head>\n'
            f'<body dir="{direction}">\n{paragraphs}\n</body>\n</html>\n')


def is_undeliverable(to: str) -> bool:
    """RFC 2606 reserves the .invalid top-level domain: erased accounts' placeholder addresses use it."""
    return (to or "").strip().lower().rstrip(">").endswith(".invalid")


def queue_email(template: str, to: str, locale: str | None = None, **context) -> OutgoingEmail:
    """Render now, send after the current transaction commits; dropped if it rolls back.

    Nothing is queued for an undeliverable address (a deleted member's placeholder)."""
    message = render_email(template, to, locale, **context)
    if is_undeliverable(to):
        log.info("not sending %r to the undeliverable address %s", message.subject, to)
        return message
    db.session.info.setdefault(_OUTBOX, []).append(message)
    return message


def discard_queued(to: str) -> int:
    """Drop the messages queued in this transaction for an address (an account being erased is told once)."""
    outbox = db.session.info.get(_OUTBOX, [])
    kept = [message for message in outbox if message.to != to]
    db.session.info[_OUTBOX] = kept
    return len(outbox) - len(kept)


def send_now(message: OutgoingEmail) -> None:
    with SmtpSession() as session:
        session.send(message)


class SmtpSession:
    """One SMTP connection for many messages (a batch of solidarity calls): opened on the first send,
    opened again once when the server dropped it (a send that still fails raises), closed at the end.
    With MAIL_BACKEND=log, messages go to the log."""

    def __init__(self):
        self.backend = current_app.config["MAIL_BACKEND"]
        if self.backend not in ("log", "smtp"):
            raise RuntimeError(f"Unknown MAIL_BACKEND {self.backend!r}")
        self.smtp: smtplib.SMTP | None = None

    def __enter__(self) -> "SmtpSession":
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    def _connect(self) -> smtplib.SMTP:
        cfg = current_app.config
        smtp = smtplib.SMTP(cfg["MAIL_SERVER"], cfg["MAIL_PORT"], timeout=30)
        try:
            if cfg["MAIL_USE_TLS"]:
                smtp.starttls()
            if cfg["MAIL_USERNAME"]:
                smtp.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"])
        except Exception:
            smtp.close()
            raise
        return smtp

    def close(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (OSError, smtplib.SMTPException):
                self.smtp.close()
            self.smtp = None

    def send(self, message: OutgoingEmail) -> None:
        if self.backend == "log":
            log.info("EMAIL to=%s subject=%r\n%s", message.to, message.subject,
                     "(the body is not logged: it holds a secret)" if message.secret else message.text)
            return
        sender = current_app.config["MAIL_DEFAULT_SENDER"]
        envelope = (parseaddr(sender)[1], parseaddr(message.to)[1])
        if all(address.isascii() for address in envelope):
            data = _mime_bytes(message, sender)

            def deliver():
                self.smtp.sendmail(envelope[0], [envelope[1]], data)
        else:  # an address in Unicode: the modern API asks for SMTPUTF8 (RFC 6531)
            msg = _mime(message)

            def deliver():
                self.smtp.send_message(msg)
        reused = self.smtp is not None
        if self.smtp is None:
            self.smtp = self._connect()
        try:
            deliver()
        except (smtplib.SMTPServerDisconnected, ConnectionError):
            self.close()
            if not reused:
                raise
            self.smtp = self._connect()  # the server dropped an idle or used-up connection: once more
            deliver()
        except smtplib.SMTPRecipientsRefused:
            self._reset()
            raise
        except smtplib.SMTPResponseException:
            self._reset()
            raise
        except (OSError, smtplib.SMTPException):
            self.close()  # a connection in an unknown state is not reused
            raise

    def _reset(self) -> None:
        """After a refused message the connection is still good; RSET clears the half-made transaction."""
        try:
            self.smtp.rset()
        except (OSError, smtplib.SMTPException):
            self.close()


#: UTF-8, quoted-printable in bodies and headers: text in French, Portuguese or Arabic stays readable in the source
_UTF8 = Charset("utf-8")
_UTF8.header_encoding = _UTF8.body_encoding = QP
#: headers as given (RFC 5322 allows 998 characters a line): a folded List-Unsubscribe would read " <https…"
_WIRE = email_policy.compat32.clone(linesep="\r\n", max_line_length=998)


def _header(name: str, value: str) -> str:
    """ASCII as it is; anything else as RFC 2047 encoded words, folded within 76 characters a line."""
    return value if value.isascii() else Header(value, _UTF8, maxlinelen=76, header_name=name).encode(linesep="\r\n")


def _mime_bytes(message: OutgoingEmail, sender: str) -> bytes:
    """The message as SMTP sends it, built with the email package's compat32 API: about three times cheaper
    than EmailMessage's (which parses every header it is given), which counts when a flood's calls go out to
    100,000 people. For ASCII addresses; `_mime` (the modern API) for the others."""
    if message.html:
        msg = MIMEMultipart("alternative")
        msg.attach(MIMEText(message.text, "plain", _UTF8))
        msg.attach(MIMEText(message.html, "html", _UTF8))
    else:
        msg = MIMEText(message.text, "plain", _UTF8)
    name, address = parseaddr(sender)
    msg["From"] = formataddr((name, address), charset="utf-8") if name else address
    msg["To"] = message.to
    msg["Subject"] = _header("Subject", message.subject)
    msg["Message-ID"] = make_msgid(domain="harambee")
    for name, value in message.headers:
        msg[name] = _header(name, value)
    return msg.as_bytes(policy=_WIRE)


def _mime(message: OutgoingEmail) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
    msg["To"] = message.to
    msg["Subject"] = message.subject
    msg["Message-ID"] = make_msgid(domain="harambee")
    for name, value in message.headers:
        msg[name] = value
    msg.set_content(message.text)
    if message.html:
        msg.add_alternative(message.html, subtype="html")
    return msg


def _flush_outbox(session: Session) -> None:
    messages = session.info.pop(_OUTBOX, [])
    for message in messages:
        try:
            send_now(message)
        except Exception:  # the data is saved; a lost email must not undo it
            log.exception("could not send email to %s (%s)", message.to, message.subject)


def _drop_outbox(session: Session) -> None:
    session.info.pop(_OUTBOX, None)


def init_mail(app: Flask) -> None:
    if getattr(init_mail, "_listening", False):
        return
    event.listen(Session, "after_commit", _flush_outbox)
    event.listen(Session, "after_soft_rollback", lambda s, t: _drop_outbox(s) if t.parent is None else None)
    init_mail._listening = True  # type: ignore[attr-defined]
