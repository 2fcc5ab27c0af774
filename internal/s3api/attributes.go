package s3api

import (
	"encoding/xml"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/cairn-s3/cairn/internal/checksum"
	"github.com/cairn-s3/cairn/internal/s3err"
	"github.com/cairn-s3/cairn/internal/store"
)

// objectAttributes are the names x-amz-object-attributes may list.
var objectAttributes = map[string]bool{"ETag": true, "Checksum": true, "ObjectParts": true, "StorageClass": true, "ObjectSize": true}

// getObjectAttributesResult is the GetObjectAttributes response; absent
// attributes are omitted.
type getObjectAttributesResult struct {
	XMLName      xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ GetObjectAttributesResponse"`
	ETag         string   `xml:",omitempty"`
	Checksum     *xmlChecksums
	ObjectParts  *xmlObjectParts
	StorageClass string `xml:",omitempty"`
	ObjectSize   *int64 `xml:",omitempty"`
}

type xmlChecksums struct {
	ChecksumCRC32     string `xml:",omitempty"`
	ChecksumCRC32C    string `xml:",omitempty"`
	ChecksumCRC64NVME string `xml:",omitempty"`
	ChecksumSHA1      string `xml:",omitempty"`
	ChecksumSHA256    string `xml:",omitempty"`
	ChecksumType      string `xml:",omitempty"`
}

type xmlObjectParts struct {
	TotalPartsCount      int `xml:"PartsCount"`
	PartNumberMarker     int
	NextPartNumberMarker int
	MaxParts             int
	IsTruncated          bool
	Parts                []xmlObjectPart `xml:"Part"`
}

type xmlObjectPart struct {
	xmlChecksums
	PartNumber int
	Size       int64
}

// getObjectAttributes answers GET ?attributes: the metadata the client
// names in x-amz-object-attributes, without the body.
func (a *API) getObjectAttributes(w http.ResponseWriter, r *http.Request, req *Request) error {
	want, err := parseObjectAttributes(r.Header)
	if err != nil {
		return err
	}
	maxParts, marker, err := partsPaging(r.Header)
	if err != nil {
		return err
	}
	g, err := a.parseGetRequest(r, req)
	if err != nil {
		return err
	}
	h := w.Header()
	oi, err := a.store.HeadObject(r.Context(), req.Bucket, req.Key, store.GetOptions{VersionID: g.versionID})
	if errors.Is(err, store.ErrInvalidVersionID) {
		// An id Cairn never issues names no version: NoSuchVersion, as
		// clients of this call expect (minio-go sends UUIDs), not the
		// InvalidArgument of a malformed id on GET.
		err = s3err.NoSuchVersion.WithCause(err)
	}
	if err != nil {
		return g.readError(h, oi, err)
	}
	if _, err := g.prepare(h, oi); err != nil {
		return g.readError(h, oi, err)
	}
	h.Set("Last-Modified", oi.LastModified.UTC().Format(http.TimeFormat))
	setVersionHeaders(h, oi.VersionID, false)
	var res getObjectAttributesResult
	if want["ETag"] {
		res.ETag = oi.ETag
	}
	if want["StorageClass"] {
		res.StorageClass = oi.Meta.StorageClass
		if res.StorageClass == "" {
			res.StorageClass = "STANDARD"
		}
	}
	if want["ObjectSize"] {
		res.ObjectSize = &oi.Size
	}
	sums, typ := objectChecksums(oi.Meta)
	if want["Checksum"] && sums != nil {
		// A composite value keeps its "-N" here as in HEAD; S3 is said to
		// drop it in this one place, the conformance suite expects it.
		c := checksumsXML(sums)
		c.ChecksumType = typ
		res.Checksum = &c
	}
	if want["ObjectParts"] && len(oi.Parts) > 0 {
		// Parts keep their checksums in S3 only when the object's is built
		// from them (COMPOSITE).
		res.ObjectParts = objectPartsPage(oi.Parts, maxParts, marker, typ == checksum.TypeComposite)
	}
	return writeXML(w, res)
}

func parseObjectAttributes(h http.Header) (map[string]bool, error) {
	want := map[string]bool{}
	for _, v := range h.Values("X-Amz-Object-Attributes") {
		for _, name := range strings.Split(v, ",") {
			name = strings.TrimSpace(name)
			if !objectAttributes[name] {
				return nil, s3err.InvalidArgument.WithMessage("Invalid attribute name specified.")
			}
			want[name] = true
		}
	}
	if len(want) == 0 {
		return nil, s3err.InvalidArgument.WithMessage("x-amz-object-attributes header specifying the attributes to be retrieved is either missing or empty")
	}
	return want, nil
}

// partsPaging reads x-amz-max-parts and x-amz-part-number-marker.
func partsPaging(h http.Header) (maxParts, marker int, err error) {
	maxParts = 1000
	if v := h.Get("X-Amz-Max-Parts"); v != "" {
		if maxParts, err = strconv.Atoi(v); err != nil || maxParts < 0 {
			return 0, 0, s3err.InvalidArgument.WithMessage("Invalid max-parts")
		}
		maxParts = min(maxParts, 1000)
	}
	if v := h.Get("X-Amz-Part-Number-Marker"); v != "" {
		if marker, err = strconv.Atoi(v); err != nil || marker < 0 {
			return 0, 0, s3err.InvalidArgument.WithMessage("Invalid part-number-marker")
		}
	}
	return maxParts, marker, nil
}

func objectPartsPage(parts []store.Part, maxParts, marker int, withChecksums bool) *xmlObjectParts {
	page := &xmlObjectParts{TotalPartsCount: len(parts), PartNumberMarker: marker, MaxParts: maxParts}
	for _, p := range parts {
		if p.Number <= marker {
			continue
		}
		if len(page.Parts) == maxParts {
			page.IsTruncated = true
			break
		}
		part := xmlObjectPart{PartNumber: p.Number, Size: p.Size}
		if withChecksums {
			part.xmlChecksums = checksumsXML(p.Checksums)
		}
		page.Parts = append(page.Parts, part)
		page.NextPartNumberMarker = p.Number
	}
	return page
}

func checksumsXML(sums map[string]string) xmlChecksums {
	return xmlChecksums{
		ChecksumCRC32:     sums[store.ChecksumCRC32],
		ChecksumCRC32C:    sums[store.ChecksumCRC32C],
		ChecksumCRC64NVME: sums[store.ChecksumCRC64NVME],
		ChecksumSHA1:      sums[store.ChecksumSHA1],
		ChecksumSHA256:    sums[store.ChecksumSHA256],
	}
}
