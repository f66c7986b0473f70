"""Sending text messages: a small backend interface, chosen by settings.SMS_BACKEND.

A provider's backend subclasses SmsBackend and implements `send`; it raises SmsError (or lets
any exception out) when the provider refuses, and the caller records and retries. Shipped here:
console (development), locmem (tests in one process), file (tests with a real worker, which
runs in another process) and disabled (production until a provider is configured).
"""

from __future__ import annotations

import sys
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils.module_loading import import_string


class SmsError(Exception):
    """The provider did not take the message."""


class SmsNotConfigured(SmsError):
    """No provider: the message is skipped, not retried."""


@dataclass(frozen=True)
class Sms:
    to: str
    body: str


class SmsBackend:
    def send(self, sms: Sms) -> str:
        """Hand one message to the provider; returns the provider's id for it."""
        raise NotImplementedError


class ConsoleSmsBackend(SmsBackend):
    def send(self, sms: Sms) -> str:
        sys.stdout.write(f"--- SMS to {sms.to} ---\n{sms.body}\n")
        sys.stdout.flush()
        return f"console-{uuid.uuid4().hex[:12]}"


# Like django.core.mail.outbox: what LocmemSmsBackend sent in this process.
outbox: list[Sms] = []
_outbox_lock = threading.Lock()


class LocmemSmsBackend(SmsBackend):
    def send(self, sms: Sms) -> str:
        with _outbox_lock:
            outbox.append(sms)
            return f"locmem-{len(outbox)}"


class FileSmsBackend(SmsBackend):
    """One file per message in SMS_FILE_PATH: first line the number, then the text."""

    def send(self, sms: Sms) -> str:
        folder = Path(settings.SMS_FILE_PATH)
        folder.mkdir(parents=True, exist_ok=True)
        name = f"sms-{uuid.uuid4().hex}.txt"
        (folder / name).write_text(f"{sms.to}\n{sms.body}\n")
        return name


class DisabledSmsBackend(SmsBackend):
    def send(self, sms: Sms) -> str:
        raise SmsNotConfigured("SMS is not configured (set SMS_BACKEND to a provider's backend).")


def sms_backend() -> SmsBackend:
    """The configured backend, read from settings on every call so tests can switch it."""
    return import_string(settings.SMS_BACKEND)()
