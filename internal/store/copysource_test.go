package store_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/cairn-s3/cairn/internal/store"
	"github.com/cairn-s3/cairn/internal/store/local"
)

// TestOpenCopySource runs against the real local store: the rule under
// test is what a copy does with the version a backend returns.
func TestOpenCopySource(t *testing.T) {
	ctx := context.Background()
	s, err := local.Open(t.TempDir(), local.Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.CreateBucket(ctx, store.Bucket{Name: "b"}); err != nil {
		t.Fatalf("CreateBucket: %v", err)
	}
	put, err := s.PutObject(ctx, "b", "k", strings.NewReader("body"), store.PutOptions{Size: 4})
	if err != nil {
		t.Fatalf("PutObject: %v", err)
	}
	errVeto := errors.New("veto")
	tests := []struct {
		name     string
		src      store.CopySource
		check    func(store.ObjectInfo) error
		wantErr  error
		wantBody string
	}{
		{"no check", store.CopySource{Bucket: "b", Key: "k"}, nil, nil, "body"},
		{"check passes", store.CopySource{Bucket: "b", Key: "k"}, func(oi store.ObjectInfo) error {
			if oi.ETag != put.ETag {
				return errVeto
			}
			return nil
		}, nil, "body"},
		{"check fails", store.CopySource{Bucket: "b", Key: "k"}, func(store.ObjectInfo) error { return errVeto }, errVeto, ""},
		{"missing key", store.CopySource{Bucket: "b", Key: "nope"}, nil, store.ErrNoSuchKey, ""},
		{"missing bucket", store.CopySource{Bucket: "nope", Key: "k"}, nil, store.ErrNoSuchBucket, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info, rc, err := store.OpenCopySource(ctx, s, tt.src, tt.check)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || rc != nil {
					t.Fatalf("OpenCopySource = %v (reader %v), want %v and no reader", err, rc, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("OpenCopySource: %v", err)
			}
			defer rc.Close()
			body, err := io.ReadAll(rc)
			if err != nil || string(body) != tt.wantBody || info.ETag != put.ETag {
				t.Fatalf("read %q (%v), etag %q; want %q, etag %q", body, err, info.ETag, tt.wantBody, put.ETag)
			}
		})
	}
}
