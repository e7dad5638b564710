"""Text messages to citizens (the tracking code of a phone request). One function, `send(phone, text)`, hands a
message to the gateway named by `JIESU_SMS_SENDER` (a dotted path to a callable taking the phone number and the
text, raising on failure). The default writes each message as a file into `JIESU_SMS_DIR` (`var/sms`): the
development and demo stand-in for the city's SMS gateway, which production names instead."""

import datetime as dt
import logging
import secrets
from collections.abc import Callable

from django.conf import settings
from django.utils.module_loading import import_string

from .masking import mask_phone

logger = logging.getLogger("jiesu.sms")


def send(phone: str, text: str) -> None:
    """Hand one message to the configured gateway; an exception means it was not accepted."""
    sender: Callable[[str, str], None] = import_string(settings.SMS_SENDER)
    sender(phone, text)
    logger.info("SMS handed to the gateway for %s", mask_phone(phone))  # never the text: it may hold a secret


def file_sender(phone: str, text: str) -> None:
    """The stand-in gateway: one UTF-8 file per message, `<UTC time>-<phone>-<random>.txt`, in `JIESU_SMS_DIR`."""
    folder = settings.SMS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
    (folder / f"{stamp}-{phone}-{secrets.token_hex(3)}.txt").write_text(text, encoding="utf-8")
