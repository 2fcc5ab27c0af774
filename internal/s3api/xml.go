package s3api

import (
	"encoding/xml"
	"io"
	"net/http"
	"strconv"
)

// s3Namespace is the XML namespace of S3 response documents.
const s3Namespace = "http://s3.amazonaws.com/doc/2006-03-01/"

// maxXMLBody bounds request documents (tagging, ACLs, complete-multipart
// lists of 10,000 parts, delete lists of 1,000 keys all fit).
const maxXMLBody = 2 << 20

func writeXML(w http.ResponseWriter, v any) error {
	writeXMLStatus(w, http.StatusOK, v)
	return nil
}

func writeXMLStatus(w http.ResponseWriter, status int, v any) {
	body, err := xml.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		body = []byte("<Error><Code>InternalError</Code></Error>")
	}
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(xml.Header)+len(body)))
	w.WriteHeader(status)
	_, _ = io.WriteString(w, xml.Header)
	_, _ = w.Write(body)
}
