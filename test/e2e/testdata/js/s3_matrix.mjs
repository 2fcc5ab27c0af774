// The client matrix's script for the AWS SDK for JavaScript v3 with its
// default settings (requestChecksumCalculation and
// responseChecksumValidation WHEN_SUPPORTED: CRC32 on every upload, the
// response checksum checked on every GetObject).
//
// Usage: node s3_matrix.mjs PHASE ENDPOINT ACCESS SECRET BUCKET SRC DST ALGORITHM
//   put:    create BUCKET, upload every file under SRC (PutObject for small
//           files, lib-storage's Upload — multipart — for those over 5 MiB),
//           GetObject each into DST, list with the ListObjectsV2 paginator,
//           print "presigned KEY URL" lines (s3-request-presigner).
//   delete: DeleteObjects of every key, then the bucket.
// ALGORITHM "default" leaves ChecksumAlgorithm unset (the SDK picks CRC32);
// any other value (CRC64NVME) is asked for on every upload.
// Prints "ok STEP" per step and "ALL OK" at the end; exits non-zero on the
// first failure.
import {
  CreateBucketCommand, DeleteBucketCommand, DeleteObjectsCommand, GetObjectCommand,
  HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client, paginateListObjectsV2,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, sep } from "node:path";
import { pipeline } from "node:stream/promises";

const [phase, endpoint, accessKeyId, secretAccessKey, bucket, src, dst, algorithm] = process.argv.slice(2);
const client = new S3Client({
  endpoint,
  region: "us-east-1",
  forcePathStyle: true,
  credentials: { accessKeyId, secretAccessKey },
});
const checksum = algorithm === "default" ? {} : { ChecksumAlgorithm: algorithm };
const multipartAbove = 5 * 1024 * 1024;

const step = (name) => console.log("ok", name);

function localKeys() {
  return readdirSync(src, { recursive: true })
    .filter((rel) => statSync(join(src, rel)).isFile())
    .map((rel) => rel.split(sep).join("/"))
    .sort();
}

async function sha256File(path) {
  const h = createHash("sha256");
  await pipeline(createReadStream(path), h);
  return h.digest("hex");
}

async function upload(key) {
  const path = join(src, key);
  if (statSync(path).size <= multipartAbove) {
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: readFileSync(path), ...checksum }));
    return;
  }
  const up = new Upload({ client, params: { Bucket: bucket, Key: key, Body: createReadStream(path), ...checksum } });
  await up.done();
}

async function download(key) {
  const out = join(dst, key);
  mkdirSync(dirname(out), { recursive: true });
  const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  await pipeline(got.Body, createWriteStream(out));
  const [have, want] = await Promise.all([sha256File(out), sha256File(join(src, key))]);
  assert.equal(have, want, `GetObject ${key}: sha256 differs`);
}

// checkStoredChecksum asks for the object's checksum as S3 keeps it: of the
// algorithm the upload used (CRC32 when the SDK picked), FULL_OBJECT for a
// single PUT and for CRC64NVME, COMPOSITE ("…-N") for CRC32 in parts.
async function checkStoredChecksum(key) {
  const alg = algorithm === "default" ? "CRC32" : algorithm;
  const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: "ENABLED" }));
  const value = head[`Checksum${alg}`] ?? "";
  const multipart = statSync(join(src, key)).size > multipartAbove;
  const type = multipart && alg !== "CRC64NVME" ? "COMPOSITE" : "FULL_OBJECT";
  assert.match(value, type === "COMPOSITE" ? /^[A-Za-z0-9+/]+=*-\d+$/ : /^[A-Za-z0-9+/]+=*$/,
    `HeadObject ${key}: Checksum${alg} ${JSON.stringify(value)}`);
  assert.equal(head.ChecksumType, type, `HeadObject ${key}: ChecksumType`);
}

async function putPhase() {
  const keys = localKeys();
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  step("CreateBucket");
  for (const key of keys) await upload(key);
  step(`upload (${algorithm})`);
  for (const key of keys) await checkStoredChecksum(key);
  step("HeadObject checksum");
  for (const key of keys) await download(key);
  step("GetObject");
  const listed = [];
  for await (const page of paginateListObjectsV2({ client, pageSize: 2 }, { Bucket: bucket })) {
    assert.ok(page.KeyCount <= 2, `page of ${page.KeyCount} keys`);
    listed.push(...(page.Contents ?? []).map((o) => o.Key));
  }
  assert.deepEqual(listed, keys);
  step("ListObjectsV2");
  for (const key of keys) {
    const url = await getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: 600 });
    console.log("presigned", key, url);
  }
  step("getSignedUrl");
}

async function deletePhase() {
  const keys = localKeys();
  const r = await client.send(new DeleteObjectsCommand({
    Bucket: bucket, Delete: { Objects: keys.map((Key) => ({ Key })) },
  }));
  assert.equal(r.Errors, undefined, JSON.stringify(r.Errors));
  assert.deepEqual(r.Deleted.map((d) => d.Key).sort(), keys);
  const left = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
  assert.equal(left.KeyCount, 0);
  step("DeleteObjects");
  await client.send(new DeleteBucketCommand({ Bucket: bucket }));
  step("DeleteBucket");
}

await { put: putPhase, delete: deletePhase }[phase]();
console.log("ALL OK");
