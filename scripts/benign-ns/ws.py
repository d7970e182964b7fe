#!/usr/bin/python3
"""WebSocket keep-alive server and client for gen.sh (python3-websockets).

server: accepts wss:// connections, pushes a small JSON event at a jittered
period (a live-feed / notification channel).
client: connects once, answers nothing but its own pings (ping_interval),
and sends a short JSON "ack" now and then, until --duration ends; it then
closes the connection cleanly.
"""
import argparse
import asyncio
import json
import random
import ssl
import time

import websockets


def jitter(mean, spread):
    return max(0.5, mean + random.uniform(-spread, spread))


async def serve(args):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)

    async def feed(ws, path=None):
        n = 0
        try:
            while True:
                await asyncio.sleep(jitter(args.period, args.jitter))
                n += 1
                body = {"type": "tick", "seq": n, "ts": time.time(),
                        "items": ["x" * random.randint(4, 40) for _ in range(random.randint(1, 6))]}
                await ws.send(json.dumps(body))
        except websockets.ConnectionClosed:
            pass

    # ping_interval=None: the client keeps the connection alive, as browsers do.
    async with websockets.serve(feed, args.host, args.port, ssl=ctx, ping_interval=None):
        await asyncio.Future()


async def client(args):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if args.tls12:
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    end = time.monotonic() + args.duration
    async with websockets.connect(args.url, ssl=ctx, ping_interval=args.ping, ping_timeout=20) as ws:
        while time.monotonic() < end:
            try:
                msg = await asyncio.wait_for(ws.recv(), timeout=max(0.1, end - time.monotonic()))
            except asyncio.TimeoutError:
                break
            if random.random() < 0.3:
                await ws.send(json.dumps({"type": "ack", "seq": json.loads(msg).get("seq")}))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("role", choices=["server", "client"])
    ap.add_argument("--host", default="0.0.0.0")
    ap.add_argument("--port", type=int, default=9443)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--url")
    ap.add_argument("--period", type=float, default=41.0)
    ap.add_argument("--jitter", type=float, default=12.0)
    ap.add_argument("--ping", type=float, default=23.0)
    ap.add_argument("--tls12", action="store_true")
    ap.add_argument("--duration", type=float, default=300)
    args = ap.parse_args()
    asyncio.run(serve(args) if args.role == "server" else client(args))


if __name__ == "__main__":
    main()
