package s3api

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/cairn-s3/cairn/internal/lua"
	"github.com/cairn-s3/cairn/internal/lua/luapkg"
)

// benchNATSScript is a postrequest script like Ceph's nats_adapter.lua:
// for each PUT into the bucket it publishes a JSON record built from the
// Request table to NATS (%q host, %d port).
const benchNATSScript = `
local json = require("lunajson")
local nats = require("nats")
if Request.Bucket.Name ~= "bench" or Request.RGWOp ~= "put_obj" then return end
local record = {Records = {{eventName = "ObjectCreated:Put", awsRegion = Request.ZoneGroup.Name,
  eventTime = Request.Time, userIdentity = {principalId = Request.User.Id},
  responseElements = {["x-amz-request-id"] = Request.Id, ["x-amz-id-2"] = Request.RGWId},
  s3 = {bucket = {name = Request.Bucket.Name, ownerIdentity = {principalId = Request.Bucket.User.Id}},
    object = {key = Request.Object.Name, size = Request.Object.Size, versionId = Request.Object.Instance,
      metadata = json.encode(Request.HTTP.Metadata), tags = json.encode(Request.Tags)}}}}}
local client = nats.connect({host = %q, port = %d})
client:connect()
client:publish("bench", json.encode(record))
`

// BenchmarkLuaPut4KiB compares 4 KiB PUTs through the real server over
// loopback without scripting, with an engine but no script, with an empty
// postrequest script, with one reading a few fields and with the NATS
// adapter publishing to an in-process nats-server (SDK client in the same
// process: compare runs, not absolutes).
//
//	go test -run '^$' -bench LuaPut4KiB -count 6 ./internal/s3api | benchstat -
func BenchmarkLuaPut4KiB(b *testing.B) {
	body := bytes.Repeat([]byte("x"), 4<<10)
	for _, tc := range []struct{ name, script string }{
		{"no-engine", ""}, {"no-script", ""}, {"empty-postrequest", "-- nothing"},
		{"fields-postrequest", `local n = Request.RGWOp .. Request.Bucket.Name .. Request.Object.Name .. Request.HTTP.Method`},
		{"nats-postrequest", benchNATSScript},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var cl *s3.Client
			var published *atomic.Int64
			switch tc.name {
			case "no-engine":
				cl = newTestServer(b).Root
			case "nats-postrequest":
				var host string
				var port int
				host, port, published = benchNATS(b)
				pkgs := luapkg.New(luapkg.Options{})
				b.Cleanup(func() { _ = pkgs.Close() })
				ss := newScriptServer(b, lua.Config{RefreshInterval: lua.DefaultRefreshInterval, Packages: pkgs})
				ss.Scripts.Put("postrequest", "", fmt.Sprintf(tc.script, host, port))
				cl = ss.Root
			default:
				ss := newScriptServer(b, lua.Config{RefreshInterval: lua.DefaultRefreshInterval})
				if tc.script != "" {
					ss.Scripts.Put("postrequest", "", tc.script)
				}
				cl = ss.Root
			}
			ctx := context.Background()
			if _, err := cl.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bench")}); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := cl.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bench"), Key: aws.String(fmt.Sprint("k", i)),
					Body: bytes.NewReader(body)}); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			if published != nil {
				awaitPublished(b, published, int64(b.N))
			}
		})
	}
}

// benchNATS starts an in-process nats-server on loopback with a
// subscriber counting the messages on "bench".
func benchNATS(b *testing.B) (string, int, *atomic.Int64) {
	b.Helper()
	s, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	if err != nil {
		b.Fatal(err)
	}
	s.Start()
	b.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	if !s.ReadyForConnections(5 * time.Second) {
		b.Fatal("nats-server not ready")
	}
	nc, err := nats.Connect("nats://" + s.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(nc.Close)
	var n atomic.Int64
	if _, err := nc.Subscribe("bench", func(*nats.Msg) { n.Add(1) }); err != nil {
		b.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		b.Fatal(err)
	}
	return "127.0.0.1", s.Addr().(*net.TCPAddr).Port, &n
}

// awaitPublished fails unless every PUT's record reached the subscriber
// (within a bounded wait: the last ones may still be in flight).
func awaitPublished(b *testing.B, n *atomic.Int64, want int64) {
	b.Helper()
	for range 1000 {
		if n.Load() >= want {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	b.Fatalf("NATS received %d records for %d PUTs", n.Load(), want)
}
