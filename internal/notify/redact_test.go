package notify

import "testing"

// TestViewForHidesSecrets: a non-owner's view of a topic carries no
// credential, no userinfo and no OpaqueData, even when a raw password
// holds "&" and "k=v" that look like other arguments; the owner sees it all.
func TestViewForHidesSecrets(t *testing.T) {
	topic := &Topic{Owner: "alice", Endpoint: "amqp://u:pw@127.0.0.1:5672", OpaqueData: "token",
		Args: "amqp-exchange=ex&password=s3cr&verify-ssl=leak&user-name=u"}
	if got := topic.ViewFor("alice"); got != topic {
		t.Fatalf("owner's view is a copy: %+v", got)
	}
	for _, c := range []struct {
		name, args, want string
	}{
		{"credentials", topic.Args, ""},
		{"no credentials", "amqp-exchange=ex&verify-ssl=false", "amqp-exchange=ex&verify-ssl=false"},
		{"unknown keys", "amqp-exchange=ex&token=abc", "amqp-exchange=ex"},
	} {
		t.Run(c.name, func(t *testing.T) {
			tc := *topic
			tc.Args = c.args
			v := tc.ViewFor("bob")
			if v.Args != c.want || v.OpaqueData != "" || v.Endpoint != "amqp://127.0.0.1:5672" {
				t.Errorf("bob sees args %q opaque %q endpoint %q; want args %q", v.Args, v.OpaqueData, v.Endpoint, c.want)
			}
		})
	}
}
