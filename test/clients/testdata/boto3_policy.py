"""Bucket policies, Block Public Access and cross-account access through
boto3, against a running Coffer server.

Arguments: --endpoint (HTTPS), --plain (plain-HTTP endpoint), --ca, and the
second account's keys in OTHER_ACCESS_KEY_ID / OTHER_SECRET_ACCESS_KEY. The
server must run with --network-endpoint vpce-office=127.0.0.0/8.
Prints "ALL OK" after the last check; any failure raises.
"""
import argparse
import json
import os

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

p = argparse.ArgumentParser()
p.add_argument("--endpoint", required=True)
p.add_argument("--plain", required=True)
p.add_argument("--ca", required=True)
args = p.parse_args()

cfg = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1})


def client(service, endpoint=None, **kw):
    return boto3.client(service, endpoint_url=endpoint or args.endpoint, region_name="us-east-1",
                        verify=args.ca if (endpoint or args.endpoint).startswith("https") else None,
                        config=cfg, **kw)


s3 = client("s3")
sts = client("sts")
account = sts.get_caller_identity()["Account"]


def expect_denied(fn, what):
    try:
        fn()
    except ClientError as e:
        code = e.response["Error"]["Code"]
        assert code == "AccessDenied", f"{what}: {code}"
        return e.response["Error"]["Message"]
    raise AssertionError(f"{what}: not denied")


B = "boto-policy"
s3.create_bucket(Bucket=B)
s3.put_object(Bucket=B, Key="k", Body=b"v")


def get(c=s3):
    return c.get_object(Bucket=B, Key="k")["Body"].read()


def deny(cond):
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "d", "Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{B}/*", "Condition": cond}]})


cases = [
    ("outside an IP range", {"NotIpAddress": {"aws:VpcSourceIp": "10.0.0.0/8"}}, True),
    ("outside a time window", {"DateLessThan": {"aws:CurrentTime": "2099-01-01T00:00:00Z"}}, True),
    ("inside a time window", {"DateGreaterThan": {"aws:CurrentTime": "2099-01-01T00:00:00Z"}}, False),
    ("without MFA", {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}, True),
    ("outside the network endpoint", {"StringNotEquals": {"aws:SourceVpce": "vpce-elsewhere"}}, True),
    ("through the network endpoint", {"StringNotEquals": {"aws:SourceVpce": "vpce-office"}}, False),
]
for name, cond, denied in cases:
    s3.put_bucket_policy(Bucket=B, Policy=deny(cond))
    if denied:
        msg = expect_denied(get, name)
        assert "explicit deny in a resource-based policy" in msg, msg
    else:
        assert get() == b"v", name
    # The owner can always remove a policy that denies it.
    s3.delete_bucket_policy(Bucket=B)
    assert get() == b"v"
    print("OK bucket policy:", name)

# Without TLS: the same request over the plain-HTTP listener is denied.
s3.put_bucket_policy(Bucket=B, Policy=deny({"Bool": {"aws:SecureTransport": "false"}}))
plain = client("s3", endpoint=args.plain)
expect_denied(lambda: get(plain), "without TLS")
assert get() == b"v"
s3.delete_bucket_policy(Bucket=B)
print("OK bucket policy: without TLS")

# Block Public Access (on by default) refuses a public policy and ignores
# public ACLs.
public = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{B}/*"}]})
expect_denied(lambda: s3.put_bucket_policy(Bucket=B, Policy=public), "public policy under BPA")
s3.put_bucket_ownership_controls(Bucket=B, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]})
expect_denied(lambda: s3.put_object_acl(Bucket=B, Key="k", ACL="public-read"), "public ACL under BlockPublicAcls")
print("OK Block Public Access refuses public policies and ACLs")

# Cross-account access through a bucket policy: the other account's root
# gets in once the policy names it.
other = client("s3", aws_access_key_id=os.environ["OTHER_ACCESS_KEY_ID"],
               aws_secret_access_key=os.environ["OTHER_SECRET_ACCESS_KEY"])
other_sts = client("sts", aws_access_key_id=os.environ["OTHER_ACCESS_KEY_ID"],
                   aws_secret_access_key=os.environ["OTHER_SECRET_ACCESS_KEY"])
other_account = other_sts.get_caller_identity()["Account"]
msg = expect_denied(lambda: get(other), "cross-account without a grant")
assert "because" not in msg, "a cross-account denial must not explain itself: " + msg
s3.put_bucket_policy(Bucket=B, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{other_account}:root"},
    "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{B}/*"}]}))
assert get(other) == b"v"
expect_denied(lambda: other.put_object(Bucket=B, Key="x", Body=b"x"), "cross-account write not granted")
print("OK cross-account access through a bucket policy")
print("ALL OK")
