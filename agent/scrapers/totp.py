"""TOTP codes that are never submitted twice, by this process or any other.

Portals refuse a code already used within its 30-second step, and a fault may have
consumed a code even though the answer was an error. So every code handed out is
first *claimed*: its time step is recorded as used for that login, and a sign-in
that finds its step already claimed takes the next one (portals accept a code one
step ahead), or waits for a step of its own, instead of sending the same code again.

Where the claim is recorded is the caller's business: the crawler claims steps in
the database (``PortalLogin.totp_last_step``, one conditional UPDATE), so a second
``scan``, a worker and a re-scan signing in to one login within one step never
share a code. Scrapers never touch the database; they receive the claim as a
function on their ``Credentials``. Without one, steps are remembered in this
process only (``LocalSteps``), which is enough for a single process.
"""

from __future__ import annotations

import asyncio
import time

import pyotp

from agent.capture import StepClaim

STEP_SECONDS = 30

MIN_SECRET_BITS = 80

#: how many steps a sign-in waits for before it gives up: every one of them was
#: claimed by another sign-in of the same login, which would be a storm of them
MAX_STEPS_WAITED = 4

#: steps ahead of the clock a portal still accepts a code for (SPEC: one step of drift)
DRIFT_STEPS = 1

#: a margin past a step's start before its code is used, for clocks a little apart
STEP_MARGIN_S = 0.05


class NoFreshStep(RuntimeError):
    """Every step tried was claimed by another sign-in of the same login."""


class PortalTotp(pyotp.TOTP):
    """RFC 6238 TOTP accepting the 80-bit secrets many portals still issue.

    pyotp asks for 112 bits by default; a practice cannot choose the secret its
    portal hands out, so refusing shorter ones would only lock it out.
    """

    min_secret_length_bits = MIN_SECRET_BITS


def totp_for(secret: str) -> pyotp.TOTP:
    """The TOTP generator for a base32 secret; ValueError if it is not one."""
    return PortalTotp(secret.replace(" ", "").upper())


def current_step(now: float | None = None) -> int:
    return int((time.time() if now is None else now) // STEP_SECONDS)


class LocalSteps:
    """Steps claimed in this process, per secret: the claim used when none is given."""

    def __init__(self) -> None:
        self._last: dict[str, int] = {}
        self._lock = asyncio.Lock()

    def claim_for(self, secret: str) -> StepClaim:
        async def claim(step: int) -> bool:
            async with self._lock:
                used = self._last.get(secret)
                if used is not None and step <= used:
                    return False
                self._last[secret] = step
                return True

        return claim


_local = LocalSteps()


async def fresh_code(secret: str, claim: StepClaim | None = None) -> str:
    """A code for ``secret`` from a time step that ``claim`` grants, waiting if need be.

    The current step is tried first, then the next one: portals accept a code one
    step either side of their clock (SPEC: one step of drift), so a sign-in whose
    step another sign-in holds (or whose code a fault swallowed) need not wait half
    a minute. When both are held, the next step boundary is awaited and the same is
    tried again, up to ``MAX_STEPS_WAITED`` times.
    """
    totp = totp_for(secret)
    claim = claim or _local.claim_for(secret)
    for tried in range(1, MAX_STEPS_WAITED + 1):
        now = current_step()
        for step in (now, now + DRIFT_STEPS):
            if await claim(step):
                return totp.at(step * STEP_SECONDS)
        if tried == MAX_STEPS_WAITED:
            break
        wait = (now + 1) * STEP_SECONDS - time.time() + STEP_MARGIN_S
        if wait > 0:
            await asyncio.sleep(wait)
    raise NoFreshStep(
        f"{MAX_STEPS_WAITED} authenticator steps in a row were taken by other sign-ins of "
        "this login"
    )
