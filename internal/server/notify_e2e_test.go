package server_test

// End-to-end notification tests of the real server (servertest on
// 127.0.0.1) with real consumers: every endpoint kind, synchronous and
// persistent, records compared with RGW's captures; boto3 as the client.

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// TestNotificationEndpoints: for each endpoint kind and delivery mode, a
// PutObject (metadata, tags) and a DeleteObject reach the consumer with
// RGW's record shape.
func TestNotificationEndpoints(t *testing.T) {
	g := startGateway(t, fastRetries)
	ctx := context.Background()
	kinds := []struct {
		name string
		make func(t *testing.T, topic string) *consumer
	}{
		{"amqp", func(t *testing.T, topic string) *consumer { c, _ := rabbitConsumer(t, topic); return c }},
		{"nats", func(t *testing.T, topic string) *consumer { c, _ := natsConsumer(t, topic, 0); return c }},
		{"kafka", func(t *testing.T, topic string) *consumer { return kafkaConsumer(t, topic) }},
		{"mqtt", func(t *testing.T, topic string) *consumer { return mqttConsumer(t, topic) }},
		{"http", func(t *testing.T, _ string) *consumer { return newHTTPSink(t).consumer }},
	}
	for _, k := range kinds {
		for _, persistent := range []bool{false, true} {
			mode := "sync"
			if persistent {
				mode = "persistent"
			}
			t.Run(k.name+"/"+mode, func(t *testing.T) {
				topic := newName(k.name + "-" + mode)
				c := k.make(t, topic)
				arn := g.topic(t, topic, c.topicAttrs(persistent))
				bucket := newName("bkt")
				g.bucket(t, bucket, arn)
				key := "dir/hello world.txt"
				put, err := g.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
					Body: strings.NewReader("hello world"), Metadata: map[string]string{"color": "blue"}, Tagging: aws.String("k1=v1")})
				if err != nil {
					t.Fatal(err)
				}
				etag := strings.Trim(aws.ToString(put.ETag), `"`)
				r := checkLikeSample(t, c.next(t, 15*time.Second), "amqp-put.json", bucket, key, etag, 11)
				if len(r.S3.Object.Metadata) != 1 || r.S3.Object.Metadata[0].Key != "x-amz-meta-color" || r.S3.Object.Metadata[0].Val != "blue" ||
					len(r.S3.Object.Tags) != 1 || r.S3.Object.Tags[0].Key != "k1" || r.S3.Object.Tags[0].Val != "v1" {
					t.Errorf("metadata %v tags %v", r.S3.Object.Metadata, r.S3.Object.Tags)
				}
				if _, err := g.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}); err != nil {
					t.Fatal(err)
				}
				body := c.next(t, 15*time.Second)
				if g, w := strings.Join(flatten(t, body), " "), strings.Join(flatten(t, sample(t, "amqp-delete.json")), " "); g != w {
					t.Errorf("delete record fields differ from amqp-delete.json:\n got %s\nwant %s", g, w)
				}
				del := parseRecord(t, body)
				if del.EventName != "ObjectRemoved:Delete" || del.S3.Object.Key != key || del.S3.Object.ETag != etag {
					t.Errorf("delete record: %+v", del)
				}
			})
		}
	}
}

// TestNotificationAMQPEnvelope checks what RabbitMQ consumers see besides
// the body (amqp-message-envelope.json): exchange, routing key = topic name,
// persistent delivery mode.
func TestNotificationAMQPEnvelope(t *testing.T) {
	g := startGateway(t, fastRetries)
	topic := newName("env")
	c, env := rabbitConsumer(t, topic)
	arn := g.topic(t, topic, c.topicAttrs(true))
	bucket := newName("bkt")
	g.bucket(t, bucket, arn)
	if _, err := g.s3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("k"), Body: strings.NewReader("x")}); err != nil {
		t.Fatal(err)
	}
	c.next(t, 15*time.Second)
	select {
	case d := <-env:
		if d.exchange != c.attrs["amqp-exchange"] || d.key != topic || d.deliveryMode != 2 {
			t.Errorf("envelope: exchange %q routing key %q delivery mode %d", d.exchange, d.key, d.deliveryMode)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no envelope")
	}
}

// TestNotificationHTTPRequest: the POST an HTTP endpoint receives
// (http-request-headers.json): path of the push-endpoint, JSON body.
func TestNotificationHTTPRequest(t *testing.T) {
	g := startGateway(t, fastRetries)
	sink := newHTTPSink(t)
	topic := newName("http")
	arn := g.topic(t, topic, sink.topicAttrs(false, "OpaqueData", "opaque-123"))
	bucket := newName("bkt")
	g.bucket(t, bucket, arn)
	if _, err := g.s3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("in/h1.txt"), Body: strings.NewReader("data")}); err != nil {
		t.Fatal(err)
	}
	r := parseRecord(t, sink.next(t, 5*time.Second))
	if r.OpaqueData != "opaque-123" || r.S3.Object.Size != 4 {
		t.Errorf("record %+v", r)
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if sink.paths[0] != "/rgw-events" || sink.headers[0].Get("Content-Type") != "application/json" {
		t.Errorf("POST %s Content-Type %q", sink.paths[0], sink.headers[0].Get("Content-Type"))
	}
}

// boto3Script creates a topic through boto3's SNS client (with the given
// signature version, "" for the default), a bucket with a notification
// and one object, as RGW's documentation does it.
const boto3Script = `
import sys, boto3
from botocore.client import Config
endpoint, ak, sk, sig, topic, bucket, amqp, exchange = sys.argv[1:9]
cfg = Config(signature_version=sig) if sig else Config()
sns = boto3.client("sns", endpoint_url=endpoint, aws_access_key_id=ak, aws_secret_access_key=sk,
                   region_name="default", config=cfg)
arn = sns.create_topic(Name=topic, Attributes={"push-endpoint": amqp, "amqp-exchange": exchange,
                       "amqp-ack-level": "broker", "persistent": "true"})["TopicArn"]
attrs = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
assert attrs["Name"] == topic, attrs
assert any(t["TopicArn"] == arn for t in sns.list_topics()["Topics"])
s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=ak, aws_secret_access_key=sk, region_name="us-east-1")
s3.create_bucket(Bucket=bucket)
s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={"TopicConfigurations": [
    {"Id": "n-" + bucket, "TopicArn": arn, "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]}]})
got = s3.get_bucket_notification_configuration(Bucket=bucket)["TopicConfigurations"]
assert got[0]["Id"] == "n-" + bucket, got
etag = s3.put_object(Bucket=bucket, Key="dir/hello world.txt", Body=b"hello world",
                     Metadata={"color": "blue"}, Tagging="k1=v1")["ETag"]
print("ETAG", etag.strip('"'))
print("ALL OK")
`

// TestNotificationBoto3 drives SNS and S3 with Debian's boto3, with the
// SigV2 ("s3") and the default signature, and consumes from RabbitMQ. (The
// persistent topic's record has the same format as amqp-put.json, which,
// unlike amqp-persistent-put.json, was captured with tags.)
func TestNotificationBoto3(t *testing.T) {
	const py = "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil || exec.Command(py, "-c", "import boto3").Run() != nil {
		if required() {
			t.Fatal("python3-boto3 is missing")
		}
		t.Skip("python3-boto3 is missing (apt-get install python3-boto3)")
	}
	g := startGateway(t, fastRetries)
	for _, sig := range []string{"s3", ""} {
		name := sig
		if name == "" {
			name = "default"
		}
		t.Run(name, func(t *testing.T) {
			topic := newName("boto")
			c, _ := rabbitConsumer(t, topic)
			bucket := newName("boto")
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			out, err := exec.CommandContext(ctx, py, "-c", boto3Script, g.srv.URL, g.srv.RootAccessKey, g.srv.RootSecretKey, sig,
				topic, bucket, c.endpoint, c.attrs["amqp-exchange"]).CombinedOutput()
			if err != nil || !strings.Contains(string(out), "ALL OK") {
				t.Fatalf("boto3: %v\n%s", err, out)
			}
			_, etag, _ := strings.Cut(strings.SplitN(string(out), "\n", 2)[0], "ETAG ")
			checkLikeSample(t, c.next(t, 15*time.Second), "amqp-put.json", bucket, "dir/hello world.txt", strings.TrimSpace(etag), 11)
		})
	}
}
