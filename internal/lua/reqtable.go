package lua

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	rt "github.com/arnodel/golua/runtime"
)

// The Request table (spec §6): a proxy whose fields are computed when a
// script reads them, so that a script that reads nothing costs one table.

func str(s string) rt.Value { return rt.StringValue(s) }

func optStr(s string) rt.Value {
	if s == "" {
		return rt.NilValue
	}
	return rt.StringValue(s)
}

// luaTime formats a time as RGW does: "%Y-%m-%d %H:%M:%S" in local time.
func luaTime(t time.Time) rt.Value {
	if t.IsZero() {
		t = time.Unix(0, 0)
	}
	return rt.StringValue(t.Local().Format(time.DateTime))
}

// record is a read-only table of known values, case-insensitive like
// every gateway table.
func (x *exec) record(name string, fields map[string]rt.Value) rt.Value {
	s := make(schema, len(fields))
	for k, v := range fields {
		s[strings.ToLower(k)] = field{get: func(*exec) rt.Value { return v }}
	}
	return x.object(name, s)
}

// cached builds the value of field key once per execution.
func cached(key string, build func(x *exec) rt.Value) func(x *exec) rt.Value {
	return func(x *exec) rt.Value { return x.sub(key, func() rt.Value { return build(x) }) }
}

var requestSchema schema

func init() {
	requestSchema = schema{
		"rgwop": {get: func(x *exec) rt.Value {
			if x.req.RGWOp == "" {
				return str("Unknown")
			}
			return str(x.req.RGWOp)
		}},
		"decodeduri":        {get: func(x *exec) rt.Value { return str(x.req.HTTP.URL.Path) }},
		"contentlength":     {get: func(x *exec) rt.Value { return rt.IntValue(max(x.req.HTTP.ContentLength, 0)) }},
		"genericattributes": {get: cached("attrs", genericAttributes)},
		"response":          {get: cached("response", responseTable)},
		"swiftaccountname":  {get: func(*exec) rt.Value { return rt.NilValue }},
		"bucket":            {get: cached("bucket", bucketTable)},
		"object":            {get: cached("object", objectTable)},
		"copyfrom":          {get: cached("copyfrom", copyFromTable)},
		"objectowner":       {get: cached("owner", func(x *exec) rt.Value { return ownerTable(x, "ObjectOwner") })},
		"zonegroup": {get: cached("zonegroup", func(x *exec) rt.Value {
			return x.record("ZoneGroup", map[string]rt.Value{"Name": str(x.e.cfg.ZoneGroup), "Endpoint": str("")})
		})},
		// RGW reads a user's ACL for Swift only: S3 requests see the
		// empty policy.
		"useracl": {get: cached("useracl", func(x *exec) rt.Value { return aclTable(x, "UserACL", nil) })},
		"bucketacl": {get: cached("bucketacl", func(x *exec) rt.Value {
			return aclTable(x, "BucketACL", x.req.infoOrNil(Info.BucketACL))
		})},
		"objectacl": {get: cached("objectacl", func(x *exec) rt.Value {
			if x.req.Key == "" {
				return aclTable(x, "ObjectACL", nil)
			}
			return aclTable(x, "ObjectACL", x.req.infoOrNil(Info.ObjectACL))
		})},
		"environment": {get: cached("env", environment)},
		"policy":      {get: cached("policy", policyTable)},
		// Cairn has no identity (user) policies: the list is empty.
		"userpolicies": {get: cached("userpolicies", func(x *exec) rt.Value {
			return x.stringMap("UserPolicies", func() map[string]string { return nil }, nil)
		})},
		"rgwid":         {get: func(x *exec) rt.Value { return str(x.e.cfg.RGWId) }},
		"http":          {get: cached("http", httpTable)},
		"time":          {get: func(x *exec) rt.Value { return luaTime(x.req.Start) }},
		"dialect":       {get: func(*exec) rt.Value { return str("s3") }},
		"id":            {get: func(x *exec) rt.Value { return str(x.req.ID) }},
		"transactionid": {get: func(x *exec) rt.Value { return str(x.req.ID) }},
		"tags":          {get: cached("tags", requestTags)},
		"user": {get: cached("user", func(x *exec) rt.Value {
			if x.req.User == nil {
				return rt.NilValue
			}
			return x.record("User", map[string]rt.Value{"Tenant": str(x.req.User.Tenant), "Id": str(x.req.User.ID)})
		})},
		"trace": {get: cached("trace", traceTable)},
		"log":   {get: cached("log", logFunc)},
	}
}

// requestValue is the Request global.
func (x *exec) requestValue() rt.Value { return x.object("Request", requestSchema) }

// genericHeaders are RGW's generic attributes (rgw_rest.cc's
// generic_attrs): request headers kept as object attributes, keyed by the
// attribute's name.
var genericHeaders = [...]struct{ header, attr string }{
	{"Content-Type", "user.rgw.content_type"},
	{"Content-Language", "user.rgw.content_language"},
	{"Expires", "user.rgw.expires"},
	{"Cache-Control", "user.rgw.cache_control"},
	{"Content-Disposition", "user.rgw.content_disposition"},
	{"Content-Encoding", "user.rgw.content_encoding"},
	{"X-Robots-Tag", "user.rgw.x-robots-tag"},
}

func genericAttributes(x *exec) rt.Value {
	attrs := map[string]string{}
	for _, g := range genericHeaders {
		if v := x.req.HTTP.Header.Values(g.header); len(v) > 0 {
			attrs[g.attr] = v[0]
		}
	}
	return x.stringMap("GenericAttributes", func() map[string]string { return attrs }, nil)
}

var responseSchema = schema{
	"httpstatuscode": {get: func(x *exec) rt.Value { return rt.IntValue(int64(x.req.Response.HTTPStatusCode)) },
		set: func(x *exec, v rt.Value) error {
			n, ok := v.TryInt()
			if !ok {
				return errors.New("want an integer")
			}
			x.req.Response.HTTPStatusCode = int(n)
			return nil
		}},
	"httpstatus": {get: func(x *exec) rt.Value { return str(x.req.Response.HTTPStatus) },
		set: func(x *exec, v rt.Value) error {
			s, ok := v.ToString()
			if !ok {
				return errors.New("want a string")
			}
			x.req.Response.HTTPStatus = s
			return nil
		}},
	"rgwcode": {get: func(x *exec) rt.Value { return rt.IntValue(int64(x.req.Response.RGWCode)) },
		set: func(x *exec, v rt.Value) error {
			n, ok := v.TryInt()
			if !ok {
				return errors.New("want an integer")
			}
			x.req.Response.RGWCode = int(n)
			return nil
		}},
	"message": {get: func(x *exec) rt.Value { return str(x.req.Response.Message) },
		set: func(x *exec, v rt.Value) error {
			s, ok := v.ToString()
			if !ok {
				return errors.New("want a string")
			}
			x.req.Response.Message = s
			return nil
		}},
}

func responseTable(x *exec) rt.Value { return x.object("Response", responseSchema) }

// bucketInfo reads the bucket's record, except in prerequest where RGW
// has not loaded the bucket yet.
func (x *exec) bucketInfo() (BucketInfo, bool) {
	if x.c == PreRequest || x.req.Info == nil || x.req.Bucket == "" {
		return BucketInfo{}, false
	}
	if !x.bucketRead {
		x.bucketRead = true
		x.bucket, x.bucketOK = x.req.Info.Bucket(x.ctx)
	}
	return x.bucket, x.bucketOK
}

func bucketField(get func(b BucketInfo, x *exec) rt.Value) field {
	return field{get: func(x *exec) rt.Value {
		b, ok := x.bucketInfo()
		if !ok {
			return rt.NilValue
		}
		return get(b, x)
	}}
}

var bucketSchema = schema{
	"tenant": {get: func(x *exec) rt.Value {
		if x.c == PreRequest {
			return optStr(x.req.Tenant)
		}
		return str(x.req.Tenant)
	}},
	"name": {get: func(x *exec) rt.Value {
		if n, ok := x.req.BucketRename(); ok {
			return str(n)
		}
		return str(x.req.Bucket)
	}, set: func(x *exec, v rt.Value) error {
		if x.c != PreRequest {
			return errors.New("writable only in prerequest, before the bucket is loaded")
		}
		s, ok := v.TryString()
		if !ok || s == "" {
			return errors.New("want a bucket name")
		}
		x.req.bucketName = &s
		return nil
	}},
	"marker":       bucketField(func(b BucketInfo, _ *exec) rt.Value { return str(b.Marker) }),
	"id":           bucketField(func(b BucketInfo, _ *exec) rt.Value { return str(b.ID) }),
	"zonegroupid":  bucketField(func(_ BucketInfo, x *exec) rt.Value { return str(x.e.cfg.ZoneGroup) }),
	"creationtime": bucketField(func(b BucketInfo, _ *exec) rt.Value { return luaTime(b.Created) }),
	"mtime":        bucketField(func(b BucketInfo, _ *exec) rt.Value { return luaTime(b.Modified) }),
	"quota": bucketField(func(_ BucketInfo, x *exec) rt.Value {
		// Cairn has no quotas: RGW's default, disabled quota (Rounded is
		// RGW's !check_on_raw).
		return x.record("Quota", map[string]rt.Value{"MaxSize": rt.IntValue(-1), "MaxObjects": rt.IntValue(-1),
			"Enabled": rt.BoolValue(false), "Rounded": rt.BoolValue(true)})
	}),
	"placementrule": bucketField(func(b BucketInfo, x *exec) rt.Value {
		return x.record("PlacementRule", map[string]rt.Value{"Name": str(b.PlacementID), "StorageClass": str(b.StorageClass)})
	}),
	"user": bucketField(func(b BucketInfo, x *exec) rt.Value {
		return x.record("User", map[string]rt.Value{"Tenant": str(b.Owner.Tenant), "Id": str(b.Owner.ID)})
	}),
	"account": {get: func(*exec) rt.Value { return rt.NilValue }},
	"tags": bucketField(func(b BucketInfo, x *exec) rt.Value {
		return x.stringMap("Bucket.Tags", func() map[string]string { return b.Tags }, nil)
	}),
	// Count and Size left RGW's table after Quincy; counting would list
	// the whole bucket.
	"count": {get: func(*exec) rt.Value { return rt.NilValue }},
	"size":  {get: func(*exec) rt.Value { return rt.NilValue }},
}

func bucketTable(x *exec) rt.Value {
	if x.req.Bucket == "" {
		return rt.NilValue
	}
	return x.object("Bucket", bucketSchema)
}

func objectTable(x *exec) rt.Value {
	if x.req.Key == "" {
		return rt.NilValue
	}
	info := func() (ObjectInfo, bool) {
		if x.c == PreRequest || x.req.Info == nil {
			return ObjectInfo{}, false
		}
		return x.req.Info.Object(x.ctx)
	}
	var oi *ObjectInfo
	load := func() ObjectInfo {
		if oi == nil {
			o, _ := info()
			oi = &o
		}
		return *oi
	}
	return x.object("Object", schema{
		"name": {get: func(x *exec) rt.Value { return str(x.req.Key) }},
		"instance": {get: func(x *exec) rt.Value {
			if v := load().Version; v != "" {
				return str(v)
			}
			return str(x.req.VersionID)
		}},
		"id":    {get: func(x *exec) rt.Value { return str(x.req.Key) }},
		"size":  {get: func(*exec) rt.Value { return rt.IntValue(load().Size) }},
		"mtime": {get: func(*exec) rt.Value { return luaTime(load().Modified) }},
	})
}

func copyFromTable(x *exec) rt.Value {
	cf := x.req.CopyFrom
	if cf == nil {
		return rt.NilValue
	}
	obj := x.record("Object", map[string]rt.Value{"Name": str(cf.Key), "Instance": str(cf.VersionID), "Id": str(cf.Key),
		"Size": rt.IntValue(0), "MTime": luaTime(time.Time{})})
	return x.record("CopyFrom", map[string]rt.Value{"Tenant": str(cf.Tenant), "Bucket": str(cf.Bucket), "Object": obj})
}

// ownerID is RGW's (S+) owner id string, "tenant$uid".
func ownerID(u *User) string {
	if u == nil {
		return ""
	}
	if u.Tenant != "" {
		return u.Tenant + "$" + u.ID
	}
	return u.ID
}

func ownerTable(x *exec, name string) rt.Value {
	id := ownerID(x.req.User)
	return x.record(name, map[string]rt.Value{"DisplayName": str(id), "User": optStr(id)})
}

func environment(x *exec) rt.Value {
	h := x.req.HTTP
	env := map[string]string{"aws:UserAgent": h.UserAgent(), "aws:CurrentTime": x.req.Start.UTC().Format(time.RFC3339),
		"aws:EpochTime": fmt.Sprint(x.req.Start.Unix()), "aws:SecureTransport": fmt.Sprint(h.TLS != nil)}
	if ip := sourceIP(h.RemoteAddr); ip != "" {
		env["aws:SourceIp"] = ip
	}
	if ref := h.Referer(); ref != "" {
		env["aws:Referer"] = ref
	}
	return x.stringMap("Environment", func() map[string]string { return env }, nil)
}

func sourceIP(addr string) string {
	if i := strings.LastIndexByte(addr, ':'); i >= 0 {
		addr = addr[:i]
	}
	return strings.Trim(addr, "[]")
}

func policyTable(x *exec) rt.Value {
	b, ok := x.bucketInfo()
	if !ok || b.Policy == "" {
		return rt.NilValue
	}
	return x.record("Policy", map[string]rt.Value{"Text": str(b.Policy), "Id": rt.NilValue,
		"Statements": rt.TableValue(rt.NewTable())})
}

func requestTags(x *exec) rt.Value {
	tags := map[string]string{}
	if q, err := url.ParseQuery(x.req.HTTP.Header.Get("X-Amz-Tagging")); err == nil {
		for k, v := range q {
			tags[k] = v[0]
		}
	}
	return x.stringMap("Tags", func() map[string]string { return tags }, nil)
}
