"""Lifecycle through boto3, against a running Coffer server whose lifecycle
days are one second long and whose data-protection clock the Go test moves.

Arguments: --endpoint, --ca, --phase setup|check, --state FILE (setup
writes the version and upload ids there, check reads them).
Prints "ALL OK" after the last check of its phase; any failure raises.
"""
import argparse
import json

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

p = argparse.ArgumentParser()
p.add_argument("--endpoint", required=True)
p.add_argument("--ca", required=True)
p.add_argument("--phase", required=True, choices=["setup", "check"])
p.add_argument("--state", required=True)
args = p.parse_args()

s3 = boto3.client("s3", endpoint_url=args.endpoint, region_name="us-east-1", verify=args.ca,
                  config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
PLAIN, VERS = "boto-lc-plain", "boto-lc-vers"


def expect_error(code, fn, what):
    try:
        fn()
    except ClientError as e:
        got = e.response["Error"]["Code"]
        assert got == code, f"{what}: {got} {e.response['Error'].get('Message')}"
        return e.response["Error"].get("Message", "")
    raise AssertionError(f"{what}: accepted")


def setup():
    s3.create_bucket(Bucket=PLAIN)
    s3.create_bucket(Bucket=VERS)
    s3.put_bucket_versioning(Bucket=VERS, VersioningConfiguration={"Status": "Enabled"})

    # Validation answers, with AWS's messages where they are known.
    msg = expect_error("InvalidRequest", lambda: s3.put_bucket_lifecycle_configuration(
        Bucket=PLAIN, LifecycleConfiguration={"Rules": [{"Status": "Enabled",
            "Filter": {"ObjectSizeLessThan": 0}, "Expiration": {"Days": 1}}]}), "size zero")
    assert msg == "'ObjectSizeLessThan' should be between 1 and 1099511627776000.", msg
    msg = expect_error("InvalidRequest", lambda: s3.put_bucket_lifecycle_configuration(
        Bucket=PLAIN, LifecycleConfiguration={"Rules": [{"Status": "Enabled",
            "Filter": {"And": {"Prefix": "a", "Tags": [{"Key": "k", "Value": "v"}]}},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}]}), "abort with tags")
    assert msg == "AbortIncompleteMultipartUpload cannot be specified with Tags.", msg
    msg = expect_error("InvalidArgument", lambda: s3.put_bucket_lifecycle_configuration(
        Bucket=PLAIN, LifecycleConfiguration={"Rules": [{"Status": "Enabled", "Filter": {},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 0}}]}), "abort zero days")
    assert "positive integer" in msg, msg
    expect_error("MalformedXML", lambda: s3.put_bucket_lifecycle_configuration(
        Bucket=PLAIN, LifecycleConfiguration={"Rules": [{"Status": "Enabled", "Filter": {},
            "Expiration": {"Days": 1, "Date": "2030-01-01T00:00:00Z"}}]}), "days and date")
    expect_error("InvalidArgument", lambda: s3.put_bucket_lifecycle_configuration(
        Bucket=PLAIN, LifecycleConfiguration={"Rules": [{"Status": "Enabled", "Filter": {},
            "Expiration": {"Date": "2030-01-01T10:00:00Z"}}]}), "date not at midnight")
    expect_error("InvalidArgument", lambda: s3.put_bucket_lifecycle_configuration(
        Bucket=PLAIN, TransitionDefaultMinimumObjectSize="tiny",
        LifecycleConfiguration={"Rules": [{"Status": "Enabled", "Filter": {}, "Expiration": {"Days": 1}}]}),
        "bad minimum object size")

    # Plain bucket: tagged objects expire (removed); a rule without an ID
    # gets one; the minimum-object-size setting is kept and echoed.
    r = s3.put_bucket_lifecycle_configuration(
        Bucket=PLAIN, TransitionDefaultMinimumObjectSize="varies_by_storage_class",
        LifecycleConfiguration={"Rules": [
            {"Status": "Enabled", "Filter": {"Tag": {"Key": "ttl", "Value": "short"}}, "Expiration": {"Days": 600}},
            {"ID": "uploads", "Status": "Enabled", "Filter": {"Prefix": ""},
             "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 600}},
        ]})
    assert r.get("TransitionDefaultMinimumObjectSize") == "varies_by_storage_class", r
    got = s3.get_bucket_lifecycle_configuration(Bucket=PLAIN)
    assert got.get("TransitionDefaultMinimumObjectSize") == "varies_by_storage_class", got
    rules = got["Rules"]
    assert len(rules) == 2 and rules[0]["ID"] and rules[1]["ID"] == "uploads", rules
    assert rules[0]["Filter"] == {"Tag": {"Key": "ttl", "Value": "short"}}, rules[0]
    s3.put_object(Bucket=PLAIN, Key="short", Body=b"x", Tagging="ttl=short")
    s3.put_object(Bucket=PLAIN, Key="long", Body=b"x", Tagging="ttl=long")
    upload = s3.create_multipart_upload(Bucket=PLAIN, Key="parts")["UploadId"]
    s3.upload_part(Bucket=PLAIN, Key="parts", UploadId=upload, PartNumber=1, Body=b"p" * 1024)

    # Versioned bucket: noncurrent versions beyond the newest one go.
    s3.put_bucket_lifecycle_configuration(Bucket=VERS, LifecycleConfiguration={"Rules": [
        {"ID": "keep-one", "Status": "Enabled", "Filter": {"ObjectSizeGreaterThan": 0},
         "NoncurrentVersionExpiration": {"NoncurrentDays": 600, "NewerNoncurrentVersions": 1}}]})
    ids = [s3.put_object(Bucket=VERS, Key="doc", Body=f"v{i}".encode())["VersionId"] for i in range(3)]
    with open(args.state, "w") as f:
        json.dump({"rule": rules[0]["ID"], "upload": upload, "versions": ids}, f)


def check():
    with open(args.state) as f:
        st = json.load(f)
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=PLAIN).get("Contents", [])]
    assert keys == ["long"], keys
    uploads = s3.list_multipart_uploads(Bucket=PLAIN).get("Uploads", [])
    assert uploads == [], uploads
    expect_error("NoSuchUpload", lambda: s3.list_parts(Bucket=PLAIN, Key="parts", UploadId=st["upload"]), "aborted upload")
    left = [v["VersionId"] for v in s3.list_object_versions(Bucket=VERS).get("Versions", [])]
    assert sorted(left) == sorted(st["versions"][1:]), (left, st["versions"])
    s3.delete_bucket_lifecycle(Bucket=PLAIN)
    expect_error("NoSuchLifecycleConfiguration", lambda: s3.get_bucket_lifecycle_configuration(Bucket=PLAIN), "deleted")


setup() if args.phase == "setup" else check()
print("ALL OK")
