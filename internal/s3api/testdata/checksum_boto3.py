"""Multipart checksums with boto3's default integrity settings.

botocore >= 1.36 computes CRC32 checksums of every upload and, with
response_checksum_validation=when_supported, checks the checksum of every
GET against the body it receives. Expected values are computed here with
zlib, never taken from the server.

usage: checksum_boto3.py ENDPOINT ACCESS_KEY SECRET_KEY BUCKET WORKDIR
"""
import base64
import os
import random
import struct
import sys
import zlib

import boto3
import botocore
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError

MIB = 1 << 20
PART = 5 * MIB


def b64crc32(data):
    return base64.b64encode(struct.pack(">I", zlib.crc32(data))).decode()


def composite_crc32(data, part_size):
    parts = [data[i:i + part_size] for i in range(0, len(data), part_size)]
    raw = b"".join(struct.pack(">I", zlib.crc32(p)) for p in parts)
    return "%s-%d" % (b64crc32(raw), len(parts))


def check(cond, what):
    if not cond:
        raise SystemExit("FAIL: " + what)


def main():
    endpoint, ak, sk, bucket, workdir = sys.argv[1:6]
    s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=ak, aws_secret_access_key=sk,
                      region_name="us-east-1", config=Config(s3={"addressing_style": "path"}))
    cfg = s3.meta.config
    check(cfg.request_checksum_calculation == "when_supported", "default request_checksum_calculation")
    check(cfg.response_checksum_validation == "when_supported", "default response_checksum_validation")
    s3.create_bucket(Bucket=bucket)

    # upload_file above the multipart threshold: CRC32 composite by default.
    data = random.Random(9).randbytes(4 * PART + 12345)
    src = os.path.join(workdir, "src.bin")
    with open(src, "wb") as f:
        f.write(data)
    tc = TransferConfig(multipart_threshold=PART, multipart_chunksize=PART)
    s3.upload_file(src, bucket, "big.bin", Config=tc)
    head = s3.head_object(Bucket=bucket, Key="big.bin", ChecksumMode="ENABLED")
    typ, value = head.get("ChecksumType"), head.get("ChecksumCRC32")
    if typ == "COMPOSITE":
        check(value == composite_crc32(data, PART), "composite CRC32 %r, want %r" % (value, composite_crc32(data, PART)))
    else:
        check(typ == "FULL_OBJECT" and value == b64crc32(data), "object checksum %r %r" % (typ, value))
    got = s3.get_object(Bucket=bucket, Key="big.bin")
    check(got["Body"].read() == data, "get_object body")
    check(got["ResponseMetadata"]["HTTPHeaders"].get("x-amz-checksum-crc32") == value, "get_object checksum header")
    part = s3.get_object(Bucket=bucket, Key="big.bin", PartNumber=2)
    check(part["Body"].read() == data[PART:2 * PART], "get_object part 2 body")
    check(part.get("ChecksumCRC32") == b64crc32(data[PART:2 * PART]), "part 2 checksum %r" % part.get("ChecksumCRC32"))
    for name, config in (("ranged", tc), ("default", None)):
        dst = os.path.join(workdir, "dst-" + name)
        s3.download_file(bucket, "big.bin", dst, Config=config)
        with open(dst, "rb") as f:
            check(f.read() == data, "download_file (%s) content" % name)

    # ChecksumType FULL_OBJECT with CRC32, the object's value claimed on Complete.
    up = s3.create_multipart_upload(Bucket=bucket, Key="full.bin", ChecksumAlgorithm="CRC32", ChecksumType="FULL_OBJECT")
    check(up.get("ChecksumType") == "FULL_OBJECT", "create ChecksumType %r" % up.get("ChecksumType"))
    parts = []
    for n, off in enumerate(range(0, len(data), PART), start=1):
        r = s3.upload_part(Bucket=bucket, Key="full.bin", UploadId=up["UploadId"], PartNumber=n,
                           Body=data[off:off + PART], ChecksumAlgorithm="CRC32")
        check(r["ChecksumCRC32"] == b64crc32(data[off:off + PART]), "part %d checksum" % n)
        parts.append({"PartNumber": n, "ETag": r["ETag"], "ChecksumCRC32": r["ChecksumCRC32"]})
    wrong = b64crc32(data[:PART])
    try:
        s3.complete_multipart_upload(Bucket=bucket, Key="full.bin", UploadId=up["UploadId"], ChecksumCRC32=wrong,
                                     ChecksumType="FULL_OBJECT", MultipartUpload={"Parts": parts})
        raise SystemExit("FAIL: a wrong full-object checksum was accepted")
    except ClientError as e:
        check(e.response["Error"]["Code"] == "BadDigest", "wrong checksum: %s" % e.response["Error"])
    done = s3.complete_multipart_upload(Bucket=bucket, Key="full.bin", UploadId=up["UploadId"], ChecksumCRC32=b64crc32(data),
                                        ChecksumType="FULL_OBJECT", MultipartUpload={"Parts": parts})
    check(done.get("ChecksumCRC32") == b64crc32(data) and done.get("ChecksumType") == "FULL_OBJECT",
          "complete %r %r" % (done.get("ChecksumCRC32"), done.get("ChecksumType")))
    # botocore checks this value (no "-N") against the whole body.
    got = s3.get_object(Bucket=bucket, Key="full.bin")
    check(got["Body"].read() == data, "full-object get_object body")
    check(got.get("ChecksumCRC32") == b64crc32(data) and got.get("ChecksumType") == "FULL_OBJECT", "full-object get_object checksum")

    s3.put_object(Bucket=bucket, Key="small.txt", Body=b"small body")
    got = s3.get_object(Bucket=bucket, Key="small.txt")
    check(got["Body"].read() == b"small body" and got.get("ChecksumType") == "FULL_OBJECT", "small object")
    print("OK botocore", botocore.__version__, "upload_file checksum", typ, value)


main()
