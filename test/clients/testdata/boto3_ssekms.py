"""SSE-KMS with KMS key policies, checked with boto3; run by TestBoto3SSEKMSPolicies.

Usage: python3 boto3_ssekms.py --endpoint URL --ca CA.pem --workdir DIR

The account root creates a KMS key and two IAM users allowed all of S3
and KMS. A key policy denying one of them kms:Decrypt stops its
get_object (head_object still works), one denying kms:GenerateDataKey
stops its put_object and managed multipart uploads, and a disabled key
stops everyone with KMS.DisabledException until it is enabled again.
Each step prints an "OK" line; the first failed check raises.
"""

import argparse
import json
import os
import sys

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError

BUCKET = "boto-kms"
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


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--endpoint", required=True)
    p.add_argument("--ca", required=True)
    p.add_argument("--workdir", required=True)
    a = p.parse_args()
    print("boto3", boto3.__version__, "python", sys.version.split()[0], flush=True)
    region = os.environ.get("AWS_REGION", "us-east-1")
    cfg = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1, "mode": "standard"})

    def client(service, creds=None):
        kw = {}
        if creds:
            kw = {"aws_access_key_id": creds[0], "aws_secret_access_key": creds[1]}
        return boto3.client(service, endpoint_url=a.endpoint, verify=a.ca, config=cfg, region_name=region, **kw)

    s3, kms, iam = client("s3"), client("kms"), client("iam")
    acct = client("sts").get_caller_identity()["Account"]
    s3.create_bucket(Bucket=BUCKET)
    key = kms.create_key(Description="boto3 sse-kms")["KeyMetadata"]
    key_id, key_arn = key["KeyId"], key["Arn"]

    users = {}
    for name in ("alice", "bob"):
        iam.create_user(UserName=name)
        iam.put_user_policy(UserName=name, PolicyName="all", PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": ["s3:*", "kms:*"], "Resource": "*"}]}))
        k = iam.create_access_key(UserName=name)["AccessKey"]
        users[name] = client("s3", (k["AccessKeyId"], k["SecretAccessKey"]))
    alice, bob = users["alice"], users["bob"]

    def deny_bob(action):
        return json.dumps({"Version": "2012-10-17", "Statement": [
            {"Sid": "Enable IAM User Permissions", "Effect": "Allow",
             "Principal": {"AWS": "arn:aws:iam::%s:root" % acct}, "Action": "kms:*", "Resource": "*"},
            {"Sid": "Deny bob", "Effect": "Deny", "Principal": {"AWS": "arn:aws:iam::%s:user/bob" % acct},
             "Action": action, "Resource": "*"}]})

    kms_args = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": key_id}
    res = s3.put_object(Bucket=BUCKET, Key="k", Body=b"secret", **kms_args)
    check(res["SSEKMSKeyId"] == key_arn, "put_object key", res.get("SSEKMSKeyId"))
    check(bob.get_object(Bucket=BUCKET, Key="k")["Body"].read() == b"secret", "bob reads before the policy")
    ok("SSE-KMS object readable by both users under the default key policy")

    kms.put_key_policy(KeyId=key_id, PolicyName="default", Policy=deny_bob("kms:Decrypt"))
    code = error(bob.get_object, Bucket=BUCKET, Key="k")
    check(code == ("AccessDenied", 403), "bob's get_object under a Decrypt deny", code)
    check(alice.get_object(Bucket=BUCKET, Key="k")["Body"].read() == b"secret", "alice reads")
    head = bob.head_object(Bucket=BUCKET, Key="k")
    check(head["ServerSideEncryption"] == "aws:kms" and head["SSEKMSKeyId"] == key_arn, "bob's head_object", head)
    ok("key policy denying kms:Decrypt")

    kms.put_key_policy(KeyId=key_id, PolicyName="default", Policy=deny_bob("kms:GenerateDataKey"))
    code = error(bob.put_object, Bucket=BUCKET, Key="b", Body=b"x", **kms_args)
    check(code == ("AccessDenied", 403), "bob's put_object under a GenerateDataKey deny", code)
    code = error(bob.put_object, Bucket=BUCKET, Key="b", Body=b"x", BucketKeyEnabled=True, **kms_args)
    check(code == ("AccessDenied", 403), "bob's put_object with a bucket key", code)
    big = os.path.join(a.workdir, "big.bin")
    with open(big, "wb") as f:
        f.write(os.urandom(6 * MIB))
    tc = TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB)
    try:
        bob.upload_file(big, BUCKET, "mp", ExtraArgs=kms_args, Config=tc)
        raise AssertionError("bob's multipart upload under a GenerateDataKey deny succeeded")
    except boto3.exceptions.S3UploadFailedError as e:
        check("AccessDenied" in str(e), "bob's multipart upload error", str(e))
    alice.upload_file(big, BUCKET, "mp", ExtraArgs=kms_args, Config=tc)
    check(bob.get_object(Bucket=BUCKET, Key="mp")["ContentLength"] == 6 * MIB, "bob reads alice's upload")
    ok("key policy denying kms:GenerateDataKey")

    kms.disable_key(KeyId=key_id)
    for fn, kw in ((s3.put_object, dict(Key="d", Body=b"x", **kms_args)), (s3.get_object, dict(Key="k"))):
        code = error(fn, Bucket=BUCKET, **kw)
        check(code == ("KMS.DisabledException", 400), "disabled key", fn.__name__, code)
    kms.enable_key(KeyId=key_id)
    s3.put_object(Bucket=BUCKET, Key="d", Body=b"x", **kms_args)
    check(s3.get_object(Bucket=BUCKET, Key="k")["Body"].read() == b"secret", "after enable_key")
    ok("disabled key")

    print("ALL OK", flush=True)


if __name__ == "__main__":
    main()
