package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/spf13/cobra"
)

// emptyPayloadHash is the SigV4 payload hash of a request without a body.
const emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// Reconnection backoff of `cairn watch`.
const (
	watchBackoffMin = 500 * time.Millisecond
	watchBackoffMax = 30 * time.Second
)

type watchCmd struct {
	e            env
	s3           s3Flags
	prefix       string
	suffix       string
	events       []string
	json         bool
	subscription string
	maxEntries   int
	wait         int

	client *signedClient
}

func newWatchCmd(e env) *cobra.Command {
	w := &watchCmd{e: e}
	cmd := &cobra.Command{
		Use:   "watch s3://bucket | --subscription NAME",
		Short: "Print a bucket's events as they happen",
		Long: `Print a bucket's events as they happen, from the live event stream
(GET /bucket?events, MinIO's ListenBucketNotification), reconnecting when the
connection drops. Events that happen while no watch runs are not shown; a
watcher that falls behind is told how many events it missed.

With --subscription, pull the events of a durable pull subscription instead
and acknowledge each one once printed: a watch that stops and starts again
resumes where it stopped, and nothing is missed.`,
		Args: cobra.MaximumNArgs(1),
		RunE: w.run,
	}
	w.s3.register(cmd)
	f := cmd.Flags()
	f.StringVar(&w.prefix, "prefix", "", "only keys starting with this prefix")
	f.StringVar(&w.suffix, "suffix", "", "only keys ending with this suffix")
	f.StringSliceVar(&w.events, "events", nil, "event names, e.g. s3:ObjectCreated:*,s3:ObjectRemoved:Delete,s3:ObjectAccessed:Get (default every change, no reads)")
	f.BoolVar(&w.json, "json", false, "print each event record as one JSON object per line")
	f.StringVar(&w.subscription, "subscription", "", "pull and acknowledge the events of this pull subscription")
	f.IntVar(&w.maxEntries, "max-entries", 100, "events per pull (--subscription)")
	f.IntVar(&w.wait, "wait", 20, "seconds a pull waits for an event (--subscription)")
	return cmd
}

func (w *watchCmd) run(cmd *cobra.Command, args []string) error {
	ctx := cmd.Context()
	var bucket string
	switch {
	case w.subscription != "" && len(args) > 0:
		return errors.New("give either s3://bucket or --subscription, not both")
	case w.subscription == "" && len(args) == 0:
		return errors.New("missing s3://bucket (or --subscription NAME)")
	case len(args) == 1:
		l, err := s3Arg(args[0])
		if err != nil {
			return err
		}
		if l.Key != "" {
			return errors.New("watch takes a bucket, not a key: use --prefix")
		}
		bucket = l.Bucket
	}
	cfg, endpoint, err := w.s3.config(ctx, w.e)
	if err != nil {
		return err
	}
	if endpoint == "" {
		return errors.New("no endpoint: set --endpoint or $AWS_ENDPOINT_URL (AWS S3 has no live event stream)")
	}
	base, err := url.Parse(strings.TrimSuffix(endpoint, "/"))
	if err != nil || base.Host == "" {
		return fmt.Errorf("bad endpoint %q", endpoint)
	}
	w.client = &signedClient{hc: &http.Client{}, base: base, creds: cfg.Credentials, region: cfg.Region, signer: v4.NewSigner()}
	if w.subscription != "" {
		return w.pullLoop(ctx)
	}
	return w.streamLoop(ctx, bucket)
}

// streamLoop follows the live stream, reconnecting with backoff. Only an
// error the server will repeat (such as NoSuchBucket) ends it.
func (w *watchCmd) streamLoop(ctx context.Context, bucket string) error {
	q := url.Values{"prefix": {w.prefix}, "suffix": {w.suffix}, "ping": {"10"}, "events": w.events}
	if len(w.events) == 0 {
		q["events"] = []string{""} // the parameter selects the operation
	}
	backoff := watchBackoffMin
	for {
		connected, err := w.stream(ctx, "/"+bucket, q)
		if ctx.Err() != nil {
			return nil
		}
		if permanent(err) {
			return err
		}
		if connected {
			backoff = watchBackoffMin
		}
		fmt.Fprintf(w.e.stderr, "cairn watch: %v; reconnecting in %v\n", err, backoff)
		if !sleep(ctx, backoff) {
			return nil
		}
		backoff = min(2*backoff, watchBackoffMax)
	}
}

// stream reads one connection of the live stream until it ends; connected
// reports whether the server accepted it.
func (w *watchCmd) stream(ctx context.Context, path string, q url.Values) (connected bool, err error) {
	resp, err := w.client.do(ctx, http.MethodGet, path, q.Encode())
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false, responseError(resp)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		var m struct {
			Records []json.RawMessage
			Err     *struct {
				Code    string
				Message string
				Dropped int64
			}
		}
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			return true, fmt.Errorf("bad message from the server: %w", err)
		}
		if m.Err != nil {
			fmt.Fprintf(w.e.stderr, "cairn watch: %d events missed (%s: %s)\n", m.Err.Dropped, m.Err.Code, m.Err.Message)
		}
		for _, r := range m.Records {
			if err := w.print(r); err != nil {
				return true, err
			}
		}
	}
	if err := sc.Err(); err != nil {
		return true, err
	}
	return true, errors.New("the server closed the stream")
}

// pullLoop pulls a subscription's unacknowledged events, prints them and
// acknowledges the printed ones, until ctx ends. Pulls carry no marker:
// whatever was not acknowledged comes back, so a restart resumes.
func (w *watchCmd) pullLoop(ctx context.Context) error {
	path := "/subscriptions/" + url.PathEscape(w.subscription)
	query := "events&max-entries=" + strconv.Itoa(w.maxEntries) + "&wait=" + strconv.Itoa(w.wait)
	backoff := watchBackoffMin
	for ctx.Err() == nil {
		ids, err := w.pull(ctx, path, query)
		if err == nil && len(ids) > 0 {
			// What was printed is acked even when interrupted meanwhile,
			// so a stopped watch does not print it again.
			err = w.ack(context.WithoutCancel(ctx), path, ids)
		}
		switch {
		case ctx.Err() != nil:
		case permanent(err):
			return err
		case err != nil:
			fmt.Fprintf(w.e.stderr, "cairn watch: %v; retrying in %v\n", err, backoff)
			if !sleep(ctx, backoff) {
				return nil
			}
			backoff = min(2*backoff, watchBackoffMax)
		default:
			backoff = watchBackoffMin
		}
	}
	return nil
}

// pullResponse is a pull's answer: events in "events" with an "id", or S3
// records in "Records" with an "eventId".
type pullResponse struct {
	NextMarker  string            `json:"next_marker"`
	IsTruncated string            `json:"is_truncated"`
	Events      []json.RawMessage `json:"events"`
	Records     []json.RawMessage `json:"Records"`
}

// pull prints one batch and returns the ids of the printed events.
func (w *watchCmd) pull(ctx context.Context, path, query string) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Duration(w.wait)*time.Second+30*time.Second)
	defer cancel()
	resp, err := w.client.do(ctx, http.MethodGet, path, query)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, responseError(resp)
	}
	var pr pullResponse
	if err := json.NewDecoder(resp.Body).Decode(&pr); err != nil {
		return nil, fmt.Errorf("bad pull response: %w", err)
	}
	var ids []string
	for _, ev := range append(pr.Events, pr.Records...) {
		var id struct {
			ID      string `json:"id"`
			EventID string `json:"eventId"`
		}
		if err := json.Unmarshal(ev, &id); err != nil {
			return ids, fmt.Errorf("bad event in pull response: %w", err)
		}
		if err := w.print(ev); err != nil {
			return ids, err
		}
		if id.ID != "" {
			ids = append(ids, id.ID)
		} else if id.EventID != "" {
			ids = append(ids, id.EventID)
		}
	}
	return ids, nil
}

// ack acknowledges printed events, all in one request.
func (w *watchCmd) ack(ctx context.Context, path string, ids []string) error {
	query := "ack"
	for _, id := range ids {
		query += "&event-id=" + url.QueryEscape(id)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	resp, err := w.client.do(ctx, http.MethodPost, path, query)
	if err != nil {
		return fmt.Errorf("ack: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("ack: %w", responseError(resp))
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return nil
}

// print writes one event: the JSON object as is with --json, a readable
// line otherwise.
func (w *watchCmd) print(raw json.RawMessage) error {
	var err error
	if w.json {
		var b bytes.Buffer
		if err = json.Compact(&b, raw); err == nil {
			b.WriteByte('\n')
			_, err = w.e.stdout.Write(b.Bytes())
		}
	} else {
		_, err = fmt.Fprintln(w.e.stdout, readableEvent(raw))
	}
	return err
}

// eventView is what a readable line shows, read from an S3 event record or
// from an RGW pull-subscription event.
type eventView struct {
	EventTime string `json:"eventTime"`
	EventName string `json:"eventName"`
	S3        struct {
		Bucket struct{ Name string } `json:"bucket"`
		Object struct {
			Key  string `json:"key"`
			Size int64  `json:"size"`
			ETag string `json:"eTag"`
		} `json:"object"`
	} `json:"s3"`
	// RGW's pull-mode events.
	Timestamp string `json:"timestamp"`
	Event     string `json:"event"`
	Info      struct {
		Bucket struct{ Name string } `json:"bucket"`
		Key    struct{ Name string } `json:"key"`
	} `json:"info"`
}

// readableEvent renders `time  event  bucket/key  size B  etag`.
func readableEvent(raw json.RawMessage) string {
	var v eventView
	if err := json.Unmarshal(raw, &v); err != nil {
		return string(raw)
	}
	name, when := v.EventName, v.EventTime
	bucket, key := v.S3.Bucket.Name, v.S3.Object.Key
	if name == "" {
		name, when, bucket, key = v.Event, v.Timestamp, v.Info.Bucket.Name, v.Info.Key.Name
	}
	if strings.HasPrefix(name, "Object") {
		name = "s3:" + name
	}
	if t, err := time.Parse(time.RFC3339Nano, when); err == nil {
		when = t.UTC().Format("2006-01-02T15:04:05.000Z")
	}
	line := when + "  " + name + "  " + bucket + "/" + key
	if !strings.Contains(name, "Removed") {
		line += "  " + strconv.FormatInt(v.S3.Object.Size, 10) + " B"
		if v.S3.Object.ETag != "" {
			line += "  " + v.S3.Object.ETag
		}
	}
	return line
}

// signedClient sends SigV4-signed requests without a body.
type signedClient struct {
	hc     *http.Client
	base   *url.URL
	creds  aws.CredentialsProvider
	region string
	signer *v4.Signer
}

func (c *signedClient) do(ctx context.Context, method, path, rawQuery string) (*http.Response, error) {
	u := *c.base
	u.Path = strings.TrimSuffix(u.Path, "/") + path
	u.RawQuery = rawQuery
	req, err := http.NewRequestWithContext(ctx, method, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("X-Amz-Content-Sha256", emptyPayloadHash)
	if c.creds != nil {
		creds, err := c.creds.Retrieve(ctx)
		if err != nil {
			return nil, fmt.Errorf("credentials: %w", err)
		}
		if err := c.signer.SignHTTP(ctx, creds, req, emptyPayloadHash, "s3", c.region, time.Now()); err != nil {
			return nil, err
		}
	}
	return c.hc.Do(req)
}

// s3Error is an S3 error response.
type s3Error struct {
	Status  int
	Code    string `xml:"Code"`
	Message string `xml:"Message"`
}

func (e *s3Error) Error() string {
	if e.Code == "" {
		return "HTTP " + strconv.Itoa(e.Status)
	}
	if e.Message == "" {
		return e.Code
	}
	return e.Code + ": " + e.Message
}

// responseError reads an S3 XML error from a failed response.
func responseError(resp *http.Response) error {
	e := &s3Error{Status: resp.StatusCode}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	_ = xml.Unmarshal(body, e)
	return e
}

// permanent reports whether retrying cannot help: a client error the
// server will answer again (throttling excepted).
func permanent(err error) bool {
	var e *s3Error
	return errors.As(err, &e) && e.Status >= 400 && e.Status < 500 && e.Status != http.StatusTooManyRequests
}

// sleep waits d or until ctx ends, and reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
