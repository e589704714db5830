"""`sctprof upload`: bundles to S3 (s3rver, and a recording fake S3 for what s3rver does
not do: signature checks, aborts, faults) and to HTTP(S) PUT targets (nginx WebDAV)."""

import hashlib
import json
import os
import pty
import select
import subprocess

import pytest

from conftest import SCTPROF, clean_env, run
from servers import FakeS3, Nginx, S3rver, free_port

KEY_ID = "AKIASCTPROFTESTKEY01"
SECRET = "sctprof-test-secret-9f8e7d6c5b4a"
TOKEN = "sctprof-session-token-0a1b2c3d4e5f"
REGION = "eu-north-1"


def aws_env(home, **extra):
    env = clean_env(HOME=str(home), AWS_ACCESS_KEY_ID=KEY_ID, AWS_SECRET_ACCESS_KEY=SECRET,
                    AWS_REGION=REGION)
    for k in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_DEFAULT_REGION",
              "http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        env.pop(k, None)
    env.update(extra)
    return env


def make_file(path, size, seed=b"sctprof"):
    """A file of size bytes that differs in every MiB (so misplaced parts show)."""
    block = hashlib.sha256(seed).digest() * 32768          # 1 MiB
    with open(path, "wb") as f:
        i = 0
        while size > 0:
            chunk = (i.to_bytes(8, "big") + block)[:min(size, len(block))]
            f.write(chunk)
            size -= len(chunk)
            i += 1
    return str(path)


def record(bundle):
    with open(os.path.join(os.path.dirname(bundle), "upload.json")) as f:
        return {e["bundle"]: e for e in json.load(f)["uploads"]}[os.path.basename(bundle)]


def s3rver_env(home, **extra):
    """s3rver knows one account, S3RVER:S3RVER."""
    return aws_env(home, AWS_ACCESS_KEY_ID="S3RVER", AWS_SECRET_ACCESS_KEY="S3RVER", **extra)


@pytest.fixture
def s3rver(tmp_path):
    s = S3rver(str(tmp_path))
    yield s
    s.close()


@pytest.fixture
def fake_s3():
    s = FakeS3()
    yield s
    s.close()


@pytest.fixture
def nginx(tmp_path):
    n = Nginx(str(tmp_path))
    yield n
    n.close()


# --- S3: s3rver ----------------------------------------------------------------------

def test_s3rver_single_put_round_trip(tmp_path, s3rver):
    bundle = make_file(tmp_path / "20261127T101500Z-memory-1a2b3c4d.tar.zst", 3 * 1024 * 1024 + 17)
    p = run(["upload", "--endpoint", s3rver.endpoint, bundle, "s3://bundles/sct/runs/"],
            env=s3rver_env(tmp_path), check=0)
    key = "sct/runs/20261127T101500Z-memory-1a2b3c4d.tar.zst"
    assert p.stdout == "s3://bundles/%s\n" % key
    assert s3rver.get(key) == open(bundle, "rb").read()
    rec = record(bundle)
    assert rec["url"] == "s3://bundles/" + key
    assert rec["http_url"] == "%s/bundles/%s" % (s3rver.endpoint, key)
    assert rec["size"] == os.path.getsize(bundle) and rec["parts"] == 0
    assert rec["checksum"] == "md5:" + hashlib.md5(open(bundle, "rb").read()).hexdigest()
    assert "uploaded '%s'" % bundle in p.stderr


def test_s3rver_multipart_round_trip(tmp_path, s3rver):
    bundle = make_file(tmp_path / "big.tar.zst", 23 * 1024 * 1024 + 5)
    p = run(["upload", "--endpoint", s3rver.endpoint, "--multipart-threshold", "8",
             "--part-size", "5", "--parallel", "3", bundle, "s3://bundles/x/y.tar.zst"],
            env=s3rver_env(tmp_path), check=0)
    assert p.stdout == "s3://bundles/x/y.tar.zst\n"
    assert s3rver.get("x/y.tar.zst") == open(bundle, "rb").read()
    rec = record(bundle)
    assert rec["parts"] == 5 and rec["part_size"] == 5 * 1024 * 1024
    assert rec["checksum"].startswith("md5-of-parts:") and rec["checksum"].endswith("-5")
    assert "5 parts" in p.stderr
    assert s3rver.leftover_uploads() == []


def test_s3rver_endpoint_from_environment_and_odd_key(tmp_path, s3rver):
    bundle = make_file(tmp_path / "run a+b.tar.zst", 1000)
    p = run(["upload", bundle, "s3://bundles/with space/"],
            env=s3rver_env(tmp_path, AWS_ENDPOINT_URL=s3rver.endpoint), check=0)
    assert p.stdout == "s3://bundles/with space/run a+b.tar.zst\n"
    assert s3rver.get("with%20space/run%20a%2Bb.tar.zst") == open(bundle, "rb").read()


# --- S3: what the fake S3 can show ---------------------------------------------------

def signature_errors(req, region, token):
    """Recomputes the request's SigV4 signature with botocore; returns what differs."""
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    h = req["headers"]
    auth = h["Authorization"]
    algo, rest = auth.split(" ", 1)
    fields = dict(kv.strip().split("=", 1) for kv in rest.split(","))
    signed = fields["SignedHeaders"].split(";")
    errors = []
    if algo != "AWS4-HMAC-SHA256":
        errors.append("algorithm " + algo)
    need = {"host", "x-amz-date", "x-amz-content-sha256", "x-amz-security-token"}
    if req["body"]:
        need.add("content-md5")
    if not need <= set(signed):
        errors.append("unsigned: %s" % (need - set(signed)))
    if h["x-amz-content-sha256"] != hashlib.sha256(req["body"]).hexdigest():
        errors.append("payload hash")
    by_lower = {k.lower(): v for k, v in h.items()}
    headers = {k: by_lower[k] for k in signed}
    r = AWSRequest(method=req["method"], url="http://%s%s" % (by_lower["host"], req["raw_path"]),
                   headers=headers, data=req["body"])
    r.context["timestamp"] = by_lower["x-amz-date"]
    signer = S3SigV4Auth(Credentials(KEY_ID, SECRET, token), "s3", region)
    canonical = signer.canonical_request(r)
    want = signer.signature(signer.string_to_sign(r, canonical), r)
    if fields["Signature"] != want:
        errors.append("signature %s != %s for\n%s" % (fields["Signature"], want, canonical))
    if not fields["Credential"].startswith("%s/%s/%s/s3/aws4_request"
                                           % (KEY_ID, by_lower["x-amz-date"][:8], region)):
        errors.append("credential scope " + fields["Credential"])
    return errors


def test_sigv4_signatures_match_botocore(tmp_path, fake_s3):
    pytest.importorskip("botocore")
    small = make_file(tmp_path / "small.tar.zst", 2000)
    big = make_file(tmp_path / "big.tar.zst", 11 * 1024 * 1024)
    env = aws_env(tmp_path, AWS_SESSION_TOKEN=TOKEN)
    run(["upload", "--endpoint", fake_s3.endpoint, small, "s3://bundles/p/"], env=env, check=0)
    run(["upload", "--endpoint", fake_s3.endpoint, "--multipart-threshold", "6",
         "--part-size", "5", big, "s3://bundles/p/"], env=env, check=0)
    kinds = {(r["method"], tuple(sorted(r["query"]))) for r in fake_s3.requests}
    assert kinds == {("PUT", ()), ("HEAD", ()), ("POST", ("uploads",)),
                     ("PUT", ("partNumber", "uploadId")), ("POST", ("uploadId",))}
    for req in fake_s3.requests:
        assert req["headers"]["x-amz-security-token"] == TOKEN
        assert signature_errors(req, REGION, TOKEN) == [], req["raw_path"]
    assert fake_s3.objects["p/big.tar.zst"] == open(big, "rb").read()


def test_multipart_failure_aborts_the_upload(tmp_path, fake_s3):
    big = make_file(tmp_path / "big.tar.zst", 16 * 1024 * 1024)
    fake_s3.fault(lambda r: r["query"].get("partNumber") == "2", 403)
    p = run(["upload", "--endpoint", fake_s3.endpoint, "--multipart-threshold", "6",
             "--part-size", "5", "--parallel", "1", big, "s3://bundles/p/"],
            env=aws_env(tmp_path), check=76)
    assert "PUT part 2 refused: HTTP 403 AccessDenied: Access Denied for key" in p.stderr
    assert "(multipart upload aborted)" in p.stderr
    assert fake_s3.aborted == ["up1"] and fake_s3.uploads == {}
    assert "p/big.tar.zst" not in fake_s3.objects
    assert KEY_ID not in p.stderr and SECRET not in p.stderr
    assert p.stdout == ""
    assert not os.path.exists(tmp_path / "upload.json")


def test_multipart_retries_a_failed_part(tmp_path, fake_s3):
    big = make_file(tmp_path / "big.tar.zst", 12 * 1024 * 1024)
    fake_s3.fault(lambda r: r["query"].get("partNumber") == "3", 500, times=2)
    run(["upload", "--endpoint", fake_s3.endpoint, "--multipart-threshold", "6",
         "--part-size", "5", big, "s3://bundles/p/"], env=aws_env(tmp_path), check=0)
    assert fake_s3.objects["p/big.tar.zst"] == open(big, "rb").read()
    assert record(big)["retries"] == 2
    assert [r["query"]["partNumber"] for r in fake_s3.requests
            if "partNumber" in r["query"]].count("3") == 3


@pytest.mark.parametrize("action,extra,log", [
    (500, {}, "HTTP 500 InternalError"),
    (503, {"retry_after": 1}, "retrying in 1.0 s (Retry-After)"),
    (429, {}, "HTTP 429 TooManyRequests"),
    ("reset", {}, "attempt 1 failed"),
    ("stall", {}, "no progress for 1 s"),
])
def test_retries_then_succeeds(tmp_path, fake_s3, action, extra, log):
    f = make_file(tmp_path / "b.tar.zst", 100000)
    fake_s3.fault(lambda r: r["method"] == "PUT", action, **extra)
    p = run(["-v", "upload", "--endpoint", fake_s3.endpoint, "--stall-timeout", "1", f,
             "s3://bundles/r/"], env=aws_env(tmp_path), check=0)
    assert log in p.stderr
    assert fake_s3.objects["r/b.tar.zst"] == open(f, "rb").read()
    assert record(f)["retries"] == 1


def test_gives_up_with_the_servers_message(tmp_path, fake_s3):
    f = make_file(tmp_path / "b.tar.zst", 1000)
    fake_s3.fault(lambda r: True, 500, times=100)
    p = run(["upload", "--endpoint", fake_s3.endpoint, "--attempts", "3", f,
             "s3://bundles/r/"], env=aws_env(tmp_path), check=75)
    assert p.stderr.strip().splitlines()[-1] == (
        "sctprof: 's3://bundles/r/b.tar.zst': PUT gave up after 3 attempts: "
        "HTTP 500 InternalError: Please reduce your request rate.")
    assert len(fake_s3.requests) == 3


def test_retry_after_beyond_the_budget_gives_up(tmp_path, fake_s3):
    f = make_file(tmp_path / "b.tar.zst", 1000)
    fake_s3.fault(lambda r: True, 503, retry_after=3600)
    p = run(["upload", "--endpoint", fake_s3.endpoint, "--retry-max-time", "60", f,
             "s3://bundles/r/"], env=aws_env(tmp_path), check=75)
    assert "Retry-After: 3600 s more would exceed --retry-max-time 60 s" in p.stderr
    assert len(fake_s3.requests) == 1


def test_client_error_fails_at_once(tmp_path, fake_s3):
    f = make_file(tmp_path / "b.tar.zst", 1000)
    p = run(["upload", "--endpoint", fake_s3.endpoint, f, "s3://nosuchbucket/r/"],
            env=aws_env(tmp_path), check=76)
    assert p.stderr == ("sctprof: 's3://nosuchbucket/r/b.tar.zst': PUT refused: HTTP 404 "
                        "NoSuchBucket: The specified bucket does not exist\n")
    assert len(fake_s3.requests) == 1


def test_unreachable_is_a_temporary_failure(tmp_path):
    f = make_file(tmp_path / "b.tar.zst", 1000)
    p = run(["upload", "--endpoint", "http://127.0.0.1:%d" % free_port(), "--attempts", "2",
             f, "s3://bundles/r/"], env=aws_env(tmp_path), check=75)
    assert "gave up after 2 attempts" in p.stderr and "onnect" in p.stderr


def test_credentials_from_a_profile(tmp_path, fake_s3):
    f = make_file(tmp_path / "b.tar.zst", 1000)
    aws = tmp_path / ".aws"
    aws.mkdir()
    (aws / "credentials").write_text(
        "[default]\naws_access_key_id = nope\naws_secret_access_key = nope\n\n"
        "[ci]\naws_access_key_id = %s\naws_secret_access_key = %s\n" % (KEY_ID, SECRET))
    (aws / "config").write_text("[profile ci]\nregion = ap-south-2\n")
    env = aws_env(tmp_path, AWS_PROFILE="ci")
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"):
        env.pop(k)
    run(["upload", "--endpoint", fake_s3.endpoint, f, "s3://bundles/r/"], env=env, check=0)
    assert signature_errors(fake_s3.requests[0], "ap-south-2", None) == [
        "unsigned: {'x-amz-security-token'}"]


def test_usage_and_input_errors(tmp_path):
    f = make_file(tmp_path / "b.tar.zst", 10)
    env = aws_env(tmp_path)
    p = run(["upload", str(tmp_path / "missing.tar.zst"), "s3://b/p/"], env=env, check=66)
    assert "missing.tar.zst" in p.stderr
    run(["upload", f, "ftp://host/x"], env=env, check=64)
    run(["upload", f], env=env, check=64)
    run(["upload", "--parallel", "0", f, "s3://b/"], env=env, check=64)
    env.pop("AWS_ACCESS_KEY_ID")
    env.pop("AWS_SECRET_ACCESS_KEY")
    p = run(["upload", f, "s3://b/p/"], env=env, check=78)
    assert "no AWS credentials" in p.stderr


# --- HTTP(S) PUT: nginx WebDAV --------------------------------------------------------

def test_http_put_to_a_folder_url(tmp_path, nginx):
    f = make_file(tmp_path / "run.tar.zst", 5 * 1024 * 1024 + 3)
    p = run(["upload", f, nginx.url("/up/ci/")], env=aws_env(tmp_path), check=0)
    assert p.stdout == nginx.url("/up/ci/run.tar.zst") + "\n"
    assert open(os.path.join(nginx.root, "up", "ci", "run.tar.zst"), "rb").read() == \
        open(f, "rb").read()
    assert record(f)["url"] == nginx.url("/up/ci/run.tar.zst")


def test_https_put_with_cacert(tmp_path, nginx):
    f = make_file(tmp_path / "run.tar.zst", 70 * 1024)
    p = run(["upload", "--cacert", nginx.ca, f, nginx.url("/up/tls.tar.zst", tls=True)],
            env=aws_env(tmp_path), check=0)
    assert p.stdout == nginx.url("/up/tls.tar.zst", tls=True) + "\n"
    assert open(os.path.join(nginx.root, "up", "tls.tar.zst"), "rb").read() == \
        open(f, "rb").read()


def test_https_unknown_ca_is_refused(tmp_path, nginx):
    f = make_file(tmp_path / "run.tar.zst", 1000)
    p = run(["upload", f, nginx.url("/up/tls.tar.zst", tls=True)], env=aws_env(tmp_path),
            check=76)
    assert "TLS certificate verification failed (give the CA with --cacert)" in p.stderr
    assert not os.path.exists(os.path.join(nginx.root, "up", "tls.tar.zst"))
    p = run(["upload", "--insecure", f, nginx.url("/up/tls.tar.zst", tls=True)],
            env=aws_env(tmp_path), check=0)
    assert "warning: --insecure" in p.stderr


def test_http_refusal_names_the_status(tmp_path, nginx):
    f = make_file(tmp_path / "run.tar.zst", 1000)
    p = run(["upload", f, nginx.url("/private/x.tar.zst")], env=aws_env(tmp_path), check=76)
    assert "PUT refused: HTTP 401: 401 Authorization Required" in p.stderr


# --- Progress -------------------------------------------------------------------------

def run_on_pty(args, env):
    """Runs sctprof with stderr on a terminal; returns (status, what the terminal got)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([SCTPROF] + args, env=env, stdout=subprocess.PIPE,
                            stderr=slave, stdin=subprocess.DEVNULL)
    os.close(slave)
    out = b""
    while True:
        r, _, _ = select.select([master], [], [], 60)
        if not r:
            break
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    proc.wait(timeout=60)
    return proc.returncode, out.decode(errors="replace")


def test_progress_on_a_terminal_is_cleared(tmp_path, fake_s3):
    f = make_file(tmp_path / "b.tar.zst", 300000)
    # The server asks for a 2-second pause, long enough for a progress line.
    fake_s3.fault(lambda r: r["method"] == "PUT", 503, retry_after=2)
    status, term = run_on_pty(["upload", "--endpoint", fake_s3.endpoint, f, "s3://bundles/t/"],
                              aws_env(tmp_path))
    assert status == 0, term
    assert "uploading " in term and "/ 293.0 KiB" in term and ", 1 retry)" in term
    last = term.rindex("uploading ")
    assert "\r\x1b[K" in term[last:], "progress line not cleared"
    assert "uploaded '%s'" % f in term[last:]


def test_no_progress_line_when_not_a_terminal(tmp_path, fake_s3):
    f = make_file(tmp_path / "b.tar.zst", 300000)
    fake_s3.fault(lambda r: r["method"] == "PUT", 503, retry_after=2)
    p = run(["upload", "--endpoint", fake_s3.endpoint, f, "s3://bundles/t/"],
            env=aws_env(tmp_path), check=0)
    assert "\r" not in p.stderr and "uploading" not in p.stderr
    assert p.stderr.startswith("sctprof: uploaded '%s': 293.0 KiB in " % f)


# --- sctprof run --upload -------------------------------------------------------------

def test_run_uploads_its_bundle_and_keeps_the_tests_status(tmp_path, fake_s3):
    out = tmp_path / "out"
    p = run(["run", "-o", str(out), "--upload", "s3://bundles/runs/", "--upload-endpoint",
             fake_s3.endpoint, "--", "/usr/bin/python3", "-c", "raise SystemExit(3)"],
            env=aws_env(tmp_path), check=3)
    bundles = [f for f in os.listdir(out) if f.endswith(".tar.zst")]
    assert len(bundles) == 1
    key = "runs/" + bundles[0]
    assert p.stdout.strip().splitlines()[-1] == "s3://bundles/" + key
    assert fake_s3.objects[key] == open(out / bundles[0], "rb").read()
    assert record(str(out / bundles[0]))["url"] == "s3://bundles/" + key


def test_run_upload_failure_is_sctprofs_status_when_the_test_passed(tmp_path, fake_s3):
    out = tmp_path / "out"
    fake_s3.fault(lambda r: True, 403)
    p = run(["run", "-o", str(out), "--upload", "s3://bundles/runs/", "--upload-endpoint",
             fake_s3.endpoint, "--", "/usr/bin/python3", "-c", "pass"],
            env=aws_env(tmp_path), check=76)
    assert "PUT refused: HTTP 403 AccessDenied" in p.stderr
    assert [f for f in os.listdir(out) if f.endswith(".tar.zst")], "the bundle is kept"
    run(["run", "-o", str(out), "--no-archive", "--upload", "s3://b/", "--",
         "/usr/bin/python3", "-c", "pass"], env=aws_env(tmp_path), check=64)


def test_interrupt_aborts_the_multipart_upload(tmp_path, fake_s3):
    import signal
    import time
    big = make_file(tmp_path / "big.tar.zst", 12 * 1024 * 1024)
    fake_s3.fault(lambda r: r["query"].get("partNumber") == "2", "stall")
    proc = subprocess.Popen([SCTPROF, "upload", "--endpoint", fake_s3.endpoint,
                             "--multipart-threshold", "6", "--part-size", "5", "--parallel", "1",
                             big, "s3://bundles/i/"], env=aws_env(tmp_path),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not any(r["query"].get("partNumber") == "2" for r in fake_s3.requests):
        assert time.monotonic() < deadline and proc.poll() is None, "part 2 never arrived"
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "upload cancelled (multipart upload aborted)" in err
    assert fake_s3.aborted == ["up1"] and fake_s3.uploads == {}
