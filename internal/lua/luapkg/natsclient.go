package luapkg

import (
	"errors"
	"fmt"
	"strconv"

	rt "github.com/arnodel/golua/runtime"
	"github.com/nats-io/nats.go"
)

// natsClient is a lua-nats client object: its parameters, and the pooled
// connection once connected.
type natsClient struct {
	p          *Packages
	host       string
	port       int64
	user, pass string
	conn       *nats.Conn
}

// newNATS builds the nats module: lua-nats' API as Ceph's nats_adapter.lua
// calls it (nats.connect{host=, port=} or nats.connect(host, port),
// client:set_auth(user, pass), client:connect(), client:publish(subject,
// payload), defaults 127.0.0.1:4222), over nats.go with pooled connections.
func (p *Packages) newNATS(r *rt.Runtime) *rt.Table {
	m := rt.NewTable()
	r.SetEnv(m, "_VERSION", rt.StringValue("lua-nats 0.0.3 (cairn)"))
	methods := rt.NewTable()
	for name, f := range map[string]rt.GoFunctionFunc{
		"connect": p.natsConnectCmd, "publish": p.natsPublish, "ping": p.natsPing,
		"set_auth": natsSetAuth, "shutdown": natsShutdown, "get_server_info": natsServerInfo,
		"set_verbose": natsNoop, "set_pedantic": natsNoop, "enable_trace": natsNoop,
	} {
		setFunc(r, methods, name, f, 3, false, netFlags)
	}
	meta := rt.NewTable()
	r.SetEnv(meta, "__index", rt.TableValue(methods))
	r.SetEnv(meta, "__name", rt.StringValue("nats client"))
	setFunc(r, m, "connect", func(t *rt.Thread, c *rt.GoCont) (rt.Cont, error) {
		cl, err := p.natsParams(c)
		if err != nil {
			return nil, err
		}
		return c.PushingNext1(t.Runtime, t.Runtime.NewUserDataValue(cl, meta)), nil
	}, 3, false, netFlags)
	return m
}

// natsParams reads nats.connect's arguments: a table {host, port, user,
// pass} or host, port; missing ones default to 127.0.0.1:4222.
func (p *Packages) natsParams(c *rt.GoCont) (*natsClient, error) {
	cl := &natsClient{p: p, host: "127.0.0.1", port: 4222}
	var host, port, user, pass rt.Value
	if c.NArgs() == 1 {
		tbl, ok := c.Arg(0).TryTable()
		if !ok && !c.Arg(0).IsNil() {
			return nil, errors.New("nats.connect: want a table of parameters")
		}
		get := func(k string) rt.Value { return rt.RawGet(tbl, rt.StringValue(k)) }
		host, port, user, pass = get("host"), get("port"), get("user"), get("pass")
	} else if c.NArgs() > 1 {
		host, port = c.Arg(0), c.Arg(1)
	}
	if s, ok := host.ToString(); ok && !host.IsNil() {
		cl.host = s
	}
	if !port.IsNil() {
		n, ok := rt.ToInt(port)
		if !ok {
			s, _ := port.ToString()
			v, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("nats.connect: invalid port %q", s)
			}
			n = v
		}
		cl.port = n
	}
	cl.user, _ = user.ToString()
	cl.pass, _ = pass.ToString()
	return cl, nil
}

// self returns the client a method is called on.
func natsSelf(c *rt.GoCont) (*natsClient, error) {
	if c.NArgs() > 0 {
		if ud, ok := c.Arg(0).TryUserData(); ok {
			if cl, ok := ud.Value().(*natsClient); ok {
				return cl, nil
			}
		}
	}
	return nil, errors.New("nats: method called without a client (use client:method(...))")
}

func natsSetAuth(t *rt.Thread, c *rt.GoCont) (rt.Cont, error) {
	cl, err := natsSelf(c)
	if err != nil {
		return nil, err
	}
	cl.user, _ = c.Arg(1).ToString()
	cl.pass, _ = c.Arg(2).ToString()
	return c.Next(), nil
}

// ensure connects the client through the pool (what client:connect()
// does; publish connects too, as a script may skip connect()).
func (cl *natsClient) ensure(t *rt.Thread) error {
	if cl.conn != nil && !cl.conn.IsClosed() {
		return nil
	}
	addr := hostPort(cl.host, cl.port)
	conn, err := cl.p.nats.get(natsKey{addr: addr, user: cl.user, pass: cl.pass}, cl.p.opTimeout(t))
	if err != nil {
		return fmt.Errorf("could not connect to %s [%v]", addr, err)
	}
	cl.conn = conn
	return nil
}

func (p *Packages) natsConnectCmd(t *rt.Thread, c *rt.GoCont) (rt.Cont, error) {
	cl, err := natsSelf(c)
	if err != nil {
		return nil, err
	}
	if err := cl.ensure(t); err != nil {
		return nil, err
	}
	return c.Next(), nil
}

func (p *Packages) natsPublish(t *rt.Thread, c *rt.GoCont) (rt.Cont, error) {
	cl, err := natsSelf(c)
	if err != nil {
		return nil, err
	}
	subject, err := c.StringArg(1)
	if err != nil {
		return nil, err
	}
	payload, err := c.StringArg(2)
	if err != nil {
		return nil, err
	}
	t.RequireCPU(uint64(len(payload)/64 + 1))
	if err := cl.ensure(t); err != nil {
		return nil, err
	}
	err = cl.conn.Publish(subject, []byte(payload))
	if errors.Is(err, nats.ErrConnectionClosed) { // evicted or shut down meanwhile: once more
		cl.conn = nil
		if err = cl.ensure(t); err == nil {
			err = cl.conn.Publish(subject, []byte(payload))
		}
	}
	if err != nil {
		return nil, fmt.Errorf("connection error: %v", err)
	}
	return c.Next(), nil
}

// natsPing is client:ping(): true when the server answered in time.
func (p *Packages) natsPing(t *rt.Thread, c *rt.GoCont) (rt.Cont, error) {
	cl, err := natsSelf(c)
	if err != nil {
		return nil, err
	}
	if err := cl.ensure(t); err != nil {
		return nil, err
	}
	ok := cl.conn.FlushTimeout(p.opTimeout(t)) == nil
	return c.PushingNext1(t.Runtime, rt.BoolValue(ok)), nil
}

// natsShutdown forgets the client's connection; the pooled connection
// stays open for other executions.
func natsShutdown(t *rt.Thread, c *rt.GoCont) (rt.Cont, error) {
	cl, err := natsSelf(c)
	if err != nil {
		return nil, err
	}
	cl.conn = nil
	return c.Next(), nil
}

func natsServerInfo(t *rt.Thread, c *rt.GoCont) (rt.Cont, error) {
	cl, err := natsSelf(c)
	if err != nil {
		return nil, err
	}
	info := rt.NewTable()
	if cl.conn != nil {
		r := t.Runtime
		r.SetEnv(info, "server_id", rt.StringValue(cl.conn.ConnectedServerId()))
		r.SetEnv(info, "server_name", rt.StringValue(cl.conn.ConnectedServerName()))
		r.SetEnv(info, "version", rt.StringValue(cl.conn.ConnectedServerVersion()))
		r.SetEnv(info, "max_payload", rt.IntValue(cl.conn.MaxPayload()))
	}
	return c.PushingNext1(t.Runtime, rt.TableValue(info)), nil
}

func natsNoop(t *rt.Thread, c *rt.GoCont) (rt.Cont, error) { return c.Next(), nil }
