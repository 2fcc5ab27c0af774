package notify

import (
	"net/url"
	"slices"
	"strings"
)

// credentialArgs are the endpoint arguments that hold credentials.
var credentialArgs = []string{"user-name", "password"}

// ViewFor returns the topic as viewer may see it. Its owner sees it whole.
// Anyone else (a reader a Policy grants sns:GetTopicAttributes, any user
// of a legacy ownerless topic, the owner of a bucket bound to the topic)
// never gets the owner's secrets: the copy has no OpaqueData (often a
// token the receiver checks), no userinfo in push-endpoint and no
// user-name or password argument. StoredSecret still tells that the topic
// has credentials.
func (t *Topic) ViewFor(viewer string) *Topic {
	if t.Owner != "" && t.Owner == viewer {
		return t
	}
	c := *t
	c.OpaqueData = ""
	c.Endpoint = withoutUserinfo(t.Endpoint)
	c.Args = argsWithoutSecrets(t.Args)
	return &c
}

// argsWithoutSecrets keeps the known, non-credential endpoint arguments.
// Values are stored raw, so a password holding "&" or "k=v" would split
// into pieces that look like other arguments: when the args carry a
// credential at all, none of them is shown. Unknown keys are dropped too;
// anything may hide in them.
func argsWithoutSecrets(args string) string {
	var kept []string
	for kv := range strings.SplitSeq(args, "&") {
		k, _, _ := strings.Cut(kv, "=")
		if slices.Contains(credentialArgs, k) {
			return ""
		}
		if kv != "" && slices.Contains(endpointArgNames, k) {
			kept = append(kept, kv)
		}
	}
	return strings.Join(kept, "&")
}

// withoutUserinfo drops the user:password@ part of an endpoint URI; an
// endpoint that does not parse is dropped whole, as it cannot be shown to
// be free of one.
func withoutUserinfo(endpoint string) string {
	if endpoint == "" {
		return ""
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		return ""
	}
	if u.User == nil {
		return endpoint
	}
	u.User = nil
	return u.String()
}
