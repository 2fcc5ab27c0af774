package cli

import (
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/spf13/cobra"
)

func newRmCmd(e env) *cobra.Command {
	var f s3Flags
	cmd := &cobra.Command{
		Use: "rm s3://bucket/key...", Short: "Remove objects", Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := f.client(cmd.Context(), e)
			if err != nil {
				return err
			}
			for _, a := range args {
				l, err := s3Arg(a)
				if err != nil {
					return err
				}
				if l.Key == "" {
					return errors.New("rm: no key in " + a)
				}
				if _, err := c.DeleteObject(cmd.Context(), &s3.DeleteObjectInput{Bucket: aws.String(l.Bucket), Key: aws.String(l.Key)}); err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "delete: %s\n", l)
			}
			return nil
		},
	}
	f.register(cmd)
	return cmd
}
