package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/spf13/cobra"

	"github.com/cairn-s3/cairn/internal/probe"
)

// probeFlags are the flags of `cairn probe`.
type probeFlags struct {
	endpoints      []string
	listen         string
	interval       time.Duration
	objectSize     int
	objects        int
	bucketPrefix   string
	requestTimeout time.Duration
	once           bool
	eventListen    string
	eventURL       string
	eventTimeout   time.Duration
	logLevel       string
	logFormat      string
}

func newProbeCmd(e env) *cobra.Command {
	var f probeFlags
	cmd := &cobra.Command{
		Use:   "probe",
		Short: "Check S3 endpoints with real requests and export Prometheus metrics",
		Long: `Check S3 endpoints the way a client sees them. Every interval (and once at
start) each endpoint gets one cycle: create a bucket, put an object, list
buckets, list objects, get the object and compare its bytes, delete it, put
--objects objects, delete them with one DeleteObjects, remove the bucket.
Durations and failures are served on --listen at /metrics.

Credentials and region come from the standard AWS environment
(AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_PROFILE, shared
config files). With --once, one cycle runs, its result is printed and the
exit code is 1 if any request failed; nothing is served.

With --event-listen, each cycle also checks event delivery: a topic on each
endpoint (<bucket-prefix>-events) pushes ObjectCreated events of the
cycle's bucket to that listener (reachable by the target at --event-url),
and the time from PUT to event, or the event's absence, is exported.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runProbe(cmd.Context(), e, f) },
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&f.endpoints, "endpoint", nil, "S3 endpoint URL to probe (repeatable; default $AWS_ENDPOINT_URL_S3, then $AWS_ENDPOINT_URL)")
	fl.StringVar(&f.listen, "listen", "127.0.0.1:9102", "host:port serving /metrics")
	fl.DurationVar(&f.interval, "interval", probe.DefaultInterval, "time between cycles")
	fl.IntVar(&f.objectSize, "object-size", probe.DefaultObjectSize, "size in bytes of each object written")
	fl.IntVar(&f.objects, "objects", probe.DefaultObjects, "objects written then removed with one DeleteObjects")
	fl.StringVar(&f.bucketPrefix, "bucket-prefix", probe.DefaultBucketPrefix, "prefix of the bucket created each cycle")
	fl.DurationVar(&f.requestTimeout, "request-timeout", probe.DefaultRequestTimeout, "timeout of each request")
	fl.StringVar(&f.eventListen, "event-listen", "", "host:port where the probe receives pushed events; enables the event-delivery check")
	fl.StringVar(&f.eventURL, "event-url", "", "push endpoint given to the targets' topic (default http://<event-listen>)")
	fl.DurationVar(&f.eventTimeout, "event-timeout", probe.DefaultEventTimeout, "time after a PUT within which its event must arrive")
	fl.BoolVar(&f.once, "once", false, "run one cycle, print the result and exit (1 on failure)")
	fl.StringVar(&f.logLevel, "log-level", e.get(EnvLogLevel, "info"), "log level: debug, info, warn or error (env "+EnvLogLevel+")")
	fl.StringVar(&f.logFormat, "log-format", e.get(EnvLogFormat, "text"), "log format: text or json (env "+EnvLogFormat+")")
	return cmd
}

// awsConfig loads the standard AWS configuration. Keys and region given
// in e take precedence, so the command's injected environment is honoured.
func awsConfig(ctx context.Context, e env) (aws.Config, error) {
	var opts []func(*config.LoadOptions) error
	if id, secret := e.get("AWS_ACCESS_KEY_ID", ""), e.get("AWS_SECRET_ACCESS_KEY", ""); id != "" && secret != "" {
		opts = append(opts, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(id, secret, e.get("AWS_SESSION_TOKEN", ""))))
	}
	if r := e.get("AWS_REGION", ""); r != "" {
		opts = append(opts, config.WithRegion(r))
	}
	if p := e.get("AWS_PROFILE", ""); p != "" {
		opts = append(opts, config.WithSharedConfigProfile(p))
	}
	return config.LoadDefaultConfig(ctx, opts...)
}

func runProbe(ctx context.Context, e env, f probeFlags) error {
	if len(f.endpoints) == 0 {
		// The same default as the other S3 verbs.
		if ep := e.get("AWS_ENDPOINT_URL_S3", e.get("AWS_ENDPOINT_URL", "")); ep != "" {
			f.endpoints = []string{ep}
		} else {
			return errors.New("probe: no endpoint: give --endpoint or set AWS_ENDPOINT_URL")
		}
	}
	log, err := newLogger(e.stderr, f.logLevel, f.logFormat)
	if err != nil {
		return err
	}
	awsCfg, err := awsConfig(ctx, e)
	if err != nil {
		return fmt.Errorf("aws config: %w", err)
	}
	p, err := probe.New(probe.Config{
		Endpoints:      f.endpoints,
		Interval:       f.interval,
		ObjectSize:     f.objectSize,
		Objects:        f.objects,
		BucketPrefix:   f.bucketPrefix,
		RequestTimeout: f.requestTimeout,
		AWS:            awsCfg,
		Logger:         log,
		EventListen:    f.eventListen,
		EventURL:       f.eventURL,
		EventTimeout:   f.eventTimeout,
	})
	if err != nil {
		return err
	}
	defer func() {
		if err := p.Close(); err != nil {
			log.Warn("probe: close event listener", "err", err)
		}
	}()
	if f.once {
		failed := false
		for _, r := range p.RunOnce(ctx) {
			if r.OK() {
				fmt.Fprintf(e.stdout, "%s: ok (%s, bucket %s)\n", r.Target, r.Duration.Round(time.Millisecond), r.Bucket)
				continue
			}
			failed = true
			for _, fl := range r.Failures {
				fmt.Fprintf(e.stdout, "%s: FAIL %v\n", r.Target, fl)
			}
		}
		if failed {
			return errSilent
		}
		return nil
	}

	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", p.Handler())
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	log.Info("probe serving metrics", "address", "http://"+ln.Addr().String()+"/metrics", "endpoints", f.endpoints, "interval", f.interval)

	err = p.Run(ctx)
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if serr := hs.Shutdown(shutdownCtx); serr != nil {
		err = errors.Join(err, serr)
	}
	if serr := <-served; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}
