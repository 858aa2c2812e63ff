"""Server-side encryption check of a Coffer server with boto3, run by TestBoto3SSE.

Usage: python3 boto3_sse.py --endpoint URL --ca CA.pem --workdir DIR

Every SSE mode (SSE-S3, SSE-KMS with and without a bucket key and with an
encryption context, SSE-C) through put_object, get_object, head_object,
ranged reads, copies, managed multipart transfers (upload_file and
download_file with ExtraArgs), and default bucket encryption. Each step
prints an "OK" line; the first failed check raises.
"""

import argparse
import base64
import hashlib
import json
import os
import sys

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError

BUCKET = "boto-sse"
MIB = 1024 * 1024


def check(cond, what, *details):
    if not cond:
        raise AssertionError(what + (": " + " ".join(repr(d) for d in details) if details else ""))


def ok(step):
    print("OK", step, flush=True)


def error(fn, *args, **kwargs):
    """Returns (code, HTTP status) of a failing call, (None, None) if it succeeds."""
    try:
        fn(*args, **kwargs)
    except ClientError as e:
        return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]
    return None, None


SSEC_KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
# boto3 base64-encodes the key and adds its MD5 itself.
SSEC = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": SSEC_KEY}
OTHER = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": OTHER_KEY}
CONTEXT = base64.b64encode(json.dumps({"team": "storage"}).encode()).decode()

MODES = {
    "sse-s3": ({"ServerSideEncryption": "AES256"}, {}),
    "sse-kms": ({"ServerSideEncryption": "aws:kms"}, {}),
    "sse-kms-context": ({"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": "alias/aws/s3",
                         "SSEKMSEncryptionContext": CONTEXT}, {}),
    "sse-kms-bucket-key": ({"ServerSideEncryption": "aws:kms", "BucketKeyEnabled": True}, {}),
    "sse-c": (SSEC, SSEC),
}


def check_headers(name, res, what):
    if name.startswith("sse-c"):
        check(res.get("SSECustomerAlgorithm") == "AES256" and "ServerSideEncryption" not in res,
              what + " SSE-C headers", res.get("SSECustomerAlgorithm"), res.get("ServerSideEncryption"))
        check(res.get("SSECustomerKeyMD5") == base64.b64encode(hashlib.md5(SSEC_KEY).digest()).decode(),
              what + " key MD5", res.get("SSECustomerKeyMD5"))
    elif name.startswith("sse-kms"):
        check(res.get("ServerSideEncryption") == "aws:kms", what + " mode", res.get("ServerSideEncryption"))
        check(res.get("SSEKMSKeyId", "").startswith("arn:aws:kms:"), what + " key ARN", res.get("SSEKMSKeyId"))
        check(bool(res.get("BucketKeyEnabled")) == (name == "sse-kms-bucket-key"), what + " bucket key",
              res.get("BucketKeyEnabled"))
    else:
        check(res.get("ServerSideEncryption") == "AES256", what + " mode", res.get("ServerSideEncryption"))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--endpoint", required=True)
    p.add_argument("--ca", required=True)
    p.add_argument("--workdir", required=True)
    a = p.parse_args()
    print("boto3", boto3.__version__, "python", sys.version.split()[0], flush=True)
    cfg = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1, "mode": "standard"})
    s3 = boto3.client("s3", endpoint_url=a.endpoint, verify=a.ca, config=cfg,
                      region_name=os.environ.get("AWS_REGION", "us-east-1"))

    s3.create_bucket(Bucket=BUCKET)
    enc = s3.get_bucket_encryption(Bucket=BUCKET)["ServerSideEncryptionConfiguration"]["Rules"][0]
    check(enc["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256", "fresh bucket default", enc)
    check(enc.get("BlockedEncryptionTypes", {}).get("EncryptionType") == ["SSE-C"], "fresh bucket blocks SSE-C", enc)
    code, status = error(s3.put_object, Bucket=BUCKET, Key="blocked", Body=b"x", **SSEC)
    check((code, status) == ("AccessDenied", 403), "SSE-C on a new bucket", code, status)
    s3.put_bucket_encryption(Bucket=BUCKET, ServerSideEncryptionConfiguration={"Rules": [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
        "BlockedEncryptionTypes": {"EncryptionType": ["NONE"]}}]})
    ok("get/put_bucket_encryption, SSE-C block")

    body = os.urandom(200 * 1024)
    for name, (put_args, get_args) in MODES.items():
        key = "obj-" + name
        res = s3.put_object(Bucket=BUCKET, Key=key, Body=body, **put_args)
        check_headers(name, res, "put_object " + name)
        if name.startswith("sse-kms"):
            ctx = json.loads(base64.b64decode(res["SSEKMSEncryptionContext"]))
            arn = "arn:aws:s3:::" + BUCKET + ("" if name == "sse-kms-bucket-key" else "/" + key)
            check(ctx.get("aws:s3:arn") == arn, "encryption context", ctx)
            if name == "sse-kms-context":
                check(ctx.get("team") == "storage", "caller context", ctx)
        got = s3.get_object(Bucket=BUCKET, Key=key, **get_args)
        check(got["Body"].read() == body, "get_object " + name)
        check_headers(name, got, "get_object " + name)
        head = s3.head_object(Bucket=BUCKET, Key=key, **get_args)
        check_headers(name, head, "head_object " + name)
        check(head["ContentLength"] == len(body), "head_object length", head["ContentLength"])
        rng = s3.get_object(Bucket=BUCKET, Key=key, Range="bytes=70000-70099", **get_args)
        check(rng["Body"].read() == body[70000:70100], "ranged get " + name)
        ok("put/get/head/range " + name)

    # SSE-C errors.
    code, status = error(s3.get_object, Bucket=BUCKET, Key="obj-sse-c")
    check((code, status) == ("InvalidRequest", 400), "SSE-C get without key", code, status)
    code, status = error(s3.get_object, Bucket=BUCKET, Key="obj-sse-c", **OTHER)
    check((code, status) == ("AccessDenied", 403), "SSE-C get with another key", code, status)
    code, status = error(s3.get_object, Bucket=BUCKET, Key="obj-sse-s3", **SSEC)
    check((code, status) == ("InvalidRequest", 400), "SSE-C key for an SSE-S3 object", code, status)
    code, status = error(s3.put_object, Bucket=BUCKET, Key="x", Body=b"x", ServerSideEncryption="aws:kms",
                         SSEKMSKeyId="alias/missing")
    check((code, status) == ("KMS.NotFoundException", 400), "unknown KMS key", code, status)
    ok("SSE-C and SSE-KMS errors")

    # Copies between modes, source keys via CopySourceSSECustomer*.
    for src, (_, src_get) in MODES.items():
        for dst, (dst_put, dst_get) in MODES.items():
            key = "copy-%s-%s" % (src, dst)
            extra = {}
            if src == "sse-c":
                extra = {"CopySourceSSECustomerAlgorithm": "AES256", "CopySourceSSECustomerKey": SSEC_KEY}
            res = s3.copy_object(Bucket=BUCKET, Key=key, CopySource={"Bucket": BUCKET, "Key": "obj-" + src},
                                 **dst_put, **extra)
            check_headers(dst, res, "copy_object %s to %s" % (src, dst))
            got = s3.get_object(Bucket=BUCKET, Key=key, **dst_get)
            check(got["Body"].read() == body, "copy %s to %s" % (src, dst))
    ok("copy_object between every pair of modes")

    # Managed multipart transfers.
    big = os.path.join(a.workdir, "big.bin")
    with open(big, "wb") as f:
        f.write(os.urandom(12 * MIB + 123))
    with open(big, "rb") as f:
        want = hashlib.sha256(f.read()).hexdigest()
    tc = TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB)
    for name, (put_args, get_args) in MODES.items():
        if "BucketKeyEnabled" in put_args:
            continue  # s3transfer does not pass it on
        key = "mp-" + name
        s3.upload_file(big, BUCKET, key, ExtraArgs=put_args, Config=tc)
        head = s3.head_object(Bucket=BUCKET, Key=key, **get_args)
        check_headers(name, head, "multipart head " + name)
        check(head["ETag"].endswith('-3"'), "multipart ETag", head["ETag"])
        dl = os.path.join(a.workdir, "dl-" + name)
        s3.download_file(BUCKET, key, dl, ExtraArgs=get_args, Config=tc)
        with open(dl, "rb") as f:
            check(hashlib.sha256(f.read()).hexdigest() == want, "download_file " + name)
        ok("upload_file/download_file " + name)

    # Default bucket encryption.
    s3.put_bucket_encryption(Bucket=BUCKET, ServerSideEncryptionConfiguration={"Rules": [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "alias/aws/s3"},
        "BucketKeyEnabled": True}]})
    res = s3.put_object(Bucket=BUCKET, Key="by-default", Body=b"x")
    check(res.get("ServerSideEncryption") == "aws:kms" and res.get("BucketKeyEnabled"), "default SSE-KMS", res)
    s3.delete_bucket_encryption(Bucket=BUCKET)
    res = s3.put_object(Bucket=BUCKET, Key="after-delete", Body=b"x")
    check(res.get("ServerSideEncryption") == "AES256", "after delete_bucket_encryption", res)
    ok("default bucket encryption")

    print("ALL OK", flush=True)


if __name__ == "__main__":
    main()
