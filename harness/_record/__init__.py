"""Cases from real traffic: ``harness record`` (a recording reverse proxy) and ``harness import-har``.

Modules, in the order a request goes through them:

_proxy.py      the reverse proxy: traffic passes unchanged and unbuffered, each exchange is teed to the recorder
_exchange.py   one observed request and response, and the ``Outcome`` the spec reads from it
_inverse.py    the case input recovered from a request body through the spec's body template
_privacy.py    secrets masked, emails and phone numbers replaced by stable stand-ins
_noise.py      golden outputs, with the noise learned from several answers to one input
_recorder.py   exchanges to cases: matching, de-duplication, sampling, limits, the unmapped counted
_casefile.py   the case file, written atomically after every new case
_har.py        the same from a HAR 1.2 file
_cli.py        the two subcommands
"""

DEFAULT_MAX_BODY_BYTES = 1024**2
"""Largest request or response body recorded (bigger ones pass through the proxy whole, unrecorded)."""
