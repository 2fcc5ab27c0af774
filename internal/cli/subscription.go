package cli

import (
	"net/http"
	"net/url"

	"github.com/spf13/cobra"
)

// newSubscriptionCmd is radosgw-admin's subscription get|rm|pull|ack
// (pubsub.md §8). Cairn's subscriptions belong to users, so --uid names
// the owner.
func newSubscriptionCmd(e env, f *adminFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "subscription", Short: "Inspect, pull, ack and remove pull-mode PubSub subscriptions"}
	var uid, tenant, name string
	cmd.PersistentFlags().StringVar(&uid, "uid", "", "owner of the subscription (required)")
	cmd.PersistentFlags().StringVar(&tenant, "tenant", "", tenantUsage)
	cmd.PersistentFlags().StringVar(&name, "subscription", "", "subscription name (required)")
	_ = cmd.MarkPersistentFlagRequired("uid")
	_ = cmd.MarkPersistentFlagRequired("subscription")
	sub := func(use, short, method, op string, flags map[string]string) *cobra.Command {
		c := &cobra.Command{
			Use: use, Short: short, Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				q := userQuery(uid, tenant)
				q.Set("subscription", name)
				setIf(cmd, q, flags)
				return adminCall(e, f, cmd, method, "/admin/subscription", op, q)
			},
		}
		for flag := range flags {
			c.Flags().String(flag, "", flag)
		}
		return c
	}
	ack := sub("ack --uid U --subscription S --event-id ID", "Ack (remove) a stored event", http.MethodPost, "ack",
		map[string]string{"event-id": "event-id"})
	_ = ack.MarkFlagRequired("event-id")
	cmd.AddCommand(
		sub("get --uid U --subscription S", "Show a subscription (exit 2 if missing)", http.MethodGet, "", nil),
		sub("rm --uid U --subscription S", "Remove a subscription (its events expire)", http.MethodDelete, "", nil),
		sub("pull --uid U --subscription S [--marker M] [--max-entries N]", "Show stored events (no delivery is counted)",
			http.MethodGet, "events", map[string]string{"marker": "marker", "max-entries": "max-entries"}),
		ack,
	)
	return cmd
}

// newCountersCmd prints the PubSub counters (pubsub.md §9).
func newCountersCmd(e env, f *adminFlags) *cobra.Command {
	return &cobra.Command{
		Use: "counters", Short: `Show the PubSub counters: {"pubsub":{"pubsub_event_triggered":n,...}}`, Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return adminPrint(e, f, cmd, http.MethodGet, "/admin/counters", "", url.Values{})
		},
	}
}
