package cli

import (
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/spf13/cobra"
)

// maxPresignExpiry is SigV4's limit on X-Amz-Expires.
const maxPresignExpiry = 7 * 24 * time.Hour

func newPresignCmd(e env) *cobra.Command {
	var (
		f       s3Flags
		expires time.Duration
		put     bool
	)
	cmd := &cobra.Command{
		Use:   "presign [--expires 1h] [--put] s3://bucket/key",
		Short: "Print a presigned URL that GETs (or with --put, PUTs) an object without credentials",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := s3Arg(args[0])
			if err != nil {
				return err
			}
			if l.Key == "" {
				return fmt.Errorf("presign: no key in %s", args[0])
			}
			if expires < time.Second || expires > maxPresignExpiry {
				return fmt.Errorf("--expires %s: must be between 1s and %s", expires, maxPresignExpiry)
			}
			c, err := f.client(cmd.Context(), e)
			if err != nil {
				return err
			}
			pc := s3.NewPresignClient(c, s3.WithPresignExpires(expires))
			var url string
			if put {
				req, err := pc.PresignPutObject(cmd.Context(), &s3.PutObjectInput{Bucket: aws.String(l.Bucket), Key: aws.String(l.Key)})
				if err != nil {
					return err
				}
				url = req.URL
			} else {
				req, err := pc.PresignGetObject(cmd.Context(), &s3.GetObjectInput{Bucket: aws.String(l.Bucket), Key: aws.String(l.Key)})
				if err != nil {
					return err
				}
				url = req.URL
			}
			_, err = fmt.Fprintln(e.stdout, url)
			return err
		},
	}
	f.register(cmd)
	cmd.Flags().DurationVar(&expires, "expires", time.Hour, "how long the URL is valid (at most 168h)")
	cmd.Flags().BoolVar(&put, "put", false, "presign an upload (PUT) instead of a download")
	return cmd
}
