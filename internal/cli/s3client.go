package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/spf13/cobra"

	"github.com/cairn-s3/cairn/internal/transfer"
)

// s3Flags are the flags of the S3 client commands (cp, ls, mb, rb, rm, cat),
// which work against any S3 endpoint with the standard AWS environment and
// profiles.
type s3Flags struct {
	endpoint string
}

func (f *s3Flags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.endpoint, "endpoint", "", "S3 endpoint URL (default $AWS_ENDPOINT_URL_S3, then $AWS_ENDPOINT_URL; path-style)")
}

// client builds an S3 client with config.LoadDefaultConfig. Credentials and
// region given in the command's environment take precedence, so tests (and
// callers of Main) need not touch the process environment.
func (f *s3Flags) client(ctx context.Context, e env) (*s3.Client, error) {
	cfg, endpoint, err := f.config(ctx, e)
	if err != nil {
		return nil, err
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
			o.UsePathStyle = true
		}
		// Parts carry Content-MD5; no flexible checksums, which not every
		// S3 endpoint accepts.
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	}), nil
}

// config loads the AWS configuration (credentials, region) and resolves
// the endpoint ("" for AWS's own), for commands that sign requests
// themselves.
func (f *s3Flags) config(ctx context.Context, e env) (aws.Config, string, error) {
	var opts []func(*config.LoadOptions) error
	if id, secret := e.get("AWS_ACCESS_KEY_ID", ""), e.get("AWS_SECRET_ACCESS_KEY", ""); id != "" && secret != "" {
		opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(id, secret, e.get("AWS_SESSION_TOKEN", ""))))
	}
	if r := e.get("AWS_REGION", e.get("AWS_DEFAULT_REGION", "")); r != "" {
		opts = append(opts, config.WithRegion(r))
	}
	if p := e.get("AWS_PROFILE", ""); p != "" {
		opts = append(opts, config.WithSharedConfigProfile(p))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, "", fmt.Errorf("aws config: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	endpoint := f.endpoint
	if endpoint == "" {
		endpoint = e.get("AWS_ENDPOINT_URL_S3", e.get("AWS_ENDPOINT_URL", ""))
	}
	return cfg, endpoint, nil
}

// s3Arg parses an argument that must be s3://bucket[/key].
func s3Arg(s string) (transfer.Location, error) {
	l, err := transfer.ParseLocation(s)
	if err != nil {
		return l, err
	}
	if !l.IsS3() {
		return l, errors.New("expected s3://bucket[/key], got " + s)
	}
	return l, nil
}
