package cli

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
)

// describeError renders err as one line a person can read: the SDK's own
// text ("operation error S3: GetObject, https response error StatusCode:
// 404, RequestID: …") names https whatever the endpoint's scheme and
// repeats itself, so each SDK error in the chain is replaced by its
// operation, S3 error code and message, or by the endpoint that could not
// be reached.
func describeError(err error) string {
	msg := err.Error()
	if oe, ok := errors.AsType[*smithy.OperationError](err); ok {
		msg = strings.Replace(msg, oe.Error(), describeOperation(oe), 1)
	}
	return msg
}

func describeOperation(oe *smithy.OperationError) string {
	op := oe.Operation()
	if ae, ok := errors.AsType[smithy.APIError](oe); ok {
		status := 0
		if re, ok := errors.AsType[*awshttp.ResponseError](oe); ok {
			status = re.HTTPStatusCode()
		}
		text := ae.ErrorMessage()
		if text == "" {
			text = http.StatusText(status)
		}
		if status != 0 {
			return fmt.Sprintf("%s: %s: %s (HTTP %d)", op, ae.ErrorCode(), text, status)
		}
		return fmt.Sprintf("%s: %s: %s", op, ae.ErrorCode(), text)
	}
	if ue, ok := errors.AsType[*url.Error](oe); ok {
		where := ue.URL
		if u, err := url.Parse(ue.URL); err == nil {
			where = u.Scheme + "://" + u.Host
		}
		cause := ue.Err
		if ne, ok := errors.AsType[*net.OpError](ue.Err); ok && ne.Err != nil {
			cause = ne.Err
		}
		return fmt.Sprintf("%s: cannot reach %s: %v", op, where, cause)
	}
	return fmt.Sprintf("%s: %v", op, oe.Unwrap())
}
