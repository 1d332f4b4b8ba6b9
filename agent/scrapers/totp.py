"""TOTP codes that are never submitted twice.

Portals refuse a code already used within its 30-second step, and a fault may have
consumed a code even though the answer was an error. So every code handed out is
remembered per secret, and a second sign-in in the same step waits for the next
step instead of sending the same code again.
"""

from __future__ import annotations

import asyncio
import time

import pyotp

STEP_SECONDS = 30

MIN_SECRET_BITS = 80

_last_step: dict[str, int] = {}
_lock = asyncio.Lock()


class PortalTotp(pyotp.TOTP):
    """RFC 6238 TOTP accepting the 80-bit secrets many portals still issue.

    pyotp asks for 112 bits by default; a practice cannot choose the secret its
    portal hands out, so refusing shorter ones would only lock it out.
    """

    min_secret_length_bits = MIN_SECRET_BITS


def totp_for(secret: str) -> pyotp.TOTP:
    """The TOTP generator for a base32 secret; ValueError if it is not one."""
    return PortalTotp(secret.replace(" ", "").upper())


async def fresh_code(secret: str) -> str:
    """A code for ``secret`` from a time step no earlier call has used."""
    async with _lock:
        totp = totp_for(secret)
        step = int(time.time() // STEP_SECONDS)
        used = _last_step.get(secret)
        if used is not None and step <= used:
            wait = (used + 1) * STEP_SECONDS - time.time() + 0.05
            await asyncio.sleep(max(wait, 0))
            step = used + 1
        _last_step[secret] = step
        return totp.at(step * STEP_SECONDS)
