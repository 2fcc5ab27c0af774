"""Drive Cairn's topic API with boto3's SNS client the way RGW users do.

usage: sns_boto3.py <endpoint> <access-key> <secret-key> <signature_version|default> <name-prefix>
Prints ALL OK on success; raises otherwise.
"""
import json
import sys

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

endpoint, access, secret, sig, prefix = sys.argv[1:6]
cfg = Config() if sig == "default" else Config(signature_version=sig)
sns = boto3.client("sns", endpoint_url=endpoint, aws_access_key_id=access,
                   aws_secret_access_key=secret, region_name="default", config=cfg)

name = prefix + "-t1"
arn = sns.create_topic(Name=name, Attributes={
    "push-endpoint": "http://127.0.0.1:9/hook",
    "OpaqueData": "opaque-123",
    "persistent": "true",
    "verify-ssl": "false",
})["TopicArn"]
assert arn == "arn:aws:sns:default::" + name, arn

attrs = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
assert attrs["Name"] == name, attrs
assert attrs["OpaqueData"] == "opaque-123", attrs
assert attrs["TopicArn"] == arn, attrs
ep = json.loads(attrs["EndPoint"])
assert ep["EndpointAddress"] == "http://127.0.0.1:9/hook", ep
assert ep["EndpointArgs"] == "verify-ssl=false", ep
assert ep["Persistent"] is True and ep["HasStoredSecret"] is False, ep
assert ep["MaxRetries"] == "None", ep

sns.set_topic_attributes(TopicArn=arn, AttributeName="OpaqueData", AttributeValue="changed")
assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["OpaqueData"] == "changed"

arns = [t["TopicArn"] for t in sns.list_topics()["Topics"]]
assert arn in arns, arns

try:
    sns.create_topic(Name="bad.name")
    raise AssertionError("bad name accepted")
except ClientError as e:
    assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 400, e.response

sns.delete_topic(TopicArn=arn)
try:
    sns.get_topic_attributes(TopicArn=arn)
    raise AssertionError("deleted topic still readable")
except ClientError as e:
    assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 404, e.response
sns.delete_topic(TopicArn=arn)  # deleting a missing topic succeeds

print("ALL OK")
