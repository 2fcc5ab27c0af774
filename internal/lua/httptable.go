package lua

import (
	"errors"
	"log/slog"
	"strings"

	rt "github.com/arnodel/golua/runtime"
)

// s3Resources are the query parameters S3 treats as sub-resources
// (HTTP.Resources), RGW's list of "sub-resources" it signs.
var s3Resources = map[string]bool{
	"acl": true, "cors": true, "delete": true, "lifecycle": true, "location": true, "logging": true,
	"notification": true, "partNumber": true, "policy": true, "requestPayment": true, "tagging": true,
	"torrent": true, "uploadId": true, "uploads": true, "versionId": true, "versioning": true, "versions": true,
	"website": true, "encryption": true, "object-lock": true, "retention": true, "legal-hold": true,
	"attributes": true, "publicAccessBlock": true, "policyStatus": true, "ownershipControls": true,
}

var httpSchema = schema{
	"parameters": {get: cached("params", func(x *exec) rt.Value {
		params := map[string]string{}
		for k, v := range x.req.HTTP.URL.Query() {
			params[k] = v[0]
		}
		return x.stringMap("HTTP.Parameters", func() map[string]string { return params }, nil)
	})},
	"resources": {get: cached("resources", func(x *exec) rt.Value {
		res := map[string]string{}
		for k, v := range x.req.HTTP.URL.Query() {
			if s3Resources[k] {
				res[k] = v[0]
			}
		}
		return x.stringMap("HTTP.Resources", func() map[string]string { return res }, nil)
	})},
	"metadata": {get: cached("metadata", func(x *exec) rt.Value {
		return x.stringMap("HTTP.Metadata", x.req.metadata, x.req.setMetadata)
	})},
	"storageclass": {get: func(x *exec) rt.Value {
		if sc, ok := x.req.StorageClass(); ok {
			return str(sc)
		}
		return optStr(x.req.HTTP.Header.Get("X-Amz-Storage-Class"))
	}, set: func(x *exec, v rt.Value) error {
		s, ok := v.TryString()
		if !ok {
			return errors.New("want a string")
		}
		x.req.storageClass = &s
		return nil
	}},
	"host":   {get: func(x *exec) rt.Value { return str(x.req.HTTP.Host) }},
	"method": {get: func(x *exec) rt.Value { return str(x.req.HTTP.Method) }},
	"uri": {get: func(x *exec) rt.Value {
		return str(x.req.HTTP.URL.EscapedPath())
	}},
	"querystring": {get: func(x *exec) rt.Value { return str(x.req.HTTP.URL.RawQuery) }},
	"domain":      {get: func(x *exec) rt.Value { return str(x.e.cfg.Domain) }},
}

func httpTable(x *exec) rt.Value { return x.object("HTTP", httpSchema) }

// traceTable is Request.Trace: Cairn has no tracing, so Enable is a plain
// flag and the functions are the no-ops RGW's are when tracing is off.
func traceTable(x *exec) rt.Value {
	enabled := false
	noop := x.fn("trace", func(t *rt.Thread, c *rt.GoCont) (rt.Cont, error) { return c.Next(), nil }, 2, true)
	return x.object("Trace", schema{
		"enable": {get: func(*exec) rt.Value { return rt.BoolValue(enabled) }, set: func(_ *exec, v rt.Value) error {
			b, ok := v.TryBool()
			if !ok {
				return errors.New("want a boolean")
			}
			enabled = b
			return nil
		}},
		"setattribute": {get: func(*exec) rt.Value { return noop }},
		"addevent":     {get: func(*exec) rt.Value { return noop }},
	})
}

// logFunc is Request.Log(): the request goes to the operations log now;
// it returns 0, or a negative code when that failed.
func logFunc(x *exec) rt.Value {
	return x.fn("Log", func(t *rt.Thread, c *rt.GoCont) (rt.Cont, error) {
		var err error
		if f := x.e.cfg.OpsLog; f != nil {
			err = f(x.ctx, x.req)
		} else {
			x.e.log.LogAttrs(x.ctx, slog.LevelInfo, "lua request log", slog.String("id", x.req.ID),
				slog.String("op", x.req.RGWOp), slog.String("bucket", x.req.Bucket), slog.String("key", x.req.Key),
				slog.String("method", x.req.HTTP.Method), slog.String("uri", strings.ToValidUTF8(x.req.HTTP.URL.Path, "?")),
				slog.Int("status", x.req.Response.HTTPStatusCode))
		}
		if err != nil {
			return c.PushingNext1(t.Runtime, rt.IntValue(-5)), nil // -EIO
		}
		return c.PushingNext1(t.Runtime, rt.IntValue(0)), nil
	}, 0, false)
}
