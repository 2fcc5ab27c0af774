package luapkg

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"

	rt "github.com/arnodel/golua/runtime"
)

// maxHTTPResponse bounds the response body a script receives.
const maxHTTPResponse = 1 << 20

// newHTTP builds socket.http with LuaSocket's simple form:
// http.request(url) GETs, http.request(url, body) POSTs body as
// application/x-www-form-urlencoded; both return body, code, headers,
// status line, or nil and an error message. Requests are bounded by the
// package timeout and the script's time limit.
func (p *Packages) newHTTP(r *rt.Runtime) *rt.Table {
	m := rt.NewTable()
	r.SetEnv(m, "TIMEOUT", rt.IntValue(int64(p.timeout.Seconds())))
	r.SetEnv(m, "USERAGENT", rt.StringValue("LuaSocket 3.0 (cairn)"))
	setFunc(r, m, "request", p.httpRequest, 2, false, netFlags)
	return m
}

func (p *Packages) httpRequest(t *rt.Thread, c *rt.GoCont) (rt.Cont, error) {
	if err := c.Check1Arg(); err != nil {
		return nil, err
	}
	url, ok := c.Arg(0).TryString()
	if !ok {
		return nil, errors.New("socket.http: only the simple form request(url [, body]) is supported")
	}
	method, body := http.MethodGet, ""
	if c.NArgs() > 1 && !c.Arg(1).IsNil() {
		if body, ok = c.Arg(1).ToString(); !ok {
			return nil, errors.New("socket.http: body must be a string")
		}
		method = http.MethodPost
	}
	t.RequireCPU(uint64(len(body)/64 + 1))
	resp, err := p.doHTTP(t, method, url, body)
	if err != nil {
		return c.PushingNext(t.Runtime, rt.NilValue, rt.StringValue(err.Error())), nil
	}
	t.RequireBytes(len(resp.body))
	headers := rt.NewTable()
	for k, vs := range resp.header {
		t.Runtime.SetEnv(headers, strings.ToLower(k), rt.StringValue(strings.Join(vs, ", ")))
	}
	return c.PushingNext(t.Runtime, rt.StringValue(resp.body), rt.IntValue(int64(resp.code)),
		rt.TableValue(headers), rt.StringValue(resp.status)), nil
}

type httpResult struct {
	body, status string
	code         int
	header       http.Header
}

func (p *Packages) doHTTP(t *rt.Thread, method, url, body string) (*httpResult, error) {
	ctx, cancel := context.WithTimeout(context.Background(), p.opTimeout(t))
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("User-Agent", "LuaSocket 3.0 (cairn)")
	resp, err := p.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxHTTPResponse))
	if err != nil {
		return nil, err
	}
	return &httpResult{body: string(data), status: resp.Proto + " " + resp.Status, code: resp.StatusCode, header: resp.Header}, nil
}
