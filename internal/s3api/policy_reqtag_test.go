package s3api

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// TestPolicyRequestObjectTag checks s3:RequestObjectTag/<key>: the tags a
// write sets (x-amz-tagging of PutObject, the tagging field of a POST
// form, the body of PutObjectTagging) and no other request's.
func TestPolicyRequestObjectTag(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	const bucket = "pol-reqtag"
	ts.CreateBucket(t, ts.Root, bucket)
	ts.PutObject(t, ts.Root, bucket, "existing", []byte("x"))
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},
		"Action":["s3:PutObject","s3:PutObjectTagging","s3:GetObject"],"Resource":"arn:aws:s3:::` + bucket + `/*",
		"Condition":{"StringEquals":{"s3:RequestObjectTag/security":"public"}}}]}`
	if err := putPolicy(t, ts.Root, bucket, doc); err != nil {
		t.Fatal(err)
	}
	put := func(tagging *string) error {
		_, err := ts.Alt.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("obj"),
			Body: strings.NewReader("data"), Tagging: tagging})
		return err
	}

	t.Run("PutObject", func(t *testing.T) {
		wantErr(t, put(nil), "AccessDenied", http.StatusForbidden)
		wantErr(t, put(aws.String("security=secret")), "AccessDenied", http.StatusForbidden)
		if err := put(aws.String("security=public&team=a")); err != nil {
			t.Fatalf("put with the tag the policy asks for: %v", err)
		}
	})
	t.Run("GetObject has no request tags", func(t *testing.T) {
		// Only writes that set tags have s3:RequestObjectTag; a header on
		// a read must not satisfy the condition.
		resp := ts.Do(t, userAlt, http.MethodGet, "/"+bucket+"/existing", nil, http.Header{"X-Amz-Tagging": {"security=public"}})
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("GET with x-amz-tagging: status %d, want 403", resp.StatusCode)
		}
	})
	t.Run("PutObjectTagging", func(t *testing.T) {
		tag := func(v string) error {
			_, err := ts.Alt.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: aws.String(bucket), Key: aws.String("existing"),
				Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("security"), Value: aws.String(v)}}}})
			return err
		}
		wantErr(t, tag("secret"), "AccessDenied", http.StatusForbidden)
		if err := tag("public"); err != nil {
			t.Fatalf("tagging with the tag the policy asks for: %v", err)
		}
		out, err := ts.Root.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String(bucket), Key: aws.String("existing")})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.TagSet) != 1 || aws.ToString(out.TagSet[0].Value) != "public" {
			t.Errorf("tags after the allowed PutObjectTagging: %+v", out.TagSet)
		}
	})
	t.Run("PutObjectTagging bad digest", func(t *testing.T) {
		// The body the policy read fails Content-MD5: the condition has no
		// tags, and the owner, whom the ACL admits, gets the handler's
		// BadDigest as the body is handed back with its error.
		body := []byte(`<Tagging><TagSet><Tag><Key>security</Key><Value>public</Value></Tag></TagSet></Tagging>`)
		resp := ts.Do(t, userRoot, http.MethodPut, "/"+bucket+"/existing?tagging", body,
			http.Header{"Content-Md5": {"1B2M2Y8AsgTpgAmY7PhCfg=="}})
		got := readAll(t, resp.Body)
		if resp.StatusCode != http.StatusBadRequest || xmlCode(got) != "BadDigest" {
			t.Fatalf("got %d %s, want 400 BadDigest", resp.StatusCode, xmlCode(got))
		}
	})
	t.Run("POST form", func(t *testing.T) {
		future := time.Now().Add(time.Hour).UTC().Format("2006-01-02T15:04:05Z")
		post := func(tagging string) (*http.Response, []byte) {
			conds := []any{map[string]string{"bucket": bucket}, []any{"starts-with", "$key", ""}, []any{"starts-with", "$tagging", ""}}
			policy, sig := signV2Policy(t, userAlt.SecretKey, map[string]any{"expiration": future, "conditions": conds})
			return postRaw(t, ts.URL+"/"+bucket, "key", "posted", "AWSAccessKeyId", userAlt.AccessKey, "policy", policy,
				"signature", sig, "tagging", tagging, "file", "data")
		}
		tagging := func(v string) string {
			return `<Tagging><TagSet><Tag><Key>security</Key><Value>` + v + `</Value></Tag></TagSet></Tagging>`
		}
		resp, body := post(tagging("secret"))
		wantPostStatus(t, resp, body, http.StatusForbidden, "AccessDenied")
		resp, body = post(tagging("public"))
		wantPostStatus(t, resp, body, http.StatusNoContent, "")
	})
}

// TestPolicyIfExists checks a ...IfExists operator end to end: a
// statement whose condition key is absent applies; one whose key is
// present applies only if the base operator holds.
func TestPolicyIfExists(t *testing.T) {
	ts := newTestServer(t)
	const bucket = "pol-ifexists"
	ts.CreateBucket(t, ts.Root, bucket)
	ts.PutObject(t, ts.Root, bucket, "foo", []byte("x"))
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject",
		"Resource":"arn:aws:s3:::` + bucket + `/*","Condition":{"StringLikeIfExists":{"aws:Referer":"http://www.example.com/*"}}}]}`
	if err := putPolicy(t, ts.Root, bucket, doc); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		referer string
		status  int
	}{
		{"", http.StatusOK},
		{"http://www.example.com/", http.StatusOK},
		{"http://www.example.com/index.html", http.StatusOK},
		{"http://example.com", http.StatusForbidden},
	} {
		h := http.Header{}
		if tc.referer != "" {
			h.Set("Referer", tc.referer)
		}
		resp := ts.Do(t, userAlt, http.MethodGet, "/"+bucket+"/foo", nil, h)
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("GET with Referer %q: status %d, want %d", tc.referer, resp.StatusCode, tc.status)
		}
	}
}
