#!/usr/bin/env python3
"""Consume webhook deliveries that nginx's webhook_enqueue put into a
Redis Stream, and hand each to the ERP.

At least once: an entry is acknowledged (XACK) only after the handler
succeeded, so a crash anywhere before that leaves it pending, and it is
delivered again: by this consumer's retry pass, or by another consumer's
XAUTOCLAIM once it has been idle for --claim-idle.  The handler must be
idempotent on the delivery id (the "id" field).

  consumer.py --redis redis://127.0.0.1:6379/0 --stream erp:github \\
              --group erp --exec /opt/erp/bin/import-webhook

The handler (--exec) gets the body on stdin and the other fields in the
environment: WEBHOOK_STREAM_ID, WEBHOOK_ID, WEBHOOK_EVENT, WEBHOOK_PRESET,
WEBHOOK_TIMESTAMP, WEBHOOK_RECEIVED, WEBHOOK_CLIENT, WEBHOOK_ATTEMPT, and
WEBHOOK_H_<NAME> for each webhook_enqueue_header (X-Shopify-Topic:
WEBHOOK_H_X_SHOPIFY_TOPIC).  Exit status 0 is success.  Or replace
handle() below with a call into the ERP.

A failed delivery stays pending and is retried base * 2^(attempt - 1)
seconds after the failure (capped at --backoff-cap, with jitter), up to
--max-attempts deliveries; then it is copied to the dead-letter
stream (--dead-letter, default "<stream>:dead") with its attempts and
last error, and acknowledged, in one MULTI/EXEC.

Needs Python 3 and redis-py 4 (Debian: apt-get install python3-redis).
"""

import argparse
import os
import random
import signal
import socket
import subprocess
import sys
import time

import redis


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--redis", default="redis://127.0.0.1:6379/0",
                   help="Redis URL (redis://[:password@]host:port/db)")
    p.add_argument("--stream", required=True)
    p.add_argument("--group", default="erp")
    p.add_argument("--consumer",
                   default="%s-%d" % (socket.gethostname(), os.getpid()),
                   help="this worker's name in the group (unique)")
    p.add_argument("--exec", dest="command", required=True,
                   help="handler command, run with /bin/sh -c")
    p.add_argument("--handler-timeout", type=float, default=30.0)
    p.add_argument("--count", type=int, default=10,
                   help="entries read at a time")
    p.add_argument("--block", type=float, default=1.0,
                   help="seconds to wait for new entries")
    p.add_argument("--max-attempts", type=int, default=8)
    p.add_argument("--backoff-base", type=float, default=1.0)
    p.add_argument("--backoff-cap", type=float, default=300.0)
    p.add_argument("--claim-idle", type=float, default=600.0,
                   help="seconds an entry of another consumer must be "
                        "idle before it is taken over (XAUTOCLAIM); "
                        "keep it above --backoff-cap + --handler-timeout")
    p.add_argument("--dead-letter", default=None)
    p.add_argument("--drain", action="store_true",
                   help="exit once nothing is left to do (batch runs)")
    a = p.parse_args(argv)
    if a.dead_letter is None:
        a.dead_letter = a.stream + ":dead"
    return a


def backoff(args, entry_id, attempt):
    """Seconds to wait after failed attempt number `attempt` (1-based):
    base * 2^(attempt-1), capped, then jittered to 50-100% so that many
    deliveries failed together do not come back together.  The jitter is
    derived from the entry and the attempt, so every pass agrees on it."""
    delay = min(args.backoff_cap, args.backoff_base * 2 ** (attempt - 1))
    jitter = random.Random("%s:%d" % (entry_id, attempt)).random()
    return delay * (0.5 + jitter / 2)


def handle(args, entry_id, fields, attempt):
    """Deliver one entry to the ERP.  Returns None on success, else the
    error (a string).  Replace this with a call into the ERP if you like;
    it must be idempotent on fields["id"]."""
    env = dict(os.environ)
    env["WEBHOOK_STREAM_ID"] = entry_id
    env["WEBHOOK_ATTEMPT"] = str(attempt)
    for name, value in fields.items():
        if name == "body":
            continue
        if name.startswith("h:"):
            key = "WEBHOOK_H_" + name[2:].upper().replace("-", "_")
        else:
            key = "WEBHOOK_" + name.upper()
        env[key] = value.decode("utf-8", "replace")
    try:
        done = subprocess.run(args.command, shell=True, env=env,
                              input=fields.get("body", b""),
                              stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE,
                              timeout=args.handler_timeout)
    except subprocess.TimeoutExpired:
        return "handler timed out after %gs" % args.handler_timeout
    if done.returncode != 0:
        err = done.stderr.decode("utf-8", "replace").strip()[-200:]
        return "handler exited %d: %s" % (done.returncode, err)
    return None


class Consumer:

    def __init__(self, args):
        self.args = args
        self.r = redis.Redis.from_url(args.redis)
        self.errors = {}          # entry id -> last error (this process)
        self.stopping = False

    def log(self, msg):
        print("consumer %s: %s" % (self.args.consumer, msg),
              file=sys.stderr, flush=True)

    def ensure_group(self):
        # "0": a new group starts with what nginx queued before it existed
        try:
            self.r.xgroup_create(self.args.stream, self.args.group, id="0",
                                 mkstream=True)
        except redis.ResponseError as e:
            if "BUSYGROUP" not in str(e):
                raise

    def process(self, entry_id, fields, attempt):
        entry_id = entry_id.decode()
        fields = {k.decode(): v for k, v in fields.items()}
        if attempt > self.args.max_attempts:
            self.dead_letter(entry_id, fields, attempt - 1)
            return
        error = handle(self.args, entry_id, fields, attempt)
        if error is None:
            self.r.xack(self.args.stream, self.args.group, entry_id)
            self.errors.pop(entry_id, None)
            self.log("%s (id %s) delivered, attempt %d"
                     % (entry_id, fields.get("id", b"").decode(), attempt))
            return
        self.errors[entry_id] = error
        self.log("%s attempt %d failed: %s" % (entry_id, attempt, error))
        if attempt >= self.args.max_attempts:
            self.dead_letter(entry_id, fields, attempt)
            return
        # the backoff counts from now: XCLAIM ... JUSTID resets the idle
        # time without counting a delivery
        self.r.xclaim(self.args.stream, self.args.group, self.args.consumer,
                      0, [entry_id], justid=True)

    def dead_letter(self, entry_id, fields, attempts):
        """Copy to the dead-letter stream and acknowledge, atomically.
        In Redis Cluster both keys must hash to one slot: give the streams
        a hash tag, e.g. {erp}:github and {erp}:github:dead."""
        copy = dict(fields)
        copy["source-id"] = entry_id
        copy["attempts"] = str(attempts)
        copy["error"] = self.errors.pop(entry_id, "unknown (another "
                                        "consumer's attempts)")
        pipe = self.r.pipeline(transaction=True)
        pipe.xadd(self.args.dead_letter, copy)
        pipe.xack(self.args.stream, self.args.group, entry_id)
        pipe.execute()
        self.log("%s dead-lettered after %d attempts" % (entry_id, attempts))

    def retry_due(self):
        """This consumer's failed entries whose backoff has passed: claim
        them again (XCLAIM counts the delivery) and retry.  Returns how
        many of ours are still pending."""
        pending = self.r.xpending_range(self.args.stream, self.args.group,
                                        min="-", max="+", count=100,
                                        consumername=self.args.consumer)
        for p in pending:
            entry_id = p["message_id"].decode()
            attempt = p["times_delivered"]
            if p["time_since_delivered"] / 1000.0 < backoff(
                    self.args, entry_id, attempt):
                continue
            claimed = self.r.xclaim(self.args.stream, self.args.group,
                                    self.args.consumer, 0, [entry_id])
            for cid, fields in claimed:
                if fields is not None:
                    self.process(cid, fields, attempt + 1)
        return len(pending)

    def claim_abandoned(self):
        """Entries another consumer took and never acknowledged (it
        crashed, or hangs): XAUTOCLAIM those idle for --claim-idle."""
        start = "0-0"
        while True:
            reply = self.r.xautoclaim(self.args.stream, self.args.group,
                                      self.args.consumer,
                                      int(self.args.claim_idle * 1000),
                                      start_id=start, count=self.args.count)
            start, claimed = reply[0], reply[1]
            for entry_id, fields in claimed:
                attempt = self.delivered(entry_id)
                self.process(entry_id, fields, attempt)
            if start in (b"0-0", "0-0") or not claimed:
                return

    def delivered(self, entry_id):
        p = self.r.xpending_range(self.args.stream, self.args.group,
                                  min=entry_id, max=entry_id, count=1)
        return p[0]["times_delivered"] if p else 1

    def read_new(self):
        reply = self.r.xreadgroup(self.args.group, self.args.consumer,
                                  {self.args.stream: ">"},
                                  count=self.args.count,
                                  block=int(self.args.block * 1000))
        n = 0
        for _stream, entries in reply or []:
            for entry_id, fields in entries:
                self.process(entry_id, fields, 1)
                n += 1
        return n

    def run(self):
        self.ensure_group()
        while not self.stopping:
            self.claim_abandoned()
            mine = self.retry_due()
            new = self.read_new()
            if self.args.drain and new == 0 and mine == 0 \
                    and not self.others_pending():
                return 0
        return 0

    def others_pending(self):
        """Entries pending at other consumers that XAUTOCLAIM will take
        once idle long enough (for --drain)."""
        summary = self.r.xpending(self.args.stream, self.args.group)
        return summary["pending"] > 0


def main(argv):
    args = parse_args(argv)
    consumer = Consumer(args)

    def stop(_sig, _frame):
        # finish the entry at hand, then leave: nothing is half-acknowledged
        consumer.stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    while True:
        try:
            return consumer.run()
        except redis.ConnectionError as e:
            if consumer.stopping:
                return 0
            consumer.log("redis: %s; again in 1s" % e)
            time.sleep(1)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
