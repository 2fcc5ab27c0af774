package notify

import (
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/cairn-s3/cairn/internal/queue"
	"github.com/cairn-s3/cairn/internal/s3err"
)

// Topic is a named, stored destination description (spec §1, §2.5). Topics
// live in the namespace of their tenant ("" for the default tenant).
type Topic struct {
	Tenant string `json:"tenant"`
	Name   string `json:"name"`
	// Owner is the user id of the creator (tenant$uid for tenanted users);
	// "" for legacy ownerless topics.
	Owner string `json:"owner"`
	// Endpoint is the push-endpoint URI ("" allowed: delivery then fails).
	Endpoint string `json:"push_endpoint"`
	// Args holds the endpoint arguments as "k1=v1&k2=v2" (values raw, not
	// URL-encoded), interpreted by the endpoint driver at delivery.
	Args       string `json:"push_endpoint_args"`
	OpaqueData string `json:"opaque_data"`
	Persistent bool   `json:"persistent"`
	// TimeToLive, MaxRetries and RetrySleep are nil when the global default
	// applies ("None" on the wire).
	TimeToLive   *uint64 `json:"time_to_live,omitempty"`
	MaxRetries   *uint64 `json:"max_retries,omitempty"`
	RetrySleep   *uint64 `json:"retry_sleep_duration,omitempty"`
	Policy       string  `json:"policy"`
	StoredSecret bool    `json:"stored_secret"`
}

// ARN returns the topic's ARN in a zonegroup:
// arn:aws:sns:<zonegroup>:<tenant>:<name>.
func (t *Topic) ARN(zonegroup string) string {
	return "arn:aws:sns:" + zonegroup + ":" + t.Tenant + ":" + t.Name
}

// QueueName is the name of the topic's persistent queue, "<tenant>:<name>".
func (t *Topic) QueueName() string { return t.Tenant + ":" + t.Name }

// Arg returns the value of an endpoint argument and whether it is set.
func (t *Topic) Arg(name string) (string, bool) {
	for kv := range strings.SplitSeq(t.Args, "&") {
		if k, v, _ := strings.Cut(kv, "="); k == name && kv != "" {
			return v, true
		}
	}
	return "", false
}

// setArg sets or appends name=value in the args string.
func (t *Topic) setArg(name, value string) {
	var parts []string
	found := false
	for kv := range strings.SplitSeq(t.Args, "&") {
		if kv == "" {
			continue
		}
		if k, _, _ := strings.Cut(kv, "="); k == name {
			kv, found = name+"="+value, true
		}
		parts = append(parts, kv)
	}
	if !found {
		parts = append(parts, name+"="+value)
	}
	t.Args = strings.Join(parts, "&")
}

// retryField renders an optional retry setting: the number, or "None".
func retryField(v *uint64) string {
	if v == nil {
		return "None"
	}
	return strconv.FormatUint(*v, 10)
}

// TimeToLiveString, MaxRetriesString and RetrySleepString render the
// optional retry settings as RGW does.
func (t *Topic) TimeToLiveString() string { return retryField(t.TimeToLive) }

// MaxRetriesString renders MaxRetries ("None" when unset).
func (t *Topic) MaxRetriesString() string { return retryField(t.MaxRetries) }

// RetrySleepString renders RetrySleep ("None" when unset).
func (t *Topic) RetrySleepString() string { return retryField(t.RetrySleep) }

// Attribute keys that are first-class topic fields; every other
// non-structural parameter is an endpoint argument.
const (
	AttrPushEndpoint = "push-endpoint"
	AttrOpaqueData   = "OpaqueData"
	AttrPersistent   = "persistent"
	AttrTimeToLive   = "time_to_live"
	AttrMaxRetries   = "max_retries"
	AttrRetrySleep   = "retry_sleep_duration"
	AttrPolicy       = "Policy"
)

var firstClassAttrs = []string{AttrPushEndpoint, AttrOpaqueData, AttrPersistent, AttrTimeToLive, AttrMaxRetries, AttrRetrySleep, AttrPolicy}

// endpointArgNames are the arguments SetTopicAttributes may change in the
// args string (spec §2.9, with Tentacle's kafka-brokers and http-ack-level).
var endpointArgNames = []string{
	"verify-ssl", "use-ssl", "ca-location", "amqp-ack-level", "amqp-exchange", "amqp-version",
	"kafka-ack-level", "mechanism", "cloudevents", "user-name", "password", "kafka-brokers", "http-ack-level",
	AttrMaxQueueSize, AttrOverflowPolicy,
}

// Cairn's queue attributes of persistent topics (not in RGW, whose queue
// capacity is a fixed 128 MiB and whose only policy is Reject). They are
// kept in the args string like endpoint arguments, so every RGW client can
// set and read them (CreateTopic attributes, SetTopicAttributes,
// GetTopicAttributes' EndpointArgs); endpoint drivers ignore them.
const (
	// AttrMaxQueueSize is the capacity in bytes of stored records of the
	// topic's queue: a positive integer; 0 or unset means the default
	// (128 MiB), -1 unlimited.
	AttrMaxQueueSize = "max-queue-size"
	// AttrOverflowPolicy is what a full queue does with a new event:
	// "reject" (default, RGW: the S3 request fails with 503 SlowDown and
	// nothing is stored), "drop-oldest" (the change and its event are
	// accepted, the oldest queued events not in flight are dropped) or
	// "drop-newest" (the change is accepted without its event).
	AttrOverflowPolicy = "overflow-policy"
)

// queueSettings parses the topic's queue attributes.
func (t *Topic) queueSettings() (capacity int64, overflow queue.OverflowPolicy, err error) {
	if v, ok := t.Arg(AttrMaxQueueSize); ok && v != "" {
		n, perr := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if perr != nil || n < -1 {
			return 0, 0, s3err.InvalidArgument.WithMessage("Invalid value for %s: %q (want bytes, 0 for the default or -1 for unlimited)", AttrMaxQueueSize, v)
		}
		capacity = n
	}
	if v, ok := t.Arg(AttrOverflowPolicy); ok && v != "" {
		switch strings.ToLower(v) {
		case "reject":
			overflow = queue.Reject
		case "drop-oldest":
			overflow = queue.DropOldest
		case "drop-newest":
			overflow = queue.DropNewest
		default:
			return 0, 0, s3err.InvalidArgument.WithMessage("Invalid value for %s: %q (want reject, drop-oldest or drop-newest)", AttrOverflowPolicy, v)
		}
	}
	return capacity, overflow, nil
}

// structuralParam reports whether a request parameter is part of the API
// call rather than a topic attribute (never stored in the args string).
func structuralParam(k string) bool {
	switch k {
	case "Action", "Name", "Version", "TopicArn", "NextToken", "AttributeName", "AttributeValue", "PayloadHash",
		"AWSAccessKeyId", "Signature", "SignatureMethod", "SignatureVersion", "Expires", "Timestamp":
		return true
	}
	return strings.HasPrefix(k, "Attributes.entry.") || strings.HasPrefix(strings.ToLower(k), "x-amz-")
}

// Options are the notification subsystem's settings (RGW option names in
// comments).
type Options struct {
	// Zonegroup is the zonegroup name used in ARNs and awsRegion ("default").
	Zonegroup string
	// RelaxedTopicNames disables the S name rule (rgw_relaxed_topic_names).
	RelaxedTopicNames bool
	// AllowSecretsInCleartext lets topics with credentials be created and
	// read over plain HTTP (rgw_allow_notification_secrets_in_cleartext).
	AllowSecretsInCleartext bool
	// TrustForwardedHTTPS trusts X-Forwarded-Proto / Forwarded: proto=https
	// from a proxy as a secure transport (rgw_trust_forwarded_https).
	TrustForwardedHTTPS bool
	// PublishWithoutPolicy lets any user bind a topic that has no Policy
	// to its buckets (RGW's default, rgw_topic_require_publish_policy=false).
	// Off, a notification may use a topic only when the topic's owner owns
	// the bucket or the topic's Policy allows sns:Publish for the bucket
	// owner (see AuthorizePublish).
	PublishWithoutPolicy bool
}

func (o *Options) ensureDefaults() {
	if o.Zonegroup == "" {
		o.Zonegroup = "default"
	}
}

var topicNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// reservedQueueListName is RGW's internal list of persistent queues; a
// persistent topic may not take its name.
const reservedQueueListName = "queues_list_object"

// ValidateName checks a topic name (spec §2.4 step 1–2).
func (o *Options) ValidateName(name string) error {
	if name == "" {
		return s3err.InvalidArgument.WithMessage("Missing required element Name")
	}
	if o.RelaxedTopicNames {
		return nil
	}
	if len(name) > 256 {
		return s3err.InvalidArgument.WithMessage("Name cannot be longer than 256 characters")
	}
	if !topicNameRE.MatchString(name) {
		return s3err.InvalidArgument.WithMessage("Name must be made up of only uppercase and lowercase ASCII letters, numbers, underscores, and hyphens")
	}
	return nil
}

// errInsecureSecret is what creating or updating a topic with credentials
// over plain HTTP answers: RGW's code (as captured) with Squid's message.
var errInsecureSecret = s3err.InvalidInput.WithMessage("Topic contains secrets that must be transmitted over a secure transport")

// checkEndpoint validates a push-endpoint and reports whether it carries a
// secret (userinfo).
func checkEndpoint(uri string) (secret bool, err error) {
	if uri == "" {
		return false, nil
	}
	u, err := url.Parse(uri)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return false, s3err.InvalidArgument.WithMessage("Malformed URL for push-endpoint")
	}
	return u.User != nil && u.User.String() != "", nil
}

// parseBool accepts RGW's boolean spellings; ok is false for anything else.
func parseBool(s string) (v, ok bool) {
	switch strings.ToLower(s) {
	case "true", "yes", "1":
		return true, true
	case "false", "no", "0":
		return false, true
	}
	return false, false
}

// parseUint parses an optional integer attribute; unparsable means "not
// supplied" (the global default applies).
func parseUint(s string) *uint64 {
	v, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return nil
	}
	return &v
}

// NewTopic builds a topic from CreateTopic's flattened attributes (spec
// §2.4–2.5): first-class attributes become fields, every other
// non-structural parameter goes to the args string (sorted by key, Squid's
// rule). secure tells whether the request came over a secure transport.
func (o *Options) NewTopic(tenant, name, owner string, attrs map[string]string, secure bool) (*Topic, error) {
	if err := o.ValidateName(name); err != nil {
		return nil, err
	}
	t := &Topic{Tenant: tenant, Name: name, Owner: owner}
	t.Endpoint = attrs[AttrPushEndpoint]
	t.OpaqueData = attrs[AttrOpaqueData]
	t.Persistent, _ = parseBool(attrs[AttrPersistent])
	if v, ok := attrs[AttrTimeToLive]; ok {
		t.TimeToLive = parseUint(v)
	}
	if v, ok := attrs[AttrMaxRetries]; ok {
		t.MaxRetries = parseUint(v)
	}
	if v, ok := attrs[AttrRetrySleep]; ok {
		t.RetrySleep = parseUint(v)
	}
	keys := make([]string, 0, len(attrs))
	for k := range attrs {
		if !structuralParam(k) && !slices.Contains(firstClassAttrs, k) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	args := make([]string, 0, len(keys))
	for _, k := range keys {
		args = append(args, k+"="+attrs[k])
	}
	t.Args = strings.Join(args, "&")
	if t.Persistent && name == reservedQueueListName {
		return nil, s3err.InvalidArgument.WithMessage("Topic name %q is reserved", name)
	}
	if err := o.finish(t, attrs[AttrPolicy], secure); err != nil {
		return nil, err
	}
	return t, nil
}

// finish validates endpoint and policy and records the secret flag.
func (o *Options) finish(t *Topic, policy string, secure bool) error {
	secret, err := checkEndpoint(t.Endpoint)
	if err != nil {
		return err
	}
	for _, k := range []string{"user-name", "password"} {
		if v, ok := t.Arg(k); ok && v != "" {
			secret = true
		}
	}
	t.StoredSecret = secret
	if _, _, err := t.queueSettings(); err != nil {
		return err
	}
	if secret && !secure && !o.AllowSecretsInCleartext {
		return errInsecureSecret
	}
	if policy != "" {
		if _, err := parsePolicy(policy); err != nil {
			return s3err.MalformedPolicyDocument.WithCause(err)
		}
	}
	t.Policy = policy
	return nil
}

// SetAttribute applies SetTopicAttributes (spec §2.9) to a copy of t.
func (o *Options) SetAttribute(t *Topic, name, value string, secure bool) (*Topic, error) {
	c := *t
	policy := c.Policy
	switch name {
	case AttrOpaqueData:
		c.OpaqueData = value
	case AttrPersistent:
		c.Persistent, _ = parseBool(value)
		if c.Persistent && c.Name == reservedQueueListName {
			return nil, s3err.InvalidArgument.WithMessage("Topic name %q is reserved", c.Name)
		}
	case AttrTimeToLive:
		c.TimeToLive = parseUint(value)
	case AttrMaxRetries:
		c.MaxRetries = parseUint(value)
	case AttrRetrySleep:
		c.RetrySleep = parseUint(value)
	case AttrPushEndpoint:
		c.Endpoint = value
	case AttrPolicy:
		policy = value
	default:
		if !slices.Contains(endpointArgNames, name) {
			return nil, s3err.InvalidArgument.WithMessage("Invalid value for AttributeName '%s'", name)
		}
		c.setArg(name, value)
	}
	if err := o.finish(&c, policy, secure); err != nil {
		return nil, err
	}
	return &c, nil
}

// ParseTopicARN splits an SNS topic ARN into tenant and name. Only
// "arn:<partition>:<service>:<region>:<account>:<resource>" with a non-empty
// resource is accepted.
func ParseTopicARN(arn string) (tenant, name string, ok bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] == "" || parts[2] == "" || parts[5] == "" {
		return "", "", false
	}
	return parts[4], parts[5], true
}
