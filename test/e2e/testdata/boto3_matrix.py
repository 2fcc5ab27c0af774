"""The client matrix's boto3 script: boto3 with its default settings.

Usage: boto3_matrix.py PHASE ENDPOINT ACCESS SECRET BUCKET SRC DST
  put:    create BUCKET, upload every file under SRC (upload_file: s3transfer,
          multipart above 8 MiB), read each back with get_object (botocore's
          default response validation) and download_file into DST, list with
          the list_objects_v2 paginator, print "presigned KEY URL" lines.
  delete: delete_objects of every key, then the bucket.
Nothing but the endpoint, keys, region and path-style addressing is set:
request_checksum_calculation and response_checksum_validation keep their
defaults (when_supported on botocore >= 1.36). Prints "ok STEP" per step and
"ALL OK" at the end; exits non-zero on the first failure.
"""
import hashlib
import os
import re
import sys

import boto3
import botocore
from botocore.client import Config

phase, endpoint, access, secret, bucket, src, dst = sys.argv[1:8]
s3 = boto3.client(
    "s3",
    endpoint_url=endpoint,
    aws_access_key_id=access,
    aws_secret_access_key=secret,
    region_name="us-east-1",
    config=Config(s3={"addressing_style": "path"}),
)
print("botocore", botocore.__version__, flush=True)


def step(name):
    print("ok", name, flush=True)


def local_keys():
    keys = []
    for root, _, files in os.walk(src):
        for f in files:
            keys.append(os.path.relpath(os.path.join(root, f), src).replace(os.sep, "/"))
    return sorted(keys)


def sha256_stream(read):
    h = hashlib.sha256()
    while True:
        chunk = read(1 << 20)
        if not chunk:
            return h.hexdigest()
        h.update(chunk)


def sha256_file(path):
    with open(path, "rb") as f:
        return sha256_stream(f.read)


# botocore >= 1.36 sends a CRC32 with every upload by default; older ones none.
checksums_by_default = "request_checksum_calculation" in Config.OPTION_DEFAULTS


def check_stored_checksum(key):
    """The CRC32 S3 keeps: FULL_OBJECT for a single PUT, COMPOSITE ("...-N")
    for upload_file's parts (s3transfer asks no full-object checksum)."""
    h = s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    multipart = os.path.getsize(os.path.join(src, key)) >= 8 << 20
    value, kind = h.get("ChecksumCRC32", ""), h.get("ChecksumType")
    pattern = r"[A-Za-z0-9+/]+=*-\d+" if multipart else r"[A-Za-z0-9+/]+=*"
    assert re.fullmatch(pattern, value), f"head_object {key}: ChecksumCRC32 {value!r}"
    assert kind == ("COMPOSITE" if multipart else "FULL_OBJECT"), f"head_object {key}: ChecksumType {kind}"


def put_phase():
    keys = local_keys()
    s3.create_bucket(Bucket=bucket)
    step("create_bucket")
    for key in keys:
        s3.upload_file(os.path.join(src, key), bucket, key)
    step("upload_file")
    if checksums_by_default:
        for key in keys:
            check_stored_checksum(key)
        step("head_object checksum")
    for key in keys:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"]
        got, want = sha256_stream(body.read), sha256_file(os.path.join(src, key))
        assert got == want, f"get_object {key}: sha256 {got}, uploaded {want}"
    step("get_object")
    for key in keys:
        out = os.path.join(dst, key)
        os.makedirs(os.path.dirname(out), exist_ok=True)
        s3.download_file(bucket, key, out)
    step("download_file")
    listed = []
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, PaginationConfig={"PageSize": 2})
    for page in pages:
        assert page["KeyCount"] <= 2, page
        listed += [o["Key"] for o in page.get("Contents", [])]
    assert listed == keys, f"listed {listed}, uploaded {keys}"
    step("list_objects_v2")
    for key in keys:
        url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=600)
        print("presigned", key, url, flush=True)
    step("generate_presigned_url")


def delete_phase():
    keys = local_keys()
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys]})
    assert not r.get("Errors"), r
    assert sorted(d["Key"] for d in r["Deleted"]) == keys, r
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
    step("delete_objects")
    s3.delete_bucket(Bucket=bucket)
    step("delete_bucket")


{"put": put_phase, "delete": delete_phase}[phase]()
print("ALL OK")
