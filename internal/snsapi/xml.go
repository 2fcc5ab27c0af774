package snsapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/cairn-s3/cairn/internal/notify"
	"github.com/cairn-s3/cairn/internal/s3err"
)

// snsNamespace is the namespace of every SNS response root but GetTopic's.
const snsNamespace = "https://sns.amazonaws.com/doc/2010-03-31/"

// doc builds an XML response the way RGW's formatter does: no declaration,
// compact, and text escaped with named entities (&quot; &apos; ...), so
// bodies match RGW's byte for byte.
type doc struct{ bytes.Buffer }

func (d *doc) open(name string) { d.WriteString("<" + name + ">") }

func (d *doc) openNS(name string) { d.WriteString("<" + name + ` xmlns="` + snsNamespace + `">`) }

func (d *doc) close(name string) { d.WriteString("</" + name + ">") }

func (d *doc) elem(name, text string) {
	d.open(name)
	d.WriteString(escaper.Replace(text))
	d.close(name)
}

var escaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;")

// metadata ends a response with ResponseMetadata/RequestId.
func (d *doc) metadata(requestID string) {
	d.open("ResponseMetadata")
	d.elem("RequestId", requestID)
	d.close("ResponseMetadata")
}

// respond writes a successful response: the root element (in the SNS
// namespace when ns), what result writes, ResponseMetadata, then what
// trailer writes (nil functions write nothing).
func (c *call) respond(root string, ns bool, result, trailer func(*doc)) error {
	var d doc
	if ns {
		d.openNS(root)
	} else {
		d.open(root)
	}
	for _, part := range []func(*doc){result, func(d *doc) { d.metadata(c.req.ID) }, trailer} {
		if part != nil {
			part(&d)
		}
	}
	d.close(root)
	d.send(c.w, http.StatusOK)
	return nil
}

func (d *doc) send(w http.ResponseWriter, status int) {
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Content-Length", strconv.Itoa(d.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(d.Bytes())
}

// writeError renders an error in the S3 envelope RGW uses for SNS calls
// (spec §2.3): declaration, Code, Message (always present, possibly
// empty), RequestId, HostId.
func writeError(w http.ResponseWriter, e *s3err.Error, requestID, hostID string) {
	var d doc
	d.WriteString(`<?xml version="1.0" encoding="UTF-8"?>`)
	d.open("Error")
	d.elem("Code", e.Code)
	d.elem("Message", e.Message)
	d.elem("RequestId", requestID)
	d.elem("HostId", hostID)
	d.close("Error")
	d.send(w, e.Status)
}

// topicBody writes the children of GetTopic's <Topic> and ListTopics'
// <member> (spec §2.7): booleans as true/false text, Squid's retry fields
// and Policy included.
func (d *doc) topicBody(t *notify.Topic, zonegroup string) {
	d.elem("User", t.Owner)
	d.elem("Name", t.Name)
	d.open("EndPoint")
	d.elem("EndpointAddress", t.Endpoint)
	d.elem("EndpointArgs", t.Args)
	d.elem("EndpointTopic", t.Name)
	d.elem("HasStoredSecret", strconv.FormatBool(t.StoredSecret))
	d.elem("Persistent", strconv.FormatBool(t.Persistent))
	d.elem("TimeToLive", t.TimeToLiveString())
	d.elem("MaxRetries", t.MaxRetriesString())
	d.elem("RetrySleepDuration", t.RetrySleepString())
	d.close("EndPoint")
	d.elem("TopicArn", t.ARN(zonegroup))
	d.elem("OpaqueData", t.OpaqueData)
	d.elem("Policy", t.Policy)
}

// endpointJSON is GetTopicAttributes' EndPoint value (spec §2.6): key order
// fixed, booleans as JSON booleans (R+), retry fields as strings.
func endpointJSON(t *notify.Topic) string {
	v := struct {
		EndpointAddress    string
		EndpointArgs       string
		EndpointTopic      string
		HasStoredSecret    bool
		Persistent         bool
		TimeToLive         string
		MaxRetries         string
		RetrySleepDuration string
	}{t.Endpoint, t.Args, t.Name, t.StoredSecret, t.Persistent, t.TimeToLiveString(), t.MaxRetriesString(), t.RetrySleepString()}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // plain strings and booleans cannot fail
	return strings.TrimSuffix(b.String(), "\n")
}
