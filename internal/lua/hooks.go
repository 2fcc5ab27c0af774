package lua

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	rt "github.com/arnodel/golua/runtime"
)

// Denial is how a prerequest script's abort (or, with FailClosed, its
// failure) answers the request.
type Denial struct {
	Status  int
	Code    string
	Message string
}

// PreRequest runs the prerequest script of the request's tenant. It
// returns a denial when the script returned RGW_ABORT_REQUEST (with the
// Response fields it set, 403 AccessDenied by default), or failed while
// the engine fails closed.
func (e *Engine) PreRequest(ctx context.Context, req *Request) *Denial {
	ret, err := e.runRequest(ctx, PreRequest, req)
	switch {
	case errors.Is(err, errNoScript):
		return nil
	case err != nil:
		if e.cfg.FailClosed {
			return &Denial{Status: http.StatusForbidden, Code: "AccessDenied", Message: "Denied by the prerequest Lua script, which failed"}
		}
		return nil
	case ret != AbortRequest:
		return nil
	}
	d := &Denial{Status: req.Response.HTTPStatusCode, Code: req.Response.HTTPStatus, Message: req.Response.Message}
	if d.Status < 400 || d.Status > 599 {
		d.Status = http.StatusForbidden
	}
	if d.Code == "" {
		// An S3-style code from the status: "AccessDenied" for 403 as
		// RGW answers, else the status text without spaces ("NotFound").
		d.Code = strings.ReplaceAll(http.StatusText(d.Status), " ", "")
		if d.Status == http.StatusForbidden {
			d.Code = "AccessDenied"
		}
	}
	if d.Message == "" {
		d.Message = http.StatusText(d.Status)
		if d.Status == http.StatusForbidden {
			d.Message = "Access Denied"
		}
	}
	return d
}

// PostAuth runs the postauth script (after authentication and
// authorization, before the op); its failures never fail the request.
func (e *Engine) PostAuth(ctx context.Context, req *Request) { _, _ = e.runRequest(ctx, PostAuth, req) }

// PostRequest runs the postrequest script; req.Response carries the
// response's status and error code.
func (e *Engine) PostRequest(ctx context.Context, req *Request) {
	_, _ = e.runRequest(ctx, PostRequest, req)
}

func (e *Engine) runRequest(ctx context.Context, c Context, req *Request) (int64, error) {
	return e.execute(ctx, c, req.Tenant, func(x *exec) {
		x.req = req
		x.lazy["Request"] = x.requestValue
	})
}

// HasScript reports whether (c, tenant) has a script, so that the S3
// layer wraps a body only when a data script will read it.
func (e *Engine) HasScript(ctx context.Context, c Context, tenant string) bool {
	scripts, err := e.chunks.get(ctx, c, tenant)
	return len(scripts) > 0 || err != nil
}

// Data runs the getdata or putdata script on one chunk of an object's
// body at offset. The script reads the chunk; it cannot change it.
func (e *Engine) Data(ctx context.Context, c Context, req *Request, chunk []byte, offset int64) {
	_, _ = e.execute(ctx, c, req.Tenant, func(x *exec) {
		x.req = req
		x.lazy["Request"] = x.requestValue
		x.lazy["Data"] = func() rt.Value { return x.dataValue(chunk) }
		x.r.GlobalEnv().Set(rt.StringValue("Offset"), rt.IntValue(offset))
	})
}

// dataValue is the Data global: read-only, byte by byte, 1-based.
func (x *exec) dataValue(chunk []byte) rt.Value {
	meta := rt.NewTable()
	at := func(k rt.Value) rt.Value {
		i, ok := k.TryInt()
		if !ok || i < 1 || i > int64(len(chunk)) {
			return rt.NilValue
		}
		return rt.StringValue(string(chunk[i-1 : i]))
	}
	meta.Set(rt.StringValue("__index"), x.fn("__index", func(t *rt.Thread, c *rt.GoCont) (rt.Cont, error) {
		return c.PushingNext1(t.Runtime, at(c.Arg(1))), nil
	}, 2, false))
	meta.Set(rt.StringValue("__newindex"), x.fn("__newindex", func(t *rt.Thread, c *rt.GoCont) (rt.Cont, error) {
		return nil, errors.New("Data is read-only")
	}, 3, false))
	meta.Set(rt.StringValue("__len"), x.fn("__len", func(t *rt.Thread, c *rt.GoCont) (rt.Cont, error) {
		return c.PushingNext1(t.Runtime, rt.IntValue(int64(len(chunk)))), nil
	}, 1, false))
	meta.Set(rt.StringValue("__pairs"), x.fn("__pairs", func(t *rt.Thread, c *rt.GoCont) (rt.Cont, error) {
		i := int64(0)
		next := x.fn("next", func(t *rt.Thread, c *rt.GoCont) (rt.Cont, error) {
			i++
			if i > int64(len(chunk)) {
				return c.PushingNext1(t.Runtime, rt.NilValue), nil
			}
			return c.PushingNext(t.Runtime, rt.IntValue(i), at(rt.IntValue(i))), nil
		}, 2, false)
		return c.PushingNext(t.Runtime, next, c.Arg(0), rt.NilValue), nil
	}, 1, false))
	t := rt.NewTable()
	t.SetMetatable(meta)
	return rt.TableValue(t)
}

// Start runs the background script every BackgroundInterval until Close.
// A change of the script is picked up at the next run. Calls after the
// first do nothing.
func (e *Engine) Start() {
	if !e.started.CompareAndSwap(false, true) {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	e.stopBackground = cancel
	e.backgroundDone = make(chan struct{})
	go func() {
		defer close(e.backgroundDone)
		tick := time.NewTicker(e.cfg.BackgroundInterval)
		defer tick.Stop()
		for {
			_, _ = e.execute(ctx, Background, "", nil)
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
}
