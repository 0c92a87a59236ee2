"""Cameras for the egress tests, good and hostile: an HTTP camera (an MPEG-TS stream, or a redirect, or an HLS
playlist pointing elsewhere), an RTSP camera (MPEG-TS over RTP, interleaved on the RTSP connection, or a
redirect), and a listener that counts who reaches it (the service a redirect must never reach)."""

from __future__ import annotations

import base64
import contextlib
import datetime
import socket
import ssl
import struct
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class _Listening:
    """A TCP socket listening on `host` (any free port); each connection is handed to `_take` in turn, on a
    thread of its own that ends when the socket is closed."""

    def __init__(self, host: str):
        self.sock = socket.create_server((host, 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self._take(conn)

    def _take(self, conn: socket.socket) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self.sock.close()


class CountingListener(_Listening):
    """A TCP listener standing for a service on the server's loopback; counts connections."""

    def __init__(self, host: str = "127.0.0.1"):
        self.first_bytes: list[bytes] = []
        self._lock = threading.Lock()
        super().__init__(host)

    def _take(self, conn: socket.socket) -> None:
        conn.settimeout(2)
        with contextlib.suppress(OSError), conn:
            data = conn.recv(200)
            with self._lock:
                self.first_bytes.append(data)

    def connections(self) -> int:
        """Connections so far, those still waiting in the backlog included (a connect completes in the
        kernel before accept returns, so once the client is done, none can be missed)."""
        self.sock.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            while True:
                conn, _ = self.sock.accept()
                with self._lock:
                    self.first_bytes.append(b"(backlog)")
                conn.close()
        with self._lock:
            return len(self.first_bytes)


def tls_context(folder: Path) -> ssl.SSLContext:
    """A server context with a fresh self-signed certificate, as CCTV cameras mostly have."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "camera")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256())
    )  # fmt: skip
    (folder / "camera.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (folder / "camera.key").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(folder / "camera.pem", folder / "camera.key")
    return context


class HttpCamera:
    """/camera.ts: the stream; /private.ts: the stream behind Basic authentication (user, pw);
    /redirect: 302 to `elsewhere`; /live.m3u8: a playlist of segments there. HTTPS with `tls`."""

    def __init__(self, host: str, ts: bytes, elsewhere: str = "http://127.0.0.1:9", tls: ssl.SSLContext | None = None):
        requests: list[str] = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                requests.append(self.path)
                if self.path == "/redirect":
                    self.send_response(302)
                    self.send_header("Location", f"{elsewhere}/stolen")
                    self.end_headers()
                    return
                if self.path == "/live.m3u8":
                    body = f"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\n{elsewhere}/seg0.ts\n#EXT-X-ENDLIST\n"
                    self._send(body.encode(), "application/vnd.apple.mpegurl")
                    return
                if self.path.startswith("/camera.ts"):
                    self._send(ts, "video/mp2t")
                    return
                if self.path == "/private.ts":
                    if self.headers.get("Authorization") != "Basic " + base64.b64encode(b"user:pw").decode():
                        self.send_response(401)
                        self.send_header("WWW-Authenticate", 'Basic realm="camera"')
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    self._send(ts, "video/mp2t")
                    return
                self.send_error(404)

            def _send(self, body: bytes, kind: str) -> None:
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                with contextlib.suppress(OSError):
                    self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.requests = requests
        self.server = ThreadingHTTPServer((host, 0), Handler)
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.base = f"{'https' if tls else 'http'}://{host}:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class RtspCamera(_Listening):
    """Answers OPTIONS, DESCRIBE (one MPEG-TS track), SETUP (interleaved over TCP only) and PLAY, then sends
    `ts` as RTP packets on channel 0; or, with `redirect`, answers every request with a 302 there."""

    def __init__(self, host: str, ts: bytes = b"", redirect: str | None = None, tls: ssl.SSLContext | None = None):
        self.ts, self.redirect, self.tls = ts, redirect, tls
        self.requests: list[tuple[str, str]] = []
        super().__init__(host)
        self.url = f"{'rtsps' if tls else 'rtsp'}://{host}:{self.port}/live"

    def _take(self, conn: socket.socket) -> None:
        threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with contextlib.suppress(OSError):
            if self.tls is not None:
                conn = self.tls.wrap_socket(conn, server_side=True)
            self._answer(conn)

    def _answer(self, conn: socket.socket) -> None:
        with conn, conn.makefile("rb") as stream:
            while line := stream.readline():
                headers = {}
                while header := stream.readline().strip():
                    key, _, value = header.decode().partition(":")
                    headers[key.strip().lower()] = value.strip()
                method, url, _ = line.decode().split(" ", 2)
                self.requests.append((method, url))
                cseq = f"CSeq: {headers.get('cseq', '0')}\r\n"
                if self.redirect:
                    conn.sendall(f"RTSP/1.0 302 Moved\r\n{cseq}Location: {self.redirect}\r\n\r\n".encode())
                elif method == "DESCRIBE":
                    sdp = (
                        "v=0\r\no=- 0 0 IN IP4 0.0.0.0\r\ns=camera\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\n"
                        "m=video 0 RTP/AVP 33\r\na=rtpmap:33 MP2T/90000\r\na=control:track1\r\n"
                    )
                    conn.sendall(
                        f"RTSP/1.0 200 OK\r\n{cseq}Content-Base: {url}/\r\nContent-Type: application/sdp\r\n"
                        f"Content-Length: {len(sdp)}\r\n\r\n{sdp}".encode()
                    )
                elif method == "SETUP":
                    if "interleaved" not in headers.get("transport", ""):
                        conn.sendall(f"RTSP/1.0 461 Unsupported Transport\r\n{cseq}\r\n".encode())
                        continue
                    transport = "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n"
                    conn.sendall(f"RTSP/1.0 200 OK\r\n{cseq}Session: 12345678\r\n{transport}\r\n".encode())
                elif method == "PLAY":
                    conn.sendall(f"RTSP/1.0 200 OK\r\n{cseq}Session: 12345678\r\n\r\n".encode())
                    self._stream(conn)
                    return
                else:
                    conn.sendall(f"RTSP/1.0 200 OK\r\n{cseq}Public: OPTIONS, DESCRIBE, SETUP, PLAY\r\n\r\n".encode())

    def _stream(self, conn: socket.socket) -> None:
        """Seven 188-byte TS packets per RTP packet (RFC 2250), each framed '$', channel 0, length."""
        for seq, start in enumerate(range(0, len(self.ts), 188 * 7)):
            rtp = struct.pack("!BBHII", 0x80, 33, seq & 0xFFFF, seq * 3600, 0x0DF1CE) + self.ts[start : start + 188 * 7]
            conn.sendall(b"$\x00" + struct.pack("!H", len(rtp)) + rtp)
