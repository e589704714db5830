"""No secret leaves sctprof: every output stream, --verbose trace (libcurl's headers
included), error message and written file of a set of uploads that succeed, retry and
fail is searched for the access key, secret key, session token, URL password and
presigned-URL signature values, and none may be there."""

import os

import pytest

from conftest import run
from servers import FakeS3, Nginx
from test_upload import KEY_ID, SECRET, TOKEN, aws_env, make_file

PASSWORD = "sctprof-url-pass-7d3f1c"
SIGNATURE = "5e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f"
PRESIGN_CREDENTIAL = "ASIAPRESIGNEDKEY0042"
PRESIGN_TOKEN = "presigned-session-token-99aa88bb77cc"


@pytest.fixture
def servers(tmp_path):
    s3, nginx = FakeS3(), Nginx(str(tmp_path / "srv"))
    nginx.set_password("ci", PASSWORD)
    yield s3, nginx
    s3.close()
    nginx.close()


def test_no_secret_in_any_output_or_file(tmp_path, servers):
    s3, nginx = servers
    out = tmp_path / "out"
    out.mkdir()
    small = make_file(out / "small.tar.zst", 5000)
    big = make_file(out / "big.tar.zst", 11 * 1024 * 1024)
    env = aws_env(tmp_path, AWS_SESSION_TOKEN=TOKEN)
    results = []

    def sctprof(args, status):
        p = run(["-v", "upload"] + args, env=env, check=status)
        results.append(p)

    ep = ["--endpoint", s3.endpoint]
    s3.fault(lambda r: r["method"] == "PUT" and not r["query"], 500)
    sctprof(ep + [small, "s3://bundles/a/"], 0)                              # retried
    sctprof(ep + ["--multipart-threshold", "6", "--part-size", "5", big,
                  "s3://bundles/a/"], 0)                                    # multipart
    s3.fault(lambda r: True, 403)                                           # echoes the key
    sctprof(ep + [small, "s3://bundles/b/"], 76)
    s3.fault(lambda r: r["query"].get("partNumber") == "2", 403)
    sctprof(ep + ["--multipart-threshold", "6", "--part-size", "5", big,
                  "s3://bundles/c/"], 76)                                   # aborted

    auth_url = "http://ci:%s@127.0.0.1:%d/private/" % (PASSWORD, nginx.port)
    sctprof([small, auth_url], 0)
    sctprof([small, auth_url.replace(PASSWORD, PASSWORD + "-wrong")], 76)
    presigned = nginx.url("/up/presigned.tar.zst") + (
        "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=%s%%2F20261127%%2Feu-north-1"
        "%%2Fs3%%2Faws4_request&X-Amz-Date=20261127T101500Z&X-Amz-Expires=3600"
        "&X-Amz-SignedHeaders=host&X-Amz-Security-Token=%s&X-Amz-Signature=%s"
        % (PRESIGN_CREDENTIAL, PRESIGN_TOKEN, SIGNATURE))
    sctprof([small, presigned], 0)
    sctprof([small, presigned.replace("/up/", "/nowhere/")], 76)

    # The uploads did happen, so the search below looked at real traces.
    assert os.path.exists(os.path.join(nginx.root, "private", "small.tar.zst"))
    assert os.path.exists(os.path.join(nginx.root, "up", "presigned.tar.zst"))
    assert any("Authorization: ***" in p.stderr for p in results)
    assert any("x-amz-security-token: ***" in p.stderr for p in results)
    assert any("X-Amz-Signature=***" in p.stderr for p in results)

    secrets = [KEY_ID, SECRET, TOKEN, PASSWORD, SIGNATURE, PRESIGN_CREDENTIAL, PRESIGN_TOKEN]
    texts = {"stdout/stderr of %d: %s" % (i, " ".join(p.args[1:4])): p.stdout + p.stderr
             for i, p in enumerate(results)}
    for dirpath, _, files in os.walk(out):
        for name in files:
            path = os.path.join(dirpath, name)
            if name.endswith(".tar.zst"):
                continue        # the uploaded bundles themselves
            with open(path, errors="replace") as f:
                texts[path] = f.read()
    assert "upload.json" in " ".join(texts)
    leaks = [(where, s) for where, text in texts.items() for s in secrets if s in text]
    assert leaks == []
