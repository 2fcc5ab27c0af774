package luapkg

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestSocketHTTP(t *testing.T) {
	var gotMethod, gotBody, gotType string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		gotMethod, gotBody, gotType = r.Method, string(b), r.Header.Get("Content-Type")
		w.Header().Set("X-Answer", "42")
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, "created")
	}))
	t.Cleanup(srv.Close)
	p := newTestPackages(t, Options{})

	got := mustLua(t, p, fmt.Sprintf(`
local http = require 'socket.http'
local body, code, headers, status = http.request(%q, '{"a":1}')
return body .. ' ' .. code .. ' ' .. headers['x-answer'] .. ' ' .. status`, srv.URL+"/post"))
	if got != "created 201 42 HTTP/1.1 201 Created" {
		t.Errorf("POST result %q", got)
	}
	if gotMethod != http.MethodPost || gotBody != `{"a":1}` || gotType != "application/x-www-form-urlencoded" {
		t.Errorf("server saw %s %q (%s)", gotMethod, gotBody, gotType)
	}
	if got := mustLua(t, p, fmt.Sprintf("local b, c = require('socket.http').request(%q); return b .. c", srv.URL)); got != "created201" || gotMethod != http.MethodGet {
		t.Errorf("GET: %q (%s)", got, gotMethod)
	}
	// Failure: nil and a message, not an error.
	got = mustLua(t, p, `local b, err = require('socket.http').request('http://127.0.0.1:1/'); return tostring(b) .. ' ' .. err`)
	if !strings.HasPrefix(got, "nil ") || !strings.Contains(got, "connection refused") {
		t.Errorf("unreachable: %q", got)
	}
}

func TestSocketHTTPTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release); srv.Close() })
	p := newTestPackages(t, Options{Timeout: 100 * time.Millisecond})
	got := mustLua(t, p, fmt.Sprintf(`local b, err = require('socket.http').request(%q, 'x'); return tostring(b) .. ' ' .. err`, srv.URL))
	if !strings.HasPrefix(got, "nil ") || !strings.Contains(got, "deadline exceeded") {
		t.Errorf("slow server: %q", got)
	}
}
