package console

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// MaxPresignExpiry is SigV4's limit on a presigned URL's lifetime.
const MaxPresignExpiry = 7 * 24 * time.Hour

// presignRequest is the body of POST /api/presign.
type presignRequest struct {
	Method         string `json:"method"`
	Bucket         string `json:"bucket"`
	Key            string `json:"key"`
	VersionID      string `json:"versionId"`
	PartNumber     int    `json:"partNumber"`
	UploadID       string `json:"uploadId"`
	ExpiresSeconds int64  `json:"expiresSeconds"`
}

// servePresign answers POST /api/presign with {"url"}: a URL on the S3
// endpoint presigned with the session's key. The S3 handler authorizes its
// use later, as for any presigned URL.
func (c *Console) servePresign(w http.ResponseWriter, r *http.Request, s *session) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		writeError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "use POST")
		return
	}
	var p presignRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&p); err != nil {
		writeError(w, http.StatusBadRequest, "MalformedJSON", "want {\"method\", \"bucket\", \"key\", \"expiresSeconds\", ...}")
		return
	}
	if msg := p.invalid(); msg != "" {
		writeError(w, http.StatusBadRequest, "InvalidArgument", msg)
		return
	}
	q := url.Values{}
	if p.VersionID != "" {
		q.Set("versionId", p.VersionID)
	}
	if p.PartNumber > 0 {
		q.Set("partNumber", strconv.Itoa(p.PartNumber))
	}
	if p.UploadID != "" {
		q.Set("uploadId", p.UploadID)
	}
	q.Set("X-Amz-Expires", strconv.FormatInt(p.ExpiresSeconds, 10))
	target := c.endpoint.Scheme + "://" + c.endpoint.Host + "/" + escapeKey(p.Bucket) + "/" + escapeKey(p.Key) + "?" + q.Encode()
	req, err := http.NewRequestWithContext(r.Context(), p.Method, target, nil)
	if err != nil {
		writeError(w, http.StatusBadRequest, "InvalidArgument", "the bucket or key cannot be put in a URL")
		return
	}
	creds := aws.Credentials{AccessKeyID: s.accessKey, SecretAccessKey: s.secretKey}
	signed, _, err := v4.NewSigner().PresignHTTP(r.Context(), creds, req, unsignedPayload, "s3", c.cfg.Region, c.cfg.Now(),
		func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	if err != nil {
		c.log.ErrorContext(r.Context(), "console: presign", "err", err)
		writeError(w, http.StatusInternalServerError, "InternalError", "could not presign the URL")
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"url": signed})
}

// invalid says what is wrong with p, or "".
func (p *presignRequest) invalid() string {
	switch {
	case p.Method != http.MethodGet && p.Method != http.MethodPut:
		return "method must be GET or PUT"
	case p.Bucket == "" || strings.Contains(p.Bucket, "/"):
		return "bucket is missing or contains '/'"
	case p.Key == "":
		return "key is missing"
	case p.ExpiresSeconds < 1 || p.ExpiresSeconds > int64(MaxPresignExpiry/time.Second):
		return "expiresSeconds must be 1 to 604800 (7 days)"
	case p.PartNumber < 0 || p.PartNumber > 10000:
		return "partNumber must be 1 to 10000"
	case (p.PartNumber > 0) != (p.UploadID != ""):
		return "partNumber and uploadId go together"
	}
	return ""
}

// escapeKey percent-encodes everything but SigV4's unreserved characters
// and '/', as S3 clients encode keys in paths.
func escapeKey(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if 'A' <= ch && ch <= 'Z' || 'a' <= ch && ch <= 'z' || '0' <= ch && ch <= '9' || strings.IndexByte("-._~/", ch) >= 0 {
			b.WriteByte(ch)
			continue
		}
		b.WriteByte('%')
		b.WriteByte("0123456789ABCDEF"[ch>>4])
		b.WriteByte("0123456789ABCDEF"[ch&15])
	}
	return b.String()
}
