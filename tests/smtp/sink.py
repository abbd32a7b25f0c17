#!/usr/bin/env python3
"""A real SMTP server for the tests: aiosmtpd on a free loopback port, writing each message it
accepts into DIRECTORY as `<n>.eml` (the raw message) and `<n>.json` (envelope sender and
recipients, the decoded From, To, Subject and text body), the JSON last and atomically (written
aside, then renamed), so a reader that sees it sees the whole message.

    python sink.py DIRECTORY [--reject-first N] [--port P]

Prints `listening PORT` once it accepts connections (on P, or a free port), then serves until its standard input
closes (the test that started it ended). `--reject-first N` answers the first N deliveries
with a temporary failure (451), as a busy server would.
"""
import argparse
import asyncio
import email
import email.policy
import itertools
import base64
import json
import os
import sys

from aiosmtpd.smtp import SMTP


class Sink:
    def __init__(self, directory, reject_first):
        self.directory = directory
        self.reject_left = reject_first
        self.counter = itertools.count(1)

    async def handle_DATA(self, server, session, envelope):
        if self.reject_left > 0:
            self.reject_left -= 1
            return "451 4.3.0 Try again later"
        n = next(self.counter)
        raw = envelope.original_content or envelope.content
        with open(os.path.join(self.directory, f"{n:05d}.eml"), "wb") as f:
            f.write(raw)
        message = email.message_from_bytes(raw, policy=email.policy.default)
        body = message.get_body(preferencelist=("plain",))
        summary = {
            "envelope_from": envelope.mail_from,
            "envelope_to": envelope.rcpt_tos,
            "from": str(message["From"]),
            "to": str(message["To"]),
            "subject": str(message["Subject"]),
            "content_type": message.get_content_type(),
            "body": body.get_content() if body is not None else None,
            "attachments": [
                {
                    "filename": part.get_filename(),
                    "content_type": part.get_content_type(),
                    "content_base64": base64.b64encode(part.get_content()).decode("ascii"),
                }
                for part in message.iter_attachments()
            ],
        }
        final = os.path.join(self.directory, f"{n:05d}.json")
        with open(final + ".part", "w", encoding="utf-8") as f:
            json.dump(summary, f, ensure_ascii=False)
        os.rename(final + ".part", final)
        return "250 Message accepted for delivery"


async def serve(directory, reject_first, port):
    loop = asyncio.get_running_loop()
    sink = Sink(directory, reject_first)
    server = await loop.create_server(lambda: SMTP(sink), host="127.0.0.1", port=port)
    port = server.sockets[0].getsockname()[1]
    print(f"listening {port}", flush=True)
    # Until the parent closes our stdin (or dies).
    await loop.run_in_executor(None, sys.stdin.read)
    server.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("directory")
    parser.add_argument("--reject-first", type=int, default=0)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    asyncio.run(serve(args.directory, args.reject_first, args.port))


if __name__ == "__main__":
    main()
