"""The SMS channel: an interface, and the default implementation that writes each message to the log."""
from __future__ import annotations

import importlib
import logging
from typing import Protocol

from flask import current_app

log = logging.getLogger("webapp.mutual_aid.sms")


class SmsError(Exception):
    """The gateway refused or failed; `permanent` says a retry cannot help (a bad number)."""

    def __init__(self, message: str, *, permanent: bool = False):
        self.permanent = permanent
        super().__init__(message)


class SmsChannel(Protocol):
    def send(self, number: str, text: str, *, reference: str) -> None:
        """Send one message; `reference` is stable per call, for gateways that deduplicate."""


class LogSmsChannel:
    """Writes messages to the log: the default, until a gateway is plugged in."""

    def send(self, number: str, text: str, *, reference: str) -> None:
        log.info("SMS to=%s ref=%s\n%s", number, reference, text)


def sms_channel() -> SmsChannel:
    """The configured channel: MUTUAL_AID_SMS_CHANNEL is "log" or "package.module:ClassName"."""
    channel = current_app.extensions.get("mutual_aid.sms")
    if channel is None:
        spec = current_app.config.get("MUTUAL_AID_SMS_CHANNEL", "log")
        if spec == "log":
            channel = LogSmsChannel()
        else:
            module, _, name = spec.partition(":")
            channel = getattr(importlib.import_module(module), name)()
        current_app.extensions["mutual_aid.sms"] = channel
    return channel
