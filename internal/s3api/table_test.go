package s3api

import (
	"testing"

	"github.com/cairn-s3/cairn/internal/notify"
	"github.com/cairn-s3/cairn/internal/optable"
)

// TestTableRows checks that every row of the operation table is complete:
// an access rule (only the CORS preflight goes without), an IAM action for
// every bucket or object rule, a hook name, a known event, and consistent
// entry and copy-source settings.
func TestTableRows(t *testing.T) {
	handlers := (&API{}).handlers()
	for _, row := range table {
		notImpl := row.Op == OpBucketSubresourceNotImpl || row.Op == OpObjectSubresourceNotImpl
		if row.Access == optable.AccessNone && row.Op != OpPreflight {
			t.Errorf("%s: no access rule", row.Op)
		}
		if row.Access >= optable.AccessRead && row.Action.Plain == "" && !notImpl {
			t.Errorf("%s: a bucket or object rule without an IAM action", row.Op)
		}
		if row.Hook == "" && !notImpl {
			t.Errorf("%s: no hook name", row.Op)
		}
		if row.Event != "" {
			if _, ok := notify.ParseEvent(row.Event); !ok {
				t.Errorf("%s: unknown event %q", row.Op, row.Event)
			}
		}
		if row.Scope == optable.ScopeEntries && rowOf(row.Entry) == nil {
			t.Errorf("%s: entries authorized as %q, which has no row", row.Op, row.Entry)
		}
		if row.CopySource && row.Match.Header != "X-Amz-Copy-Source" {
			t.Errorf("%s: a copy-source row that does not match x-amz-copy-source", row.Op)
		}
		_, served := handlers[row.Op]
		installed := row.Match.Mount != "" || row.Match.Form != "" || row.Op == OpListenBucketNotification ||
			row.Op == OpGetBucketNotification || row.Op == OpPutBucketNotification || row.Op == OpDeleteBucketNotification
		if !served && !installed {
			t.Errorf("%s: no handler", row.Op)
		}
	}
}
