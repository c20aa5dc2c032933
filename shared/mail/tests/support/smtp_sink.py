"""Minimal SMTP sink for pm-mail's integration tests.

Usage: smtp_sink.py OUTDIR [USERNAME PASSWORD]

Listens on 127.0.0.1 on a free port, prints the port on stdout, and writes every message it
accepts as OUTDIR/<n>.eml (raw DATA) plus OUTDIR/<n>.json (envelope sender and recipients).
With USERNAME and PASSWORD, AUTH is required (over plaintext, as the test has no TLS) and
only that pair is accepted. Runs until killed or until stdin closes.
"""

import asyncio
import itertools
import json
import pathlib
import sys
import warnings

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Sink:
    def __init__(self, outdir: pathlib.Path):
        self.outdir = outdir
        self.counter = itertools.count(1)

    async def handle_DATA(self, server, session, envelope):
        n = next(self.counter)
        (self.outdir / f"{n}.eml").write_bytes(envelope.original_content or envelope.content)
        meta = {"mail_from": envelope.mail_from, "rcpt_tos": list(envelope.rcpt_tos)}
        # Written last and renamed into place so the test never reads a half-written message.
        tmp = self.outdir / f"{n}.json.tmp"
        tmp.write_text(json.dumps(meta))
        tmp.rename(self.outdir / f"{n}.json")
        return "250 Message accepted for delivery"


def authenticator_for(username: str, password: str):
    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == username.encode()
            and auth_data.password == password.encode()
        )
        # handled=False: let aiosmtpd answer 535 itself on failure.
        return AuthResult(success=ok, handled=False)

    return authenticate


# The plaintext AUTH set-up is deliberate here (loopback only); keep the test output clean.
warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")


async def main() -> None:
    outdir = pathlib.Path(sys.argv[1])
    outdir.mkdir(parents=True, exist_ok=True)
    sink = Sink(outdir)
    options = {}
    if len(sys.argv) == 4:
        options = dict(
            authenticator=authenticator_for(sys.argv[2], sys.argv[3]),
            auth_required=True,
            auth_require_tls=False,
        )
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(sink, **options), "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    # Exit when the test closes our stdin (or dies), so no sink outlives its test.
    await loop.run_in_executor(None, sys.stdin.read)
    server.close()


if __name__ == "__main__":
    asyncio.run(main())
