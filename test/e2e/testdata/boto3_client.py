"""Drives Cairn with boto3 as a Ceph RGW user's script would.

Usage: boto3_client.py ENDPOINT ACCESS SECRET SIGNATURE_VERSION BUCKET
Every step asserts; the script prints one "ok <step>" line per step and exits
non-zero on the first failure.
"""
import hashlib
import io
import sys

import boto3
import botocore
from botocore.client import Config

endpoint, access, secret, sigver, bucket = sys.argv[1:6]
s3 = boto3.client(
    "s3",
    endpoint_url=endpoint,
    aws_access_key_id=access,
    aws_secret_access_key=secret,
    region_name="us-east-1",
    config=Config(signature_version=sigver, s3={"addressing_style": "path"},
                  retries={"max_attempts": 1}),
)


def step(name):
    print("ok", name, flush=True)


def expect_error(code, fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except botocore.exceptions.ClientError as e:
        got = e.response["Error"]["Code"]
        assert got == code, f"want {code}, got {got}: {e.response}"
        return e
    raise AssertionError(f"want {code}, call succeeded")


s3.create_bucket(Bucket=bucket)
step("create_bucket")
assert bucket in [b["Name"] for b in s3.list_buckets()["Buckets"]]
step("list_buckets")

body = b"hello from boto3 " * 1000
r = s3.put_object(Bucket=bucket, Key="dir/hello.txt", Body=body,
                  ContentType="text/plain", Metadata={"colour": "blue"})
assert r["ETag"] == '"%s"' % hashlib.md5(body).hexdigest(), r["ETag"]
step("put_object")

g = s3.get_object(Bucket=bucket, Key="dir/hello.txt")
assert g["Body"].read() == body
assert g["ContentType"] == "text/plain"
assert g["Metadata"] == {"colour": "blue"}, g["Metadata"]
step("get_object")

g = s3.get_object(Bucket=bucket, Key="dir/hello.txt", Range="bytes=6-9")
assert g["Body"].read() == body[6:10]
assert g["ResponseMetadata"]["HTTPStatusCode"] == 206
step("get_range")

h = s3.head_object(Bucket=bucket, Key="dir/hello.txt")
assert h["ContentLength"] == len(body)
step("head_object")

s3.copy_object(Bucket=bucket, Key="copy.txt", CopySource={"Bucket": bucket, "Key": "dir/hello.txt"})
assert s3.get_object(Bucket=bucket, Key="copy.txt")["Body"].read() == body
step("copy_object")

keys = sorted(o["Key"] for o in s3.list_objects(Bucket=bucket)["Contents"])
assert keys == ["copy.txt", "dir/hello.txt"], keys
l2 = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
assert [p["Prefix"] for p in l2.get("CommonPrefixes", [])] == ["dir/"], l2
step("list_objects")

url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "copy.txt"}, ExpiresIn=300)
import urllib.request
with urllib.request.urlopen(url) as resp:
    assert resp.read() == body
step("presigned_get")

part = b"x" * (5 * 1024 * 1024)
mp = s3.create_multipart_upload(Bucket=bucket, Key="big.bin")
etags = []
for n, data in enumerate([part, b"tail"], start=1):
    p = s3.upload_part(Bucket=bucket, Key="big.bin", UploadId=mp["UploadId"], PartNumber=n, Body=data)
    etags.append({"PartNumber": n, "ETag": p["ETag"]})
done = s3.complete_multipart_upload(Bucket=bucket, Key="big.bin", UploadId=mp["UploadId"],
                                    MultipartUpload={"Parts": etags})
md5s = b"".join(hashlib.md5(d).digest() for d in [part, b"tail"])
assert done["ETag"] == '"%s-2"' % hashlib.md5(md5s).hexdigest(), done["ETag"]
got = s3.get_object(Bucket=bucket, Key="big.bin")["Body"].read()
assert got == part + b"tail"
step("multipart")

# upload_fileobj uses the transfer manager: parallel multipart for large bodies.
blob = bytes(range(256)) * (40 * 1024 * 4)  # 40 MiB
s3.upload_fileobj(io.BytesIO(blob), bucket, "managed.bin",
                  Config=boto3.s3.transfer.TransferConfig(multipart_threshold=8 << 20, multipart_chunksize=8 << 20))
out = io.BytesIO()
s3.download_fileobj(bucket, "managed.bin", out)
assert out.getvalue() == blob
step("transfer_manager")

s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
v1 = s3.put_object(Bucket=bucket, Key="v.txt", Body=b"one")["VersionId"]
v2 = s3.put_object(Bucket=bucket, Key="v.txt", Body=b"two")["VersionId"]
assert v1 != v2
assert s3.get_object(Bucket=bucket, Key="v.txt", VersionId=v1)["Body"].read() == b"one"
s3.delete_object(Bucket=bucket, Key="v.txt")
expect_error("NoSuchKey", s3.get_object, Bucket=bucket, Key="v.txt")
vers = s3.list_object_versions(Bucket=bucket, Prefix="v.txt")
assert len(vers["Versions"]) == 2 and len(vers["DeleteMarkers"]) == 1, vers
step("versioning")

s3.put_object_tagging(Bucket=bucket, Key="copy.txt", Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})
assert s3.get_object_tagging(Bucket=bucket, Key="copy.txt")["TagSet"] == [{"Key": "k", "Value": "v"}]
step("tagging")

expect_error("NoSuchKey", s3.get_object, Bucket=bucket, Key="missing")
expect_error("NoSuchBucket", s3.list_objects, Bucket=bucket + "-missing")
expect_error("BucketNotEmpty", s3.delete_bucket, Bucket=bucket)
step("errors")

# Empty the bucket (every version) and remove it.
for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
    objs = [{"Key": v["Key"], "VersionId": v["VersionId"]} for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
    if objs:
        r = s3.delete_objects(Bucket=bucket, Delete={"Objects": objs, "Quiet": True})
        assert not r.get("Errors"), r
s3.delete_bucket(Bucket=bucket)

step("cleanup")
print("ALL OK")
