"""The one way a camera connection leaves openfr: to the address that was checked, whatever the stream says.

FFmpeg opens a camera URL by itself and follows what the camera answers: an HTTP or RTSP redirect, the
segments an HLS playlist lists, the addresses an SDP names. Checking the URL as typed is therefore not
enough (issue 21: a 302 or an .m3u8 on an allowed camera reached the server's own loopback services). So
FFmpeg never reaches a camera itself. For each connection the gate:
1. resolves the camera's host once and checks every address it resolves to (`camera_network`), then
   connects only to a checked address: there is no second lookup for a rebinding DNS answer to change;
2. gives FFmpeg a URL on a listener of its own on 127.0.0.1 (same path, query and credentials; an HTTP
   camera still sees its own Host header) and relays bytes between FFmpeg and the camera;
3. reads what the camera sends back as FFmpeg will read it (RTSP: each reply's header block and body, and
   the interleaved binary frames between them; HTTP: the status line) and cuts both sides, forwarding
   nothing, at any redirect;
4. restricts FFmpeg to the one protocol the scheme needs (RTSP over TCP only, as an SDP may name any
   address for UDP; HTTP without redirects) and to demuxers of direct streams, so that a playlist or other
   indirection (HLS, DASH, concat) cannot be opened at all.
TLS (rtsps, https) ends here, towards the camera, so the gate can read the answers; like FFmpeg by
default, the gate does not verify the camera's certificate (CCTV certificates are mostly self-signed).
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
import selectors
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from openfr.errors import BadInputError
from openfr.live.camera_network import checked_addresses

ADVICE = "give the camera's direct RTSP or HTTP stream"
# Demuxers of the direct streams CCTV serves over HTTP (MPEG-TS, MJPEG, raw H.264/H.265, FLV, Matroska):
# none of them opens a further URL that the stream names.
HTTP_FORMATS = "mpegts,mpjpeg,mjpeg,h264,hevc,flv,matroska"
FILE_OPTIONS = {"protocol_whitelist": "file", "format_whitelist": f"mov,avi,{HTTP_FORMATS}"}  # video files
SCHEMES = {"rtsp": ("rtsp", 554, False), "rtsps": ("rtsp", 322, True), "http": ("http", 80, False)}
SCHEMES["https"] = ("http", 443, True)
MAX_HEADER = 64 * 1024  # an RTSP reply's header block longer than this is not a camera's
_EMPTY_LINE = re.compile(rb"\n\r*\n")  # a line FFmpeg reads as empty (every '\r' dropped)


class CameraRefusedError(BadInputError):
    """The camera's answer would have taken the connection elsewhere, or it cannot be reached safely."""


@dataclass(frozen=True)
class CameraRules:
    """Where a camera may be (see LiveSettings.camera_networks / allow_loopback_cameras)."""

    networks: tuple[str, ...] = ()
    allow_loopback: bool = False
    connect_timeout_s: float = 10.0


class _RefusalError(Exception):
    pass


class HttpReplyCheck:
    """Reads the status line of the one reply on a connection (FFmpeg asks `Connection: close`) as FFmpeg
    does: the first word skipped, then the status number. A redirect, or a line that is not a status, is
    refused; the rest of the reply passes as it is."""

    def __init__(self) -> None:
        self._head: bytearray | None = bytearray()

    def feed(self, data: bytes) -> bytes:
        if self._head is None:
            return data
        self._head += data
        end = self._head.find(b"\n")
        if end < 0:
            if len(self._head) > MAX_HEADER:
                raise _RefusalError("the camera's HTTP answer has no status line")
            return b""
        status = re.match(rb"\S+[ \t]+(\d{3})\b", bytes(self._head[:end]))
        if status is None:
            raise _RefusalError("the camera's answer is not HTTP")
        if status[1].startswith(b"3"):
            raise _RefusalError(f"the camera answered with a redirect (HTTP {status[1].decode()})")
        data, self._head = bytes(self._head), None
        return data


class RtspReplyCheck:
    """Follows the camera's side of an RTSP connection message by message, as FFmpeg reads it (rtsp.c,
    ff_rtsp_read_reply): '\\r' is dropped anywhere, a line ends at '\\n', an empty line ends the header block
    and Content-Length bytes of body follow; a '$' starting a message is a binary frame ('$', channel,
    2-byte length, payload). A redirect (3xx, a Location header, a REDIRECT request) or anything FFmpeg
    could read differently from this check is refused, so what passes is what was checked."""

    def __init__(self) -> None:
        self._buffer = bytearray()  # the start of a header block or frame header, until it is whole
        self._passing = 0  # bytes of a body or frame payload still to pass through unread

    def feed(self, data: bytes) -> bytes:
        out, buffer, pos = bytearray(), self._buffer + data, 0
        while pos < len(buffer):
            if self._passing:
                n = min(self._passing, len(buffer) - pos)
                out += buffer[pos : pos + n]
                pos, self._passing = pos + n, self._passing - n
                continue
            start = pos
            while start < len(buffer) and buffer[start] == 13:  # FFmpeg drops every '\r'
                start += 1
            if start < len(buffer) and buffer[start] == 36:  # '$': an interleaved binary frame
                if len(buffer) < start + 4:
                    break
                length = int.from_bytes(buffer[start + 2 : start + 4], "big")
                if length < 8:  # FFmpeg would read what follows as a reply, not as this frame's payload
                    raise _RefusalError("the camera sent a malformed RTSP frame")
                self._passing = start - pos + 4 + length
                continue
            empty = _EMPTY_LINE.search(buffer, pos)  # the end of the header block
            if start < len(buffer) and buffer[start] == 10:
                end = start + 1  # a message of no lines
            elif empty is not None:
                end = empty.end()
            else:
                if len(buffer) - pos > MAX_HEADER:
                    raise _RefusalError("the camera's RTSP header block is too long")
                break
            head = bytes(buffer[pos:end])
            self._passing = len(head) + _check_rtsp(head.replace(b"\r", b"").decode("latin-1").split("\n"))
        self._buffer = buffer[pos:]
        return bytes(out)


def _check_rtsp(lines: list[str]) -> int:
    """Refuses a redirect or an ambiguous header block; the length of the body that follows."""
    first = lines[0].strip(" \t").split()
    if first and first[0].startswith("RTSP/"):
        status = first[1] if len(first) > 1 else ""
        if not re.fullmatch(r"\d{3}", status):
            raise _RefusalError("the camera's RTSP answer has no status")
        if status.startswith("3"):
            raise _RefusalError(f"the camera answered with a redirect (RTSP {status})")
    elif first and first[0].upper() == "REDIRECT":
        raise _RefusalError("the camera asked to redirect the connection (RTSP REDIRECT)")
    lengths = []
    for line in lines[1:]:
        if line.startswith("$"):
            raise _RefusalError("the camera sent a frame inside an RTSP header block")
        if re.match(r"[ \t]*location[ \t]*:", line, re.I):
            raise _RefusalError("the camera answered with a redirect (RTSP Location header)")
        if re.match(r"[ \t]*content-length", line, re.I):
            exact = re.fullmatch(r"content-length:[ \t]*(\d{1,7})[ \t]*", line, re.I)
            if exact is None:
                raise _RefusalError("the camera sent an unclear RTSP Content-Length")
            lengths.append(int(exact[1]))
    if len(lengths) > 1:
        raise _RefusalError("the camera sent two RTSP Content-Length headers")
    return lengths[0] if lengths else 0


class CameraGate:
    """A listener on 127.0.0.1 for FFmpeg whose every connection is relayed to one checked address of the
    camera; `url` and `options` are what to give `av.open`. Close it when the container closes."""

    def __init__(self, url: str, rules: CameraRules):
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in SCHEMES or not parts.hostname:
            raise CameraRefusedError(f"camera source: only rtsp, rtsps, http and https cameras are supported; {ADVICE}")
        self.protocol, default_port, self._tls = SCHEMES[scheme]
        self._host = parts.hostname
        addresses = checked_addresses(self._host, rules.networks, rules.allow_loopback)
        if not addresses:
            raise CameraRefusedError(f"camera source host {self._host!r} does not resolve")
        self._targets = [(str(a), parts.port or default_port) for a in addresses]
        self._timeout = rules.connect_timeout_s
        self.refusal: str | None = None  # why the gate cut a connection (words for the operator)
        self.unreachable: str | None = None  # why it could not connect to the camera
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        userinfo, _, host_port = parts.netloc.rpartition("@")
        local = f"127.0.0.1:{self._listener.getsockname()[1]}"
        self.url = urlunsplit(
            (self.protocol, f"{userinfo}@{local}" if userinfo else local, parts.path, parts.query, "")
        )
        if self.protocol == "rtsp":
            self.options = {"rtsp_transport": "tcp", "protocol_whitelist": "tcp", "format_whitelist": "rtsp"}
        else:
            self.options = {
                "protocol_whitelist": "http,tcp",
                "format_whitelist": HTTP_FORMATS,
                "max_redirects": "0",
                "headers": f"Host: {host_port}\r\n",
            }
        threading.Thread(target=self._accept, name="camera gate", daemon=True).start()

    def close(self) -> None:
        with self._lock:
            _shut(self._listener)  # wakes the accepting thread (closing alone would not)
            self._listener.close()
            for sock in self._open:
                _shut(sock)

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # closed
            threading.Thread(target=self._relay, args=(client,), name="camera relay", daemon=True).start()

    def _connect(self) -> socket.socket:
        failure: OSError | None = None
        for target in self._targets:  # every one checked: trying the next is as safe as the first
            try:
                sock = socket.create_connection(target, timeout=self._timeout)
                if self._tls:
                    context = ssl.create_default_context()
                    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
                    sock = context.wrap_socket(sock, server_hostname=None if _is_ip(self._host) else self._host)
                sock.settimeout(None)  # FFmpeg's own timeouts end a stalled connection (close() shuts this)
                return sock
            except OSError as exc:
                failure = exc
        self.unreachable = f"cannot connect to the camera ({type(failure).__name__}: {failure})"
        raise ConnectionError(self.unreachable)

    def _relay(self, client: socket.socket) -> None:
        camera = None
        try:
            camera = self._connect()
            with self._lock:
                if self._listener.fileno() < 0:
                    return  # closed meanwhile
                self._open.update((client, camera))
            self._pump(client, camera, RtspReplyCheck() if self.protocol == "rtsp" else HttpReplyCheck())
        except _RefusalError as exc:  # set before the sockets close: FFmpeg's error comes after it
            self.refusal = f"{exc}: refused, as it could lead anywhere; {ADVICE}"
        except OSError:
            pass  # either side went away: FFmpeg reports it
        finally:
            with self._lock:
                self._open.difference_update((client, camera))
            for sock in (client, camera):
                if sock is not None:
                    _shut(sock)
                    sock.close()

    @staticmethod
    def _pump(client: socket.socket, camera: socket.socket, check: HttpReplyCheck | RtspReplyCheck) -> None:
        """Both directions in one thread (a TLS socket must not be read and written from two): FFmpeg's
        bytes go to the camera as they are, the camera's through the check."""
        with selectors.DefaultSelector() as selector:
            selector.register(client, selectors.EVENT_READ)
            selector.register(camera, selectors.EVENT_READ)
            while True:
                pending = isinstance(camera, ssl.SSLSocket) and camera.pending() > 0
                ready = [camera] if pending else [key.fileobj for key, _ in selector.select()]
                for sock in ready:
                    data = sock.recv(65536)
                    if not data:
                        return
                    if sock is client:
                        camera.sendall(data)
                    else:
                        client.sendall(check.feed(data))


@contextlib.contextmanager
def open_camera(url: str, rules: CameraRules, timeout: tuple[float, float]) -> Iterator:
    """The camera's stream as an open PyAV container, every byte of it through a CameraGate. A refusal
    (a redirect, a playlist) raises CameraRefusedError, an unreachable camera ConnectionError, with words
    for the operator rather than FFmpeg's."""
    import av

    gate = CameraGate(url, rules)
    try:
        try:
            container = av.open(gate.url, options=gate.options, timeout=timeout)
        except av.error.FFmpegError as exc:
            gate.close()
            if gate.refusal or gate.unreachable:
                raise _explained(gate) from exc
            if isinstance(exc, av.error.ArgumentError):  # EINVAL: the demuxer found is not on the whitelist
                raise CameraRefusedError(
                    "the camera's stream is not a direct video stream (a playlist such as HLS or DASH, or "
                    f"another indirection, is refused); {ADVICE}"
                ) from exc
            raise
        with container:
            try:
                yield container
            except av.error.FFmpegError as exc:
                if gate.refusal:
                    raise _explained(gate) from exc
                raise
    finally:
        gate.close()


def _explained(gate: CameraGate) -> Exception:
    return CameraRefusedError(gate.refusal) if gate.refusal else ConnectionError(gate.unreachable)


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
