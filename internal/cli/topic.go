package cli

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/spf13/cobra"
)

// exitError carries a process exit code other than 1.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// enoent turns a 404 from the admin API into exit code 2, as radosgw-admin
// exits with ENOENT for a missing topic or notification.
func enoent(err error) error {
	var ae *apiError
	if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
		return &exitError{code: 2, err: err}
	}
	return err
}

// adminCall is adminPrint for topic and notification subcommands, where a
// missing resource exits like radosgw-admin (see enoent).
func adminCall(e env, f *adminFlags, cmd *cobra.Command, method, path, sub string, q url.Values) error {
	return enoent(adminPrint(e, f, cmd, method, path, sub, q))
}

func newTopicCmd(e env, f *adminFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "topic", Short: "Inspect and manage notification topics and their queues"}
	var tenant string
	cmd.PersistentFlags().StringVar(&tenant, "tenant", "", "tenant of the topic")
	topicQ := func(topic string) url.Values {
		q := url.Values{"topic": {topic}}
		if tenant != "" {
			q.Set("tenant", tenant)
		}
		return q
	}
	// one builds a subcommand addressing one topic.
	one := func(use, short, method, sub string, extra func(*cobra.Command, url.Values)) *cobra.Command {
		var topic string
		c := &cobra.Command{
			Use: use, Short: short, Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				q := topicQ(topic)
				if extra != nil {
					extra(cmd, q)
				}
				return adminCall(e, f, cmd, method, "/admin/topic", sub, q)
			},
		}
		c.Flags().StringVar(&topic, "topic", "", "topic name (required)")
		_ = c.MarkFlagRequired("topic")
		return c
	}

	var uid string
	list := &cobra.Command{
		Use: "list [--tenant T] [--uid U]", Short: `List topics: {"topics":[...]}`, Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := url.Values{}
			if tenant != "" {
				q.Set("tenant", tenant)
			}
			if uid != "" {
				q.Set("uid", uid)
			}
			return adminCall(e, f, cmd, http.MethodGet, "/admin/topic", "", q)
		},
	}
	list.Flags().StringVar(&uid, "uid", "", "only topics owned by this user (of --tenant)")

	dlq := &cobra.Command{Use: "dlq", Short: "Dead letters of a persistent topic"}
	dlqList := one("list --topic N [--max-entries M]", `List dead letters: {"dead_letters":[...]}`, http.MethodGet, "dlq",
		func(cmd *cobra.Command, q url.Values) { setIf(cmd, q, map[string]string{"max-entries": "max-entries"}) })
	dlqList.Flags().Int("max-entries", 1000, "most dead letters to list")
	replay := one("replay --topic N [--event-id I]", `Put dead letters (all, or one) back into the queue: {"replayed":n}`, http.MethodPost, "replay",
		func(cmd *cobra.Command, q url.Values) { setIf(cmd, q, map[string]string{"event-id": "event-id"}) })
	replay.Flags().String("event-id", "", "replay only this event")
	dlq.AddCommand(dlqList, replay)

	cmd.AddCommand(
		list,
		one("get --topic N", "Show a topic (exit 2 if missing)", http.MethodGet, "", nil),
		one("rm --topic N", "Remove a topic with its queue and dead letters", http.MethodDelete, "", nil),
		one("stats --topic N", "Queue depth, bytes, oldest pending age and delivery counters", http.MethodGet, "stats", nil),
		one("test-event --topic N", "Queue (persistent) or push (synchronous) a test ObjectCreated:Put record", http.MethodPost, "test-event", nil),
		dlq,
	)
	return cmd
}

func newNotificationCmd(e env, f *adminFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "notification", Short: "Inspect and remove bucket notifications"}
	var bucket, tenant string
	cmd.PersistentFlags().StringVar(&bucket, "bucket", "", "bucket name (required)")
	cmd.PersistentFlags().StringVar(&tenant, "tenant", "", "tenant of the bucket")
	_ = cmd.MarkPersistentFlagRequired("bucket")
	sub := func(use, short, method string, needID bool) *cobra.Command {
		var id string
		c := &cobra.Command{
			Use: use, Short: short, Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				q := url.Values{"bucket": {bucket}}
				if tenant != "" {
					q.Set("tenant", tenant)
				}
				if id != "" {
					q.Set("notification-id", id)
				}
				return adminCall(e, f, cmd, method, "/admin/notification", "", q)
			},
		}
		c.Flags().StringVar(&id, "notification-id", "", "notification id")
		if needID {
			_ = c.MarkFlagRequired("notification-id")
		}
		return c
	}
	cmd.AddCommand(
		sub("list --bucket B", `List a bucket's notifications: {"notifications":[...]}`, http.MethodGet, false),
		sub("get --bucket B --notification-id I", "Show one notification (exit 2 if missing)", http.MethodGet, true),
		sub("rm --bucket B [--notification-id I]", "Remove one notification, or all of the bucket's", http.MethodDelete, false),
	)
	return cmd
}
