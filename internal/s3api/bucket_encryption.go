package s3api

import (
	"encoding/xml"
	"net/http"

	"github.com/cairn-s3/cairn/internal/s3err"
	"github.com/cairn-s3/cairn/internal/store"
)

// encryptionConfigKey is the bucket Config key of the default encryption.
const encryptionConfigKey = "encryption"

// sseConfiguration is the ServerSideEncryptionConfiguration document.
type sseConfiguration struct {
	XMLName xml.Name  `xml:"ServerSideEncryptionConfiguration"`
	Xmlns   string    `xml:"xmlns,attr,omitempty"`
	Rules   []sseRule `xml:"Rule"`
}

type sseRule struct {
	Default struct {
		SSEAlgorithm   string `xml:"SSEAlgorithm"`
		KMSMasterKeyID string `xml:"KMSMasterKeyID,omitempty"`
	} `xml:"ApplyServerSideEncryptionByDefault"`
	BucketKeyEnabled bool `xml:"BucketKeyEnabled"`
}

// parseSSEConfiguration decodes and validates a default-encryption document.
func parseSSEConfiguration(body []byte) (sseConfiguration, error) {
	var c sseConfiguration
	if err := xml.Unmarshal(body, &c); err != nil {
		return c, s3err.MalformedXML.WithCause(err)
	}
	if len(c.Rules) != 1 {
		return c, s3err.MalformedXML
	}
	d := c.Rules[0].Default
	switch {
	case d.SSEAlgorithm == sseAES256 && d.KMSMasterKeyID == "":
	case d.SSEAlgorithm == sseKMS && d.KMSMasterKeyID != "":
	case d.SSEAlgorithm == sseKMS:
		return c, s3err.InvalidArgument.WithMessage("A KMSMasterKeyID is required: this server has no default KMS key.")
	default:
		return c, s3err.MalformedXML.WithMessage("The SSEAlgorithm must be AES256, or aws:kms with a KMSMasterKeyID.")
	}
	c.Xmlns = s3Namespace
	return c, nil
}

// bucketDefaultSSE is the encryption a bucket's default configuration
// applies to writes that ask for none.
func bucketDefaultSSE(b store.Bucket) sseRequest {
	raw, ok := b.Config[encryptionConfigKey]
	if !ok {
		return sseRequest{}
	}
	var c sseConfiguration
	if err := xml.Unmarshal(raw, &c); err != nil || len(c.Rules) == 0 {
		return sseRequest{} // validated when stored; unreachable
	}
	d := c.Rules[0].Default
	return sseRequest{algorithm: d.SSEAlgorithm, kmsKeyID: d.KMSMasterKeyID}
}

func (a *API) putBucketEncryption(w http.ResponseWriter, r *http.Request, req *Request) error {
	body, err := readVerifiedBody(r, maxXMLBody, false)
	if err != nil {
		return err
	}
	c, err := parseSSEConfiguration(body)
	if err != nil {
		return err
	}
	return a.setBucketConfigXML(r.Context(), req.Bucket, encryptionConfigKey, c)
}

func (a *API) getBucketEncryption(w http.ResponseWriter, r *http.Request, req *Request) error {
	b := req.auth.bucket
	doc, ok := b.Config[encryptionConfigKey]
	if !ok {
		return s3err.ServerSideEncryptionConfigurationNotFoundError
	}
	var c sseConfiguration
	if err := xml.Unmarshal(doc, &c); err != nil {
		return err
	}
	return writeXML(w, c)
}

func (a *API) deleteBucketEncryption(w http.ResponseWriter, r *http.Request, req *Request) error {
	return a.deleteBucketConfig(w, r, req, encryptionConfigKey)
}
