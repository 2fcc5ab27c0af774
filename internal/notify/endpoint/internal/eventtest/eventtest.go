// Package eventtest helps the drivers' tests check that a message carries
// its record's eventId where consumers can dedupe on it.
package eventtest

import (
	"encoding/json"
	"testing"
)

// ID is an eventId in the shape the dispatcher gives records: commit
// sequence, notification ordinal, ETag.
const ID = "0000000042.000001.9b2cf535f27731c974343645a3985328"

// Body is a one-record message body whose eventId is ID.
const Body = `{"Records":[{"eventVersion":"2.2","eventSource":"ceph:s3","eventName":"ObjectCreated:Put","eventId":"` + ID + `"}]}`

// EventID returns the eventId of the record a delivered body holds.
func EventID(t testing.TB, body []byte) string {
	t.Helper()
	var env struct {
		Records []struct {
			EventID string `json:"eventId"`
		}
	}
	if err := json.Unmarshal(body, &env); err != nil || len(env.Records) != 1 {
		t.Fatalf("delivered body %q is not one record: %v", body, err)
	}
	return env.Records[0].EventID
}
