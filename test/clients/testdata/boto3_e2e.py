"""End-to-end check of a Coffer server with boto3, run by TestBoto3.

Usage: python3 boto3_e2e.py --endpoint URL --ca CA.pem --big FILE --workdir DIR

Credentials and region come from the environment (AWS_SHARED_CREDENTIALS_FILE,
AWS_REGION). boto3's defaults are kept on purpose: recent releases send
uploads as aws-chunked bodies with a trailing CRC32, and that is what users'
code will send. Each step prints an "OK" line; the first failed check raises,
which prints a traceback and exits non-zero.
"""

import argparse
import base64
import hashlib
import os
import ssl
import sys
import urllib.request
import zlib

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError

try:
    import requests
except ImportError:  # urllib below does the same, more verbosely
    requests = None

MAIN = "boto-main"
COPY = "boto-copy"
VERS = "boto-versions"
MIB = 1024 * 1024


def check(cond, what, *details):
    if not cond:
        raise AssertionError(what + (": " + " ".join(repr(d) for d in details) if details else ""))


def ok(step):
    print("OK", step, flush=True)


def crc32_b64(data):
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(MIB), b""):
            h.update(block)
    return h.hexdigest()


def error_code(fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except ClientError as e:
        return e.response["Error"]["Code"]
    return None


def http(method, url, ca, data=None):
    """Sends a plain HTTPS request (for presigned URLs); returns (status, body)."""
    if requests is not None:
        r = requests.request(method, url, data=data, verify=ca, timeout=60)
        return r.status_code, r.content
    ctx = ssl.create_default_context(cafile=ca)
    req = urllib.request.Request(url, data=data, method=method)
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=60) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def empty_bucket(s3, bucket):
    """Deletes every object version and delete marker, a page at a time."""
    pages = s3.get_paginator("list_object_versions").paginate(Bucket=bucket)
    for page in pages:
        objs = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
        if objs:
            res = s3.delete_objects(Bucket=bucket, Delete={"Objects": objs, "Quiet": True})
            check(not res.get("Errors"), "delete_objects errors while emptying", res.get("Errors"))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--endpoint", required=True)
    p.add_argument("--ca", required=True)
    p.add_argument("--big", required=True)
    p.add_argument("--workdir", required=True)
    a = p.parse_args()

    print("boto3", boto3.__version__, "python", sys.version.split()[0], "requests",
          requests.__version__ if requests else "absent", flush=True)
    # One attempt only: a retry would hide a server error from the test.
    cfg = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1, "mode": "standard"})
    s3 = boto3.client("s3", endpoint_url=a.endpoint, verify=a.ca, config=cfg,
                      region_name=os.environ.get("AWS_REGION", "us-east-1"))

    # Buckets.
    for b in (MAIN, COPY):
        s3.create_bucket(Bucket=b)
        s3.head_bucket(Bucket=b)
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    check(MAIN in names and COPY in names, "list_buckets", names)
    # us-east-1 keeps S3's legacy answer: re-creating an owned bucket succeeds.
    check(error_code(s3.create_bucket, Bucket=MAIN) is None, "creating an owned bucket again")
    ok("create_bucket, head_bucket, list_buckets")

    # Small objects: bytes and a file object, both with trailing checksums.
    body = b"hello from boto3\n" * 3
    res = s3.put_object(Bucket=MAIN, Key="small.txt", Body=body, ContentType="text/plain",
                        Metadata={"purpose": "e2e"})
    check(res["ETag"] == '"%s"' % hashlib.md5(body).hexdigest(), "put_object ETag", res["ETag"])
    # boto3 1.36 and later send a CRC32 by default, and S3 echoes it.
    if tuple(int(x) for x in boto3.__version__.split(".")[:2]) >= (1, 36):
        check(res.get("ChecksumCRC32") == crc32_b64(body), "put_object CRC32", res.get("ChecksumCRC32"))
    got = s3.get_object(Bucket=MAIN, Key="small.txt", ChecksumMode="ENABLED")
    check(got["Body"].read() == body, "get_object body")
    check(got["ContentType"] == "text/plain", "get_object ContentType", got["ContentType"])
    check(got["Metadata"] == {"purpose": "e2e"}, "get_object Metadata", got["Metadata"])
    check(got["ContentLength"] == len(body), "get_object ContentLength", got["ContentLength"])
    rng = s3.get_object(Bucket=MAIN, Key="small.txt", Range="bytes=6-10")
    check(rng["Body"].read() == body[6:11], "ranged get_object")
    check(rng["ContentRange"] == "bytes 6-10/%d" % len(body), "ContentRange", rng["ContentRange"])
    with open(os.path.join(a.workdir, "fileobj.txt"), "wb+") as f:
        f.write(b"uploaded from a file object\n")
        f.seek(0)
        s3.upload_fileobj(f, MAIN, "fileobj.txt")
    check(s3.get_object(Bucket=MAIN, Key="fileobj.txt")["Body"].read() == b"uploaded from a file object\n",
          "upload_fileobj round trip")
    res = s3.put_object(Bucket=MAIN, Key="sha256.txt", Body=b"sha", ChecksumAlgorithm="SHA256")
    check(res.get("ChecksumSHA256") == base64.b64encode(hashlib.sha256(b"sha").digest()).decode(),
          "put_object SHA256", res.get("ChecksumSHA256"))
    check(error_code(s3.get_object, Bucket=MAIN, Key="absent") == "NoSuchKey", "get_object of a missing key")
    ok("put_object, get_object, ranged get, upload_fileobj, checksums")

    # Big file through the transfer manager: multipart both ways.
    size = os.path.getsize(a.big)
    tc = TransferConfig(multipart_threshold=8 * MIB, multipart_chunksize=8 * MIB, max_concurrency=4)
    s3.upload_file(a.big, MAIN, "big/big.bin", Config=tc)
    head = s3.head_object(Bucket=MAIN, Key="big/big.bin")
    parts = (size + 8 * MIB - 1) // (8 * MIB)
    check(head["ContentLength"] == size, "big ContentLength", head["ContentLength"])
    check(head["ETag"].endswith('-%d"' % parts), "big multipart ETag", head["ETag"])
    down = os.path.join(a.workdir, "big.down")
    s3.download_file(MAIN, "big/big.bin", down, Config=tc)
    check(sha256_file(down) == sha256_file(a.big), "downloaded big file differs")
    os.remove(down)
    ck = s3.head_object(Bucket=MAIN, Key="big/big.bin", ChecksumMode="ENABLED")
    ok("upload_file/download_file multipart (%d parts, CRC32 %s)" % (parts, ck.get("ChecksumCRC32", "none")))

    # Listing: prefix and delimiter, then a paginator.
    for k in ("dir/a.txt", "dir/b.txt", "dir/sub/c.txt", "other/d.txt"):
        s3.put_object(Bucket=MAIN, Key=k, Body=k.encode())
    res = s3.list_objects_v2(Bucket=MAIN, Prefix="dir/", Delimiter="/")
    keys = [o["Key"] for o in res.get("Contents", [])]
    prefixes = [cp["Prefix"] for cp in res.get("CommonPrefixes", [])]
    check(keys == ["dir/a.txt", "dir/b.txt"], "list dir/ keys", keys)
    check(prefixes == ["dir/sub/"], "list dir/ prefixes", prefixes)
    check(res["KeyCount"] == 3, "list dir/ KeyCount", res["KeyCount"])
    res = s3.list_objects_v2(Bucket=MAIN, Delimiter="/")
    prefixes = [cp["Prefix"] for cp in res.get("CommonPrefixes", [])]
    keys = [o["Key"] for o in res.get("Contents", [])]
    check(prefixes == ["big/", "dir/", "other/"], "list / prefixes", prefixes)
    check(keys == ["fileobj.txt", "sha256.txt", "small.txt"], "list / keys", keys)
    page_keys = ["page/%02d" % i for i in range(7)]
    for k in page_keys:
        s3.put_object(Bucket=MAIN, Key=k, Body=b"p")
    pages = list(s3.get_paginator("list_objects_v2").paginate(
        Bucket=MAIN, Prefix="page/", PaginationConfig={"PageSize": 2}))
    check(len(pages) == 4, "paginator page count", len(pages))
    listed = [o["Key"] for pg in pages for o in pg.get("Contents", [])]
    check(listed == page_keys, "paginator keys", listed)
    check(all(pg["IsTruncated"] for pg in pages[:-1]) and not pages[-1]["IsTruncated"], "IsTruncated flags")
    pages = list(s3.get_paginator("list_objects").paginate(
        Bucket=MAIN, Prefix="page/", PaginationConfig={"PageSize": 3}))
    listed = [o["Key"] for pg in pages for o in pg.get("Contents", [])]
    check(len(pages) == 3 and listed == page_keys, "ListObjects v1 paginator", len(pages), listed)
    ok("list_objects_v2 prefix/delimiter, paginators")

    # Copies: metadata kept, metadata replaced, and a multipart copy.
    s3.copy_object(Bucket=COPY, Key="copy.txt", CopySource={"Bucket": MAIN, "Key": "small.txt"})
    h = s3.head_object(Bucket=COPY, Key="copy.txt")
    check(h["Metadata"] == {"purpose": "e2e"} and h["ContentLength"] == len(body), "copy_object COPY", h)
    s3.copy_object(Bucket=COPY, Key="replaced.txt", CopySource={"Bucket": MAIN, "Key": "small.txt"},
                   MetadataDirective="REPLACE", Metadata={"purpose": "replaced"}, ContentType="text/x-new")
    h = s3.head_object(Bucket=COPY, Key="replaced.txt")
    check(h["Metadata"] == {"purpose": "replaced"} and h["ContentType"] == "text/x-new", "copy_object REPLACE", h)
    check(s3.get_object(Bucket=COPY, Key="replaced.txt")["Body"].read() == body, "copied body")
    s3.copy({"Bucket": MAIN, "Key": "big/big.bin"}, COPY, "big.bin", Config=tc)
    h = s3.head_object(Bucket=COPY, Key="big.bin")
    check(h["ContentLength"] == size, "managed copy size", h["ContentLength"])
    tail = s3.get_object(Bucket=COPY, Key="big.bin", Range="bytes=-65536")["Body"].read()
    with open(a.big, "rb") as f:
        f.seek(size - 65536)
        check(tail == f.read(), "managed copy tail differs")
    ok("copy_object (COPY, REPLACE), managed multipart copy")

    # Batch delete, with a key that never existed (S3 reports it deleted).
    res = s3.delete_objects(Bucket=MAIN, Delete={"Objects": [{"Key": k} for k in page_keys + ["page/none"]]})
    deleted = sorted(d["Key"] for d in res.get("Deleted", []))
    check(deleted == sorted(page_keys + ["page/none"]), "delete_objects Deleted", deleted)
    check(not res.get("Errors"), "delete_objects Errors", res.get("Errors"))
    check(s3.list_objects_v2(Bucket=MAIN, Prefix="page/")["KeyCount"] == 0, "keys left after delete_objects")
    ok("delete_objects")

    # Presigned URLs, fetched without boto3. botocore still presigns S3
    # URLs with SigV2 unless SigV4 is asked for; Coffer, like S3 for buckets
    # created since 2020, accepts only SigV4, so users must ask for it.
    url = s3.generate_presigned_url("get_object", Params={"Bucket": MAIN, "Key": "small.txt"}, ExpiresIn=300)
    status, got = http("GET", url, a.ca)
    if "X-Amz-Signature=" in url:
        check(status == 200 and got == body, "default presigned GET", status, got[:200])
    else:
        check(status == 400 and b"AWS4-HMAC-SHA256" in got, "SigV2 presigned GET", status, got[:300])
    v4 = boto3.client("s3", endpoint_url=a.endpoint, verify=a.ca,
                      config=cfg.merge(Config(signature_version="s3v4")),
                      region_name=os.environ.get("AWS_REGION", "us-east-1"))
    url = v4.generate_presigned_url("get_object", Params={"Bucket": MAIN, "Key": "small.txt"}, ExpiresIn=300)
    status, got = http("GET", url, a.ca)
    check(status == 200 and got == body, "presigned GET", status, got[:200])
    url = v4.generate_presigned_url("put_object", Params={"Bucket": MAIN, "Key": "presigned.txt"}, ExpiresIn=300)
    status, got = http("PUT", url, a.ca, data=b"put through a presigned URL")
    check(status == 200, "presigned PUT", status, got[:300])
    check(s3.get_object(Bucket=MAIN, Key="presigned.txt")["Body"].read() == b"put through a presigned URL",
          "presigned PUT content")
    status, _ = http("GET", url, a.ca)
    check(status == 403, "presigned PUT URL used for GET", status)
    ok("presigned GET and PUT")

    # Versioning: two versions, then a delete marker.
    s3.create_bucket(Bucket=VERS)
    s3.put_bucket_versioning(Bucket=VERS, VersioningConfiguration={"Status": "Enabled"})
    check(s3.get_bucket_versioning(Bucket=VERS).get("Status") == "Enabled", "get_bucket_versioning")
    v1 = s3.put_object(Bucket=VERS, Key="doc", Body=b"one")["VersionId"]
    v2 = s3.put_object(Bucket=VERS, Key="doc", Body=b"two!")["VersionId"]
    check(v1 and v2 and v1 != v2, "version ids", v1, v2)
    check(s3.get_object(Bucket=VERS, Key="doc")["Body"].read() == b"two!", "latest version")
    check(s3.get_object(Bucket=VERS, Key="doc", VersionId=v1)["Body"].read() == b"one", "old version")
    res = s3.list_object_versions(Bucket=VERS, Prefix="doc")
    vs = [(v["VersionId"], v["IsLatest"], v["Size"]) for v in res.get("Versions", [])]
    check(vs == [(v2, True, 4), (v1, False, 3)], "versions", vs)
    d = s3.delete_object(Bucket=VERS, Key="doc")
    check(d.get("DeleteMarker") is True and d.get("VersionId"), "delete_object marker", d)
    res = s3.list_object_versions(Bucket=VERS, Prefix="doc")
    dms = [(m["VersionId"], m["IsLatest"]) for m in res.get("DeleteMarkers", [])]
    vs = [(v["VersionId"], v["IsLatest"]) for v in res.get("Versions", [])]
    check(dms == [(d["VersionId"], True)], "delete markers", dms)
    check(vs == [(v2, False), (v1, False)], "versions behind the marker", vs)
    check(error_code(s3.get_object, Bucket=VERS, Key="doc") == "NoSuchKey", "get behind a delete marker")
    check(s3.list_objects_v2(Bucket=VERS)["KeyCount"] == 0, "list behind a delete marker")
    s3.delete_object(Bucket=VERS, Key="doc", VersionId=d["VersionId"])
    check(s3.get_object(Bucket=VERS, Key="doc")["Body"].read() == b"two!", "marker removed")
    ok("versioning, list_object_versions, delete marker")

    # Clean up everything.
    for b in (MAIN, COPY, VERS):
        empty_bucket(s3, b)
        s3.delete_bucket(Bucket=b)
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    check(not {MAIN, COPY, VERS} & set(names), "buckets left", names)
    check(error_code(s3.head_bucket, Bucket=MAIN) in ("404", "NoSuchBucket"), "head_bucket after delete")
    ok("delete_objects of all versions, delete_bucket")
    print("ALL OK", flush=True)


if __name__ == "__main__":
    main()
