package psapi

import (
	"net/http"
	"strconv"

	"github.com/cairn-s3/cairn/internal/notify"
)

// The JSON shapes of pubsub.md; field order is RGW's, booleans are strings.

type destJSON struct {
	BucketName        string `json:"bucket_name"`
	OIDPrefix         string `json:"oid_prefix"`
	PushEndpoint      string `json:"push_endpoint"`
	PushEndpointArgs  string `json:"push_endpoint_args"`
	PushEndpointTopic string `json:"push_endpoint_topic"`
	StoredSecret      string `json:"stored_secret"`
	Persistent        string `json:"persistent"`
}

type topicJSON struct {
	User       string   `json:"user"`
	Name       string   `json:"name"`
	Dest       destJSON `json:"dest"`
	ARN        string   `json:"arn"`
	OpaqueData string   `json:"opaqueData"`
}

type topicSubsJSON struct {
	Topic topicJSON `json:"topic"`
	Subs  []string  `json:"subs"`
}

type topicEventsJSON struct {
	Topic  topicJSON `json:"topic"`
	Events []string  `json:"events"`
}

type subscriptionJSON struct {
	User  string   `json:"user"`
	Name  string   `json:"name"`
	Topic string   `json:"topic"`
	Dest  destJSON `json:"dest"`
	S3ID  string   `json:"s3_id"`
	// Cairn's extension, present only when set.
	VisibilityTimeout int `json:"visibility_timeout,omitempty"`
}

// writeJSON writes v rendered by encode.
func writeJSON(w http.ResponseWriter, v any) error {
	body, err := notify.EncodeJSON(v)
	if err != nil {
		return err
	}
	return writeBody(w, body)
}

func writeBody(w http.ResponseWriter, body []byte) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(body)
	return err
}

// writeOK answers 200 with no body.
func writeOK(w http.ResponseWriter) error {
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
	return nil
}
