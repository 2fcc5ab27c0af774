package cli

import (
	"errors"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/spf13/cobra"
)

func newCatCmd(e env) *cobra.Command {
	var f s3Flags
	cmd := &cobra.Command{
		Use: "cat s3://bucket/key", Short: "Stream an object to standard output", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := s3Arg(args[0])
			if err != nil {
				return err
			}
			if l.Key == "" {
				return errors.New("cat: no key in " + args[0])
			}
			c, err := f.client(cmd.Context(), e)
			if err != nil {
				return err
			}
			out, err := c.GetObject(cmd.Context(), &s3.GetObjectInput{Bucket: aws.String(l.Bucket), Key: aws.String(l.Key)})
			if err != nil {
				return err
			}
			defer out.Body.Close()
			_, err = io.Copy(e.stdout, out.Body)
			return err
		},
	}
	f.register(cmd)
	return cmd
}
