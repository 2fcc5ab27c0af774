package lifecycle

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/cairn-s3/cairn/internal/kv"
)

// Phases of a pass over a bucket: its versions, then its uploads.
const (
	phaseVersions = "versions"
	phaseUploads  = "uploads"
	phaseDone     = "done"
)

// Pass statuses, as radosgw-admin lc list reports them.
const (
	StatusProcessing = "PROCESSING"
	StatusComplete   = "COMPLETE"
	StatusFailed     = "FAILED"
)

// State is a bucket's lifecycle cursor and the counters of its last (or
// current) pass, kept in kv so a pass resumes after a restart exactly
// where its last committed step ended.
type State struct {
	Bucket string `json:"-"`
	// Created identifies the bucket instance: a bucket deleted and
	// re-created starts afresh.
	Created time.Time `json:"created"`
	// Cycle is the lifecycle day the pass started in.
	Cycle  int64  `json:"cycle"`
	Phase  string `json:"phase"`
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
	// KeyMarker and IDMarker continue the listing of the phase (a
	// version id, or an upload id).
	KeyMarker string `json:"km,omitempty"`
	IDMarker  string `json:"im,omitempty"`
	// The walk's memory of the key being visited: its versions come
	// newest first, so each noncurrent version's age and rank derive from
	// the ones before it.
	Key          string    `json:"key,omitempty"`
	PrevModified time.Time `json:"prev,omitzero"`
	Noncurrent   int       `json:"nc,omitempty"`
	// Pending is a current delete marker whose key's next entry (an
	// older version, or none) is not listed yet.
	Pending *Marker `json:"pending,omitempty"`

	Started  time.Time `json:"started,omitzero"`
	Finished time.Time `json:"finished,omitzero"`
	// Counters of the pass.
	Removed      int64 `json:"removed"`
	Transitioned int64 `json:"transitioned"`
	Aborted      int64 `json:"aborted"`
	Skipped      int64 `json:"skipped"` // locked or failed versions
	// Totals count every pass of this bucket instance.
	Totals Totals `json:"totals"`
}

// Totals are a bucket's counters over all passes.
type Totals struct {
	Removed      int64 `json:"removed"`
	Transitioned int64 `json:"transitioned"`
	Aborted      int64 `json:"aborted"`
}

// Marker is a delete marker the walk has seen.
type Marker struct {
	Key          string    `json:"key"`
	VersionID    string    `json:"vid"`
	LastModified time.Time `json:"mtime"`
}

const statePrefix = "lc/state/"

func stateKey(bucket string) []byte { return []byte(statePrefix + bucket) }

func loadState(ctx context.Context, s kv.Store, bucket string) (State, error) {
	st := State{Bucket: bucket}
	raw, err := s.Get(ctx, stateKey(bucket))
	if errors.Is(err, kv.ErrNotFound) {
		return st, nil
	}
	if err != nil {
		return st, err
	}
	if err := json.Unmarshal(raw, &st); err != nil {
		return State{Bucket: bucket}, fmt.Errorf("lifecycle: state of %s: %w", bucket, err)
	}
	return st, nil
}

func saveState(ctx context.Context, s kv.Store, st *State) error {
	raw, err := json.Marshal(st)
	if err != nil {
		return err
	}
	return kv.Put(ctx, s, stateKey(st.Bucket), raw)
}
