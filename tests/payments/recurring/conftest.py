"""The outbox of recurring support tests: the messages the local SMTP server received, newest last."""
from __future__ import annotations

from dataclasses import dataclass

import pytest


@dataclass
class Mail:
    to: str
    subject: str
    body: str


class Outbox:
    def __init__(self, messages):
        self.messages = messages

    def all(self, to: str | None = None) -> list[Mail]:
        out = []
        for message in self.messages:
            part = message.get_body(preferencelist=("plain",)) if message.is_multipart() else message
            mail = Mail(str(message["To"]), str(message["Subject"]), part.get_content())
            if to is None or mail.to == to:
                out.append(mail)
        return out

    def last(self, to: str | None = None) -> Mail:
        found = self.all(to)
        assert found, f"no mail to {to}"
        return found[-1]


@pytest.fixture
def outbox(mail_outbox) -> Outbox:
    return Outbox(mail_outbox)


@pytest.fixture(autouse=True)
def exchange_rates(app):
    """The organizations of these tests book in EUR and their Canadian supporters give in CAD: a rate is needed."""
    from tests.payments.support import load_rates

    load_rates(CAD="1.4650", USD="1.0825")
    from webapp.extensions import db

    db.session.commit()
