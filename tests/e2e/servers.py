"""Servers the upload and refresh tests run on loopback, each on a free port, started and
stopped by the tests themselves:

- S3rver: the s3rver npm package (installed by `ci/services install` into tests/.node).
- Nginx: Debian's nginx with WebDAV PUT, plain and TLS, in its own prefix.
- FakeS3: a small S3 in Python (single PUT, multipart with abort and listing, GET,
  HEAD) that records every request and injects faults on request: a status (500, 503
  with Retry-After, 403...), a connection reset, or a stall.
- JsonServer: canned JSON answers by path (PyPI's and GitHub's APIs).

Nothing here is reached from outside 127.0.0.1."""

import base64
import hashlib
import http.server
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import threading
import time
import urllib.parse
import urllib.request

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NODE_DIR = os.environ.get("SCTPROF_NODE_DIR", os.path.join(ROOT, "tests", ".node"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc=None, what="server", timeout=30):
    """Waits until something listens on port (bounded), or the process died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError("%s exited with %s before listening" % (what, proc.returncode))
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("%s did not listen on port %d" % (what, port))


def stop(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class S3rver:
    """s3rver with one bucket; objects live in self.dir (its file-system store)."""

    def __init__(self, tmp, bucket="bundles"):
        exe = os.path.join(NODE_DIR, "node_modules", ".bin", "s3rver")
        if not os.path.exists(exe):
            pytest.skip("s3rver is not installed: run 'ci/services install'")
        self.dir = os.path.join(tmp, "s3rver")
        os.makedirs(self.dir, exist_ok=True)
        self.bucket = bucket
        self.port = free_port()
        self.endpoint = "http://127.0.0.1:%d" % self.port
        self.log = open(os.path.join(tmp, "s3rver.log"), "w")
        self.proc = subprocess.Popen(
            [exe, "-d", self.dir, "-a", "127.0.0.1", "-p", str(self.port), "--silent",
             "--configure-bucket", bucket], stdout=self.log, stderr=subprocess.STDOUT)
        wait_port(self.port, self.proc, "s3rver")

    def get(self, key):
        with urllib.request.urlopen("%s/%s/%s" % (self.endpoint, self.bucket, key)) as r:
            return r.read()

    def head_size(self, key):
        req = urllib.request.Request("%s/%s/%s" % (self.endpoint, self.bucket, key),
                                     method="HEAD")
        with urllib.request.urlopen(req) as r:
            return int(r.headers["Content-Length"])

    def leftover_uploads(self):
        """Part files of multipart uploads that were neither completed nor aborted."""
        found = []
        for dirpath, _, files in os.walk(self.dir):
            if "uploads" in dirpath.split(os.sep):
                found += [os.path.join(dirpath, f) for f in files]
        return found

    def close(self):
        stop(self.proc)
        self.log.close()


def make_ca_and_cert(tmp):
    """A self-signed CA and a certificate for 127.0.0.1 and localhost signed by it."""
    d = os.path.join(tmp, "pki")
    os.makedirs(d, exist_ok=True)
    p = lambda n: os.path.join(d, n)  # noqa: E731
    run = lambda *a: subprocess.run(a, check=True, capture_output=True)  # noqa: E731
    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        "-subj", "/CN=sctprof test CA", "-keyout", p("ca.key"), "-out", p("ca.pem"))
    run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
        "-keyout", p("server.key"), "-out", p("server.csr"))
    with open(p("ext.cnf"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    run("openssl", "x509", "-req", "-in", p("server.csr"), "-CA", p("ca.pem"),
        "-CAkey", p("ca.key"), "-CAcreateserial", "-days", "2", "-extfile", p("ext.cnf"),
        "-out", p("server.pem"))
    return p("ca.pem"), p("server.pem"), p("server.key")


class Nginx:
    """nginx in the foreground with its own prefix: WebDAV PUT over HTTP and HTTPS."""

    def __init__(self, tmp):
        exe = shutil.which("nginx") or "/usr/sbin/nginx"
        if not os.path.exists(exe):
            pytest.skip("nginx is not installed: run 'ci/services install'")
        self.prefix = os.path.join(tmp, "nginx")
        self.root = os.path.join(self.prefix, "www")
        os.makedirs(os.path.join(self.prefix, "tmp"), exist_ok=True)
        os.makedirs(os.path.join(self.root, "up"), exist_ok=True)
        self.ca, cert, key = make_ca_and_cert(tmp)
        self.port, self.tls_port = free_port(), free_port()
        conf = os.path.join(self.prefix, "nginx.conf")
        t = os.path.join(self.prefix, "tmp")
        with open(conf, "w") as f:
            f.write("""
daemon off;
master_process off;
pid %(p)s/nginx.pid;
error_log %(p)s/error.log info;
events { worker_connections 64; }
http {
    access_log %(p)s/access.log;
    client_body_temp_path %(t)s/body;
    proxy_temp_path %(t)s/proxy;
    fastcgi_temp_path %(t)s/fastcgi;
    uwsgi_temp_path %(t)s/uwsgi;
    scgi_temp_path %(t)s/scgi;
    client_max_body_size 0;
    server {
        listen 127.0.0.1:%(port)d;
        listen 127.0.0.1:%(tls_port)d ssl;
        ssl_certificate %(cert)s;
        ssl_certificate_key %(key)s;
        root %(root)s;
        location /up/ { dav_methods PUT; create_full_put_path on; }
        location /private/ {
            dav_methods PUT; create_full_put_path on;
            auth_basic "sctprof test";
            auth_basic_user_file %(p)s/htpasswd;
        }
    }
}
""" % dict(p=self.prefix, t=t, port=self.port, tls_port=self.tls_port, cert=cert,
           key=key, root=self.root))
        self.log = open(os.path.join(tmp, "nginx.out"), "w")
        self.proc = subprocess.Popen([exe, "-p", self.prefix, "-c", conf, "-e",
                                      os.path.join(self.prefix, "error.log")],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        wait_port(self.port, self.proc, "nginx")
        wait_port(self.tls_port, self.proc, "nginx")

    def set_password(self, user, password):
        h = subprocess.run(["openssl", "passwd", "-apr1", password], check=True,
                           capture_output=True, text=True).stdout.strip()
        with open(os.path.join(self.prefix, "htpasswd"), "w") as f:
            f.write("%s:%s\n" % (user, h))

    def url(self, path, tls=False):
        if tls:
            return "https://127.0.0.1:%d%s" % (self.tls_port, path)
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def close(self):
        stop(self.proc)
        self.log.close()


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class FakeS3:
    """An S3 of one bucket in memory, addressed path-style, that records requests and
    injects faults. A fault is (predicate, action, times): predicate(req) sees a dict
    with method, path, query (dict), headers; action is an int status (with optional
    Retry-After via `retry_after`), "reset" or "stall"."""

    def __init__(self, bucket="bundles"):
        self.bucket = bucket
        self.objects = {}
        self.uploads = {}           # upload id -> {part number: bytes}
        self.requests = []
        self.faults = []
        self.lock = threading.Lock()
        self.stop_event = threading.Event()
        self.aborted = []
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _body(self):
                n = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(n) if n else b""

            def _reply(self, status, body=b"", headers=None):
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _handle(self):
                u = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(u.query, keep_blank_values=True))
                req = dict(method=self.command, path=u.path, query=query, raw_path=self.path,
                           headers={k: v for k, v in self.headers.items()})
                fault = owner._fault(req)
                if fault == "reset":
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                               struct.pack("ii", 1, 0))
                    self.close_connection = True
                    self.connection.close()
                    return
                body = self._body()
                req["body"] = body
                with owner.lock:
                    owner.requests.append(req)
                if fault == "stall":
                    owner.stop_event.wait(60)
                    self.close_connection = True
                    return
                if isinstance(fault, tuple):
                    status, retry_after = fault
                    h = {"Content-Type": "application/xml"}
                    if retry_after is not None:
                        h["Retry-After"] = str(retry_after)
                    code = {500: "InternalError", 503: "SlowDown", 403: "AccessDenied",
                            429: "TooManyRequests"}.get(status, "Error")
                    msg = {403: "Access Denied for key %s" % req["headers"].get(
                        "Authorization", "")}.get(status, "Please reduce your request rate.")
                    self._reply(status, ("<?xml version=\"1.0\"?><Error><Code>%s</Code>"
                                         "<Message>  %s  </Message></Error>"
                                         % (code, msg)).encode(), h)
                    return
                self._s3(req, body)

            def _s3(self, req, body):
                parts = req["path"].lstrip("/").split("/", 1)
                if parts[0] != owner.bucket:
                    return self._reply(404, b"<Error><Code>NoSuchBucket</Code>"
                                       b"<Message>The specified bucket does not exist"
                                       b"</Message></Error>")
                key = urllib.parse.unquote(parts[1]) if len(parts) > 1 else ""
                q, m = req["query"], self.command
                md5 = hashlib.md5(body).hexdigest()
                if m == "PUT" and "uploadId" in q:
                    if q["uploadId"] not in owner.uploads:
                        return self._reply(404, b"<Error><Code>NoSuchUpload</Code></Error>")
                    owner.uploads[q["uploadId"]][int(q["partNumber"])] = body
                    return self._reply(200, b"", {"ETag": '"%s"' % md5})
                if m == "PUT":
                    cmd5 = req["headers"].get("Content-MD5")
                    if cmd5 and base64.b64decode(cmd5) != hashlib.md5(body).digest():
                        return self._reply(400, b"<Error><Code>BadDigest</Code></Error>")
                    owner.objects[key] = body
                    return self._reply(200, b"", {"ETag": '"%s"' % md5})
                if m == "POST" and "uploads" in q:
                    uid = "up%d" % (len(owner.uploads) + len(owner.aborted) + 1)
                    owner.uploads[uid] = {}
                    return self._reply(200, (
                        "<InitiateMultipartUploadResult><Bucket>%s</Bucket><Key>%s</Key>"
                        "<UploadId>%s</UploadId></InitiateMultipartUploadResult>"
                        % (owner.bucket, key, uid)).encode())
                if m == "POST" and "uploadId" in q:
                    parts_ = owner.uploads.pop(q["uploadId"])
                    nums = [int(n) for n in re.findall(rb"<PartNumber>(\d+)</PartNumber>", body)]
                    data = b"".join(parts_[n] for n in nums)
                    owner.objects[key] = data
                    etag = hashlib.md5(b"".join(hashlib.md5(parts_[n]).digest()
                                                for n in nums)).hexdigest()
                    etag += "-%d" % len(nums)
                    owner.etags = getattr(owner, "etags", {})
                    owner.etags[key] = etag
                    return self._reply(200, (
                        "<CompleteMultipartUploadResult><ETag>&quot;%s&quot;</ETag>"
                        "</CompleteMultipartUploadResult>" % etag).encode())
                if m == "DELETE" and "uploadId" in q:
                    owner.uploads.pop(q["uploadId"], None)
                    owner.aborted.append(q["uploadId"])
                    return self._reply(204)
                if m in ("GET", "HEAD") and key in owner.objects:
                    data = owner.objects[key]
                    etag = getattr(owner, "etags", {}).get(key, hashlib.md5(data).hexdigest())
                    if m == "HEAD":
                        self.send_response(200)
                        self.send_header("ETag", '"%s"' % etag)
                        self.send_header("Content-Length", str(len(data)))
                        self.end_headers()
                        return
                    return self._reply(200, data, {"ETag": '"%s"' % etag})
                return self._reply(404, b"<Error><Code>NoSuchKey</Code></Error>")

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.endpoint = "http://127.0.0.1:%d" % self.port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def fault(self, predicate, action, times=1, retry_after=None):
        """Injects action for the next `times` requests matching predicate."""
        if isinstance(action, int):
            action = (action, retry_after)
        with self.lock:
            self.faults.append([predicate, action, times])

    def _fault(self, req):
        with self.lock:
            for f in self.faults:
                if f[2] > 0 and f[0](req):
                    f[2] -= 1
                    return f[1]
        return None

    def close(self):
        self.stop_event.set()
        self.server.shutdown()
        self.server.server_close()


class JsonServer:
    """Answers GET PATH with routes[PATH] (an object, dumped as JSON, or (status, obj));
    404 otherwise. Records the paths asked."""

    def __init__(self, routes):
        self.routes = routes
        self.asked = []
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_GET(self):
                owner.asked.append(self.path)
                r = owner.routes.get(self.path)
                status, obj = (r if isinstance(r, tuple) else (200, r)) if r is not None \
                    else (404, {"message": "Not Found"})
                body = json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = "http://127.0.0.1:%d" % self.port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
