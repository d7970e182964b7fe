#!/usr/bin/python3
"""IMAP IDLE client for gen.sh: logs in over TLS (993), selects INBOX and
IDLEs; on each new message (EXISTS) it leaves IDLE, fetches the headers
and the flags, and IDLEs again; it renews IDLE after --renew seconds, as
mail clients do (RFC 2177 asks for less than 29 min). Ends with LOGOUT."""
import argparse
import socket
import ssl
import time


class Conn:
    def __init__(self, host, port, tls12):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        if tls12:
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        self.s = ctx.wrap_socket(socket.create_connection((host, port)))
        self.buf = b""
        self.tag = 0

    def line(self, timeout=None):
        self.s.settimeout(timeout)
        while b"\r\n" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError("server closed")
            self.buf += chunk
        l, self.buf = self.buf.split(b"\r\n", 1)
        return l

    def cmd(self, text):
        self.tag += 1
        t = b"a%d" % self.tag
        self.s.sendall(t + b" " + text.encode() + b"\r\n")
        while True:
            l = self.line(30)
            if l.startswith(t + b" "):
                return l

    def idle(self, renew, end):
        """IDLE until a new message, the renew time or the end; True if mail came."""
        self.tag += 1
        t = b"a%d" % self.tag
        self.s.sendall(t + b" IDLE\r\n")
        self.line(30)  # "+ idling"
        stop = min(time.monotonic() + renew, end)
        got = False
        while time.monotonic() < stop:
            try:
                l = self.line(max(0.1, stop - time.monotonic()))
            except socket.timeout:
                break
            if l.endswith(b"EXISTS"):
                got = True
                break
        self.s.sendall(b"DONE\r\n")
        while not self.line(30).startswith(t + b" "):
            pass
        return got


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", required=True)
    ap.add_argument("--port", type=int, default=993)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--renew", type=float, default=170)
    ap.add_argument("--tls12", action="store_true")
    ap.add_argument("--duration", type=float, default=300)
    a = ap.parse_args()
    end = time.monotonic() + a.duration
    c = Conn(a.host, a.port, a.tls12)
    c.line(30)  # greeting
    c.cmd("CAPABILITY")
    c.cmd("LOGIN %s %s" % (a.user, a.password))
    c.cmd("SELECT INBOX")
    while time.monotonic() < end:
        if c.idle(a.renew, end):
            c.cmd("FETCH * (FLAGS BODY.PEEK[HEADER.FIELDS (FROM SUBJECT DATE)])")
        else:
            c.cmd("NOOP")
    c.cmd("LOGOUT")


if __name__ == "__main__":
    main()
