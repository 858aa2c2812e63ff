package s3api

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/coffer-io/coffer/internal/checksum"
	"github.com/coffer-io/coffer/internal/objects"
	"github.com/coffer-io/coffer/internal/s3api/s3err"
	"github.com/coffer-io/coffer/internal/storage/meta"
)

// S3's multipart limits.
const (
	maxParts     = 10000
	minPartSize  = 5 << 20
	maxPartSize  = 5 << 30
	maxMultipart = 5 << 40
)

type initiateResult struct {
	XMLName  xml.Name `xml:"InitiateMultipartUploadResult"`
	Xmlns    string   `xml:"xmlns,attr"`
	Bucket   string   `xml:"Bucket"`
	Key      string   `xml:"Key"`
	UploadID string   `xml:"UploadId"`
}

func (h *Handler) createMultipartUpload(w http.ResponseWriter, r *http.Request, rq *request) error {
	b, err := needBucket(rq)
	if err != nil {
		return err
	}
	wacl, err := h.objectWriteACL(rq, b, r.Header)
	if err != nil {
		return err
	}
	if err := unsupportedObjectHeaders(r.Header, b); err != nil {
		return err
	}
	ws, err := h.writeSSE(r, r.Header, rq, b)
	if err != nil {
		return err
	}
	sys, user, err := objectMetadata(r.Header)
	if err != nil {
		return err
	}
	tags, err := parseTaggingHeader(r.Header.Get("X-Amz-Tagging"))
	if err != nil {
		return err
	}
	lock, err := parseLockHeaders(r.Header, b, h.dataNow())
	if err != nil {
		return err
	}
	u := &meta.Upload{Bucket: b.Name, Key: rq.t.key, UploadID: objects.NewUploadID(), Owner: wacl.owner, ACL: wacl.acl,
		Initiated: h.obj.Now(), Headers: sys, UserMeta: user, Tags: tags,
		Retention: lock.retention, LegalHold: lock.legalHold}
	if s := r.Header.Get("X-Amz-Checksum-Algorithm"); s != "" {
		alg, err := checksum.ParseAlgorithm(s)
		if err != nil {
			return s3err.InvalidRequest.WithMessage("Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]")
		}
		u.ChecksumAlgorithm = string(alg)
		u.ChecksumType = string(checksum.DefaultType(alg))
	}
	if s := r.Header.Get("X-Amz-Checksum-Type"); s != "" {
		t, err := checksum.ParseType(s)
		if err != nil {
			return s3err.InvalidRequest.WithMessage("Value for x-amz-checksum-type header is invalid.")
		}
		if u.ChecksumAlgorithm == "" {
			return s3err.InvalidRequest.WithMessage("The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.")
		}
		if !checksum.SupportsType(checksum.Algorithm(u.ChecksumAlgorithm), t) {
			return s3err.InvalidRequest.WithMessage("The " + string(t) + " checksum type cannot be used with the " + strings.ToLower(u.ChecksumAlgorithm) + " checksum algorithm.")
		}
		u.ChecksumType = string(t)
	}
	if u.SSE, err = h.obj.NewUploadSSE(h.kmsCtx(r, rq), b.Owner, b.Name, rq.t.key, ws.sse); err != nil {
		return err
	}
	if err := h.obj.Meta().CreateUpload(r.Context(), u); err != nil {
		return err
	}
	if u.ChecksumAlgorithm != "" {
		w.Header().Set("X-Amz-Checksum-Algorithm", u.ChecksumAlgorithm)
		w.Header().Set("X-Amz-Checksum-Type", u.ChecksumType)
	}
	// The parts will be encrypted as they arrive.
	setUploadSSEHeaders(w, u, ws.ck, true, h.obj.Encrypting())
	return writeXML(w, &initiateResult{Xmlns: s3NS, Bucket: b.Name, Key: rq.t.key, UploadID: u.UploadID})
}

// partAlgorithm is the checksum computed for every part of an upload: the
// upload's algorithm, or CRC64NVME so the completed object gets S3's
// default full-object checksum without rereading the data.
func partAlgorithm(u *meta.Upload) checksum.Algorithm {
	if u.ChecksumAlgorithm != "" {
		return checksum.Algorithm(u.ChecksumAlgorithm)
	}
	return defaultChecksum
}

func (h *Handler) loadUpload(r *http.Request, rq *request) (*meta.Upload, int, error) {
	if _, err := needBucket(rq); err != nil {
		return nil, 0, err
	}
	pn := 0
	if s, ok := rq.q["partNumber"]; ok {
		n, err := strconv.Atoi(s[0])
		if err != nil || n < 1 || n > maxParts {
			return nil, 0, s3err.InvalidArgument.WithMessage("Part number must be an integer between 1 and 10000, inclusive").With("ArgumentName", "partNumber").With("ArgumentValue", s[0])
		}
		pn = n
	}
	u, err := h.obj.Meta().GetUpload(r.Context(), rq.t.bucket, rq.t.key, rq.q.Get("uploadId"))
	if err != nil {
		return nil, 0, err
	}
	return u, pn, nil
}

func (h *Handler) uploadPart(w http.ResponseWriter, r *http.Request, rq *request) error {
	u, pn, err := h.loadUpload(r, rq)
	if err != nil {
		return err
	}
	if err := unsupportedObjectHeaders(r.Header, rq.bucket); err != nil {
		return err
	}
	psse, ck, err := h.partSSE(r, rq, u)
	if err != nil {
		return err
	}
	if rq.decodedLen < 0 {
		return s3err.MissingContentLength
	}
	if rq.decodedLen > maxPartSize {
		return s3err.EntityTooLarge.With("ProposedSize", strconv.FormatInt(rq.decodedLen, 10)).With("MaxSizeAllowed", strconv.FormatInt(maxPartSize, 10))
	}
	md5want, err := contentMD5(r.Header)
	if err != nil {
		return err
	}
	cr, err := parseChecksumRequest(r.Header)
	if err != nil {
		return err
	}
	if (u.Retention != nil || u.LegalHold || lockRequest{}.needsDigest(rq.bucket)) && !hasDigest(md5want, cr) {
		return errPartNeedsDigest
	}
	alg := partAlgorithm(u)
	if cr != nil && u.ChecksumAlgorithm != "" && cr.alg != alg {
		return s3err.InvalidRequest.WithMessage("Checksum Type mismatch occurred, expected checksum Type: " + strings.ToLower(u.ChecksumAlgorithm) + ", actual checksum Type: " + strings.ToLower(string(cr.alg)))
	}
	algs := []checksum.Algorithm{alg}
	if cr != nil && cr.alg != alg {
		algs = append(algs, cr.alg)
	}
	wr, err := h.obj.WriteBlob(h.kmsCtx(r, rq), objects.WriteInput{
		Body: rq.body, Size: rq.decodedLen, MaxSize: maxPartSize, Algorithms: algs,
		Verify:  verifyChecksums(md5want, cr, rq.trailers),
		Account: rq.bucket.Owner, Bucket: u.Bucket, Key: u.Key, SSE: psse,
	})
	if err != nil {
		return err
	}
	p := &meta.Part{Number: pn, Size: wr.Size(), ETag: wr.ETag(), LastModified: h.obj.Now(), Blob: wr.Blob,
		Checksum: meta.Checksum{Algorithm: string(alg), Value: wr.Hasher.Checksum(alg)}, Encryption: wr.Encryption}
	freed, err := h.obj.Meta().PutPart(r.Context(), rq.t.bucket, rq.t.key, u.UploadID, p)
	if err != nil {
		h.obj.Free(r.Context(), []meta.BlobRef{wr.Blob})
		return err
	}
	h.obj.Free(r.Context(), freed)
	setSSEHeaders(w, p.Encryption, ck, u.Bucket, u.Key, false)
	w.Header().Set("ETag", p.ETag)
	if cr != nil {
		w.Header().Set(cr.alg.HeaderName(), wr.Hasher.Checksum(cr.alg))
	} else if u.ChecksumAlgorithm != "" {
		w.Header().Set(alg.HeaderName(), p.Checksum.Value)
	}
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
	return nil
}

type copyPartResult struct {
	XMLName      xml.Name `xml:"CopyPartResult"`
	Xmlns        string   `xml:"xmlns,attr"`
	LastModified string   `xml:"LastModified"`
	ETag         string   `xml:"ETag"`
}

func (h *Handler) uploadPartCopy(w http.ResponseWriter, r *http.Request, rq *request) error {
	u, pn, err := h.loadUpload(r, rq)
	if err != nil {
		return err
	}
	psse, ck, err := h.partSSE(r, rq, u)
	if err != nil {
		return err
	}
	src, err := h.loadCopySource(r, rq)
	if err != nil {
		return err
	}
	srcKeys, _, err := h.readKeys(r, rq, src, hdrCopySSEC)
	if err != nil {
		return err
	}
	start, length := int64(0), src.Size
	if s := r.Header.Get("X-Amz-Copy-Source-Range"); s != "" {
		a, b, ok := strings.Cut(strings.TrimPrefix(s, "bytes="), "-")
		first, e1 := strconv.ParseInt(a, 10, 64)
		last, e2 := strconv.ParseInt(b, 10, 64)
		if !strings.HasPrefix(s, "bytes=") || !ok || e1 != nil || e2 != nil || first < 0 || last < first {
			return s3err.InvalidArgument.WithMessage("The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy").With("ArgumentName", "x-amz-copy-source-range")
		}
		if last >= src.Size {
			// Unlike a GET Range, S3 answers a copy range past the end of
			// the source with 400 InvalidArgument, not 416 InvalidRange.
			return s3err.InvalidArgument.WithMessage("Range specified is not valid for source object of size: "+strconv.FormatInt(src.Size, 10)).
				With("ArgumentName", "x-amz-copy-source-range").With("ArgumentValue", s)
		}
		start, length = first, last-first+1
	}
	if length > maxPartSize {
		return s3err.InvalidRequest.WithMessage("The specified copy source is larger than the maximum allowable size for a copy source: 5368709120")
	}
	kctx := h.kmsCtx(r, rq)
	rd, err := h.obj.OpenWith(kctx, src, srcKeys)
	if err != nil {
		return err
	}
	defer rd.Close()
	alg := partAlgorithm(u)
	wr, err := h.obj.WriteBlob(kctx, objects.WriteInput{
		Body: io.NewSectionReader(rd, start, length), Size: length, MaxSize: maxPartSize,
		Algorithms: []checksum.Algorithm{alg},
		Account:    rq.bucket.Owner, Bucket: u.Bucket, Key: u.Key, SSE: psse,
	})
	if err != nil {
		return err
	}
	p := &meta.Part{Number: pn, Size: wr.Size(), ETag: wr.ETag(), LastModified: h.obj.Now(), Blob: wr.Blob,
		Checksum: meta.Checksum{Algorithm: string(alg), Value: wr.Hasher.Checksum(alg)}, Encryption: wr.Encryption}
	freed, err := h.obj.Meta().PutPart(r.Context(), rq.t.bucket, rq.t.key, u.UploadID, p)
	if err != nil {
		h.obj.Free(r.Context(), []meta.BlobRef{wr.Blob})
		return err
	}
	h.obj.Free(r.Context(), freed)
	setSSEHeaders(w, p.Encryption, ck, u.Bucket, u.Key, false)
	if src.VersionID != meta.NullVersion {
		w.Header().Set("X-Amz-Copy-Source-Version-Id", src.VersionID)
	}
	return writeXML(w, &copyPartResult{Xmlns: s3NS, LastModified: xmlTime(p.LastModified), ETag: p.ETag})
}

type completePart struct {
	PartNumber        int    `xml:"PartNumber"`
	ETag              string `xml:"ETag"`
	ChecksumCRC32     string `xml:"ChecksumCRC32"`
	ChecksumCRC32C    string `xml:"ChecksumCRC32C"`
	ChecksumCRC64NVME string `xml:"ChecksumCRC64NVME"`
	ChecksumSHA1      string `xml:"ChecksumSHA1"`
	ChecksumSHA256    string `xml:"ChecksumSHA256"`
}

func (p *completePart) checksum(alg checksum.Algorithm) string {
	switch alg {
	case checksum.CRC32:
		return p.ChecksumCRC32
	case checksum.CRC32C:
		return p.ChecksumCRC32C
	case checksum.CRC64NVME:
		return p.ChecksumCRC64NVME
	case checksum.SHA1:
		return p.ChecksumSHA1
	case checksum.SHA256:
		return p.ChecksumSHA256
	}
	return ""
}

type completeRequest struct {
	XMLName xml.Name       `xml:"CompleteMultipartUpload"`
	Parts   []completePart `xml:"Part"`
}

type completeResult struct {
	XMLName           xml.Name `xml:"CompleteMultipartUploadResult"`
	Xmlns             string   `xml:"xmlns,attr"`
	Location          string   `xml:"Location"`
	Bucket            string   `xml:"Bucket"`
	Key               string   `xml:"Key"`
	ETag              string   `xml:"ETag"`
	ChecksumCRC32     string   `xml:"ChecksumCRC32,omitempty"`
	ChecksumCRC32C    string   `xml:"ChecksumCRC32C,omitempty"`
	ChecksumCRC64NVME string   `xml:"ChecksumCRC64NVME,omitempty"`
	ChecksumSHA1      string   `xml:"ChecksumSHA1,omitempty"`
	ChecksumSHA256    string   `xml:"ChecksumSHA256,omitempty"`
	ChecksumType      string   `xml:"ChecksumType,omitempty"`
}

func (h *Handler) completeMultipartUpload(w http.ResponseWriter, r *http.Request, rq *request) error {
	u, _, err := h.loadUpload(r, rq)
	if err != nil {
		return err
	}
	pre, err := putPrecondition(r.Header)
	if err != nil {
		return err
	}
	// Complete needs no SSE-C key, but one that is sent must be valid.
	if _, err := parseCustomerKey(r, r.Header, "X-Amz-Server-Side-Encryption-Customer-"); err != nil {
		return err
	}
	var req completeRequest
	if err := decodeXML(rq, &req); err != nil {
		return err
	}
	if len(req.Parts) == 0 {
		return s3err.MalformedXML.WithMessage("The XML you provided was not well-formed or did not validate against our published schema")
	}
	if len(req.Parts) > maxParts {
		return s3err.MalformedXML
	}
	stored := map[int]*meta.Part{}
	marker := 0
	for {
		ps, truncated, err := h.obj.Meta().ListParts(r.Context(), rq.t.bucket, rq.t.key, u.UploadID, marker, 1000)
		if err != nil {
			return err
		}
		for _, p := range ps {
			stored[p.Number] = p
			marker = p.Number
		}
		if !truncated {
			break
		}
	}
	alg := partAlgorithm(u)
	v := &meta.ObjectVersion{Bucket: u.Bucket, Key: u.Key, Owner: u.Owner, ACL: u.ACL, LastModified: h.obj.Now(),
		Headers: u.Headers, UserMeta: u.UserMeta, Tags: u.Tags, Retention: u.Retention, LegalHold: u.LegalHold}
	md5s := make([]byte, 0, len(req.Parts)*md5.Size)
	var digests [][]byte
	var crcParts []checksum.Part
	prev := 0
	for i, cp := range req.Parts {
		if cp.PartNumber <= prev {
			return s3err.InvalidPartOrder
		}
		prev = cp.PartNumber
		p, ok := stored[cp.PartNumber]
		if !ok || !etagMatches(cp.ETag, p.ETag) {
			return s3err.InvalidPart
		}
		if i < len(req.Parts)-1 && p.Size < minPartSize {
			return s3err.EntityTooSmall.With("ProposedSize", strconv.FormatInt(p.Size, 10)).With("MinSizeAllowed", strconv.Itoa(minPartSize)).
				With("PartNumber", strconv.Itoa(p.Number)).With("ETag", p.ETag)
		}
		if given := cp.checksum(alg); given != "" && given != p.Checksum.Value {
			return s3err.InvalidPart.WithMessage("One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.")
		}
		raw, err := hex.DecodeString(strings.Trim(p.ETag, `"`))
		if err != nil {
			return err
		}
		md5s = append(md5s, raw...)
		d, err := checksum.Decode(alg, p.Checksum.Value)
		if err != nil {
			return err
		}
		digests = append(digests, d)
		crcParts = append(crcParts, checksum.Part{Checksum: d, Size: p.Size})
		v.Size += p.Size
		v.Blobs = append(v.Blobs, p.Blob)
		// Each part keeps its own envelope: completing never rewrites data.
		v.Parts = append(v.Parts, meta.PartInfo{Number: p.Number, Size: p.Size, ETag: p.ETag, Checksum: p.Checksum, Encryption: p.Encryption})
	}
	if v.Size > maxMultipart {
		return s3err.EntityTooLarge
	}
	sum := md5.Sum(md5s)
	v.ETag = `"` + hex.EncodeToString(sum[:]) + "-" + strconv.Itoa(len(req.Parts)) + `"`
	ctype := u.ChecksumType
	if ctype == "" {
		ctype = string(checksum.TypeFullObject)
	}
	v.Checksum = meta.Checksum{Algorithm: string(alg), Type: ctype}
	if ctype == string(checksum.TypeFullObject) {
		full, err := checksum.CombineAll(alg, crcParts)
		if err != nil {
			return err
		}
		v.Checksum.Value = checksum.Encode(full)
	} else {
		v.Checksum.Value = checksum.Composite(alg, digests)
	}
	if cr, err := parseChecksumRequest(r.Header); err != nil {
		return err
	} else if cr != nil && cr.value != nil {
		if cr.alg != alg || checksum.Encode(cr.value) != strings.SplitN(v.Checksum.Value, "-", 2)[0] {
			return s3err.BadDigest.WithMessage("The " + string(cr.alg) + " you specified did not match the calculated checksum.")
		}
	}
	res, err := h.obj.Meta().CompleteUpload(r.Context(), u.UploadID, v, objects.NewVersionID(), pre)
	if err != nil {
		if errors.Is(err, meta.ErrUploadNotFound) {
			return s3err.NoSuchUpload
		}
		return err
	}
	h.obj.Free(r.Context(), res.Freed)
	rq.ev.VersionID = res.VersionID
	if objects.Mode(v) != meta.SSEC {
		// CompleteMultipartUpload does not echo SSE-C headers.
		versionSSEHeaders(w, v, nil, false)
	}
	if res.VersionID != meta.NullVersion {
		w.Header().Set("X-Amz-Version-Id", res.VersionID)
	}
	out := completeResult{Xmlns: s3NS, Location: "/" + u.Bucket + "/" + u.Key, Bucket: u.Bucket, Key: u.Key, ETag: v.ETag}
	out.ChecksumType = v.Checksum.Type
	setChecksumField(v.Checksum.Algorithm, v.Checksum.Value, &out.ChecksumCRC32, &out.ChecksumCRC32C, &out.ChecksumCRC64NVME, &out.ChecksumSHA1, &out.ChecksumSHA256)
	return writeXML(w, &out)
}

func (h *Handler) abortMultipartUpload(w http.ResponseWriter, r *http.Request, rq *request) error {
	if _, err := needBucket(rq); err != nil {
		return err
	}
	freed, err := h.obj.Meta().AbortUpload(r.Context(), rq.t.bucket, rq.t.key, rq.q.Get("uploadId"))
	if err != nil {
		return err
	}
	h.obj.Free(r.Context(), freed)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type partEntry struct {
	PartNumber        int    `xml:"PartNumber"`
	LastModified      string `xml:"LastModified"`
	ETag              string `xml:"ETag"`
	Size              int64  `xml:"Size"`
	ChecksumCRC32     string `xml:"ChecksumCRC32,omitempty"`
	ChecksumCRC32C    string `xml:"ChecksumCRC32C,omitempty"`
	ChecksumCRC64NVME string `xml:"ChecksumCRC64NVME,omitempty"`
	ChecksumSHA1      string `xml:"ChecksumSHA1,omitempty"`
	ChecksumSHA256    string `xml:"ChecksumSHA256,omitempty"`
}

type listPartsResult struct {
	XMLName              xml.Name    `xml:"ListPartsResult"`
	Xmlns                string      `xml:"xmlns,attr"`
	Bucket               string      `xml:"Bucket"`
	Key                  string      `xml:"Key"`
	UploadID             string      `xml:"UploadId"`
	PartNumberMarker     int         `xml:"PartNumberMarker"`
	NextPartNumberMarker int         `xml:"NextPartNumberMarker"`
	MaxParts             int         `xml:"MaxParts"`
	IsTruncated          bool        `xml:"IsTruncated"`
	Parts                []partEntry `xml:"Part"`
	Initiator            Owner       `xml:"Initiator"`
	Owner                Owner       `xml:"Owner"`
	StorageClass         string      `xml:"StorageClass"`
	ChecksumAlgorithm    string      `xml:"ChecksumAlgorithm,omitempty"`
	ChecksumType         string      `xml:"ChecksumType,omitempty"`
}

func (h *Handler) listParts(w http.ResponseWriter, r *http.Request, rq *request) error {
	u, _, err := h.loadUpload(r, rq)
	if err != nil {
		return err
	}
	max, marker := 1000, 0
	if s, ok := rq.q["max-parts"]; ok {
		n, err := strconv.Atoi(s[0])
		if err != nil || n < 0 {
			return s3err.InvalidArgument.WithMessage("Provided max-parts not an integer or within integer range").With("ArgumentName", "max-parts")
		}
		if n < max {
			max = n
		}
	}
	if s, ok := rq.q["part-number-marker"]; ok {
		n, err := strconv.Atoi(s[0])
		if err != nil || n < 0 {
			return s3err.InvalidArgument.WithMessage("Provided part-number-marker not an integer or within integer range").With("ArgumentName", "part-number-marker")
		}
		marker = n
	}
	ps, truncated, err := h.obj.Meta().ListParts(r.Context(), rq.t.bucket, rq.t.key, u.UploadID, marker, max)
	if err != nil {
		return err
	}
	o := h.owner(rq, u.Owner)
	res := listPartsResult{Xmlns: s3NS, Bucket: u.Bucket, Key: u.Key, UploadID: u.UploadID, PartNumberMarker: marker,
		MaxParts: max, IsTruncated: truncated, Initiator: o, Owner: o, StorageClass: "STANDARD",
		ChecksumAlgorithm: u.ChecksumAlgorithm, ChecksumType: u.ChecksumType}
	for _, p := range ps {
		e := partEntry{PartNumber: p.Number, LastModified: xmlTime(p.LastModified), ETag: p.ETag, Size: p.Size}
		if u.ChecksumAlgorithm != "" {
			setChecksumField(p.Checksum.Algorithm, p.Checksum.Value, &e.ChecksumCRC32, &e.ChecksumCRC32C, &e.ChecksumCRC64NVME, &e.ChecksumSHA1, &e.ChecksumSHA256)
		}
		res.Parts = append(res.Parts, e)
		res.NextPartNumberMarker = p.Number
	}
	return writeXML(w, &res)
}

type uploadEntry struct {
	Key               string `xml:"Key"`
	UploadID          string `xml:"UploadId"`
	Initiator         Owner  `xml:"Initiator"`
	Owner             Owner  `xml:"Owner"`
	StorageClass      string `xml:"StorageClass"`
	Initiated         string `xml:"Initiated"`
	ChecksumAlgorithm string `xml:"ChecksumAlgorithm,omitempty"`
	ChecksumType      string `xml:"ChecksumType,omitempty"`
}

type listUploadsResult struct {
	XMLName            xml.Name       `xml:"ListMultipartUploadsResult"`
	Xmlns              string         `xml:"xmlns,attr"`
	Bucket             string         `xml:"Bucket"`
	KeyMarker          string         `xml:"KeyMarker"`
	UploadIDMarker     string         `xml:"UploadIdMarker"`
	NextKeyMarker      string         `xml:"NextKeyMarker"`
	NextUploadIDMarker string         `xml:"NextUploadIdMarker"`
	Delimiter          string         `xml:"Delimiter,omitempty"`
	Prefix             string         `xml:"Prefix"`
	EncodingType       string         `xml:"EncodingType,omitempty"`
	MaxUploads         int            `xml:"MaxUploads"`
	IsTruncated        bool           `xml:"IsTruncated"`
	Uploads            []uploadEntry  `xml:"Upload"`
	CommonPrefixes     []commonPrefix `xml:"CommonPrefixes"`
}

func (h *Handler) listMultipartUploads(w http.ResponseWriter, r *http.Request, rq *request) error {
	b, err := needBucket(rq)
	if err != nil {
		return err
	}
	p, err := parseListParams(rq.q)
	if err != nil {
		return err
	}
	km, um := rq.q.Get("key-marker"), rq.q.Get("upload-id-marker")
	lr, err := h.obj.Meta().ListUploads(r.Context(), b.Name, meta.UploadListOptions{Prefix: p.prefix, Delimiter: p.delimiter,
		KeyMarker: km, UploadIDMarker: um, MaxUploads: p.maxKeys})
	if err != nil {
		return err
	}
	res := listUploadsResult{Xmlns: s3NS, Bucket: b.Name, KeyMarker: p.enc(km), UploadIDMarker: um, Delimiter: p.enc(p.delimiter),
		Prefix: p.enc(p.prefix), EncodingType: p.encodingType, MaxUploads: p.maxKeys, IsTruncated: lr.IsTruncated,
		NextKeyMarker: p.enc(lr.NextKeyMarker), NextUploadIDMarker: lr.NextUploadIDMarker}
	for _, u := range lr.Uploads {
		o := h.owner(rq, u.Owner)
		res.Uploads = append(res.Uploads, uploadEntry{Key: p.enc(u.Key), UploadID: u.UploadID, Initiator: o, Owner: o,
			StorageClass: "STANDARD", Initiated: xmlTime(u.Initiated), ChecksumAlgorithm: u.ChecksumAlgorithm, ChecksumType: u.ChecksumType})
	}
	for _, cp := range lr.CommonPrefixes {
		res.CommonPrefixes = append(res.CommonPrefixes, commonPrefix{p.enc(cp)})
	}
	return writeXML(w, &res)
}

// partSSE returns how a part of u is encrypted, checking that an SSE-C
// part repeats the upload's key.
func (h *Handler) partSSE(r *http.Request, rq *request, u *meta.Upload) (*objects.SSE, *customerKey, error) {
	ck, err := parseCustomerKey(r, r.Header, "X-Amz-Server-Side-Encryption-Customer-")
	if err != nil {
		return nil, nil, err
	}
	if u.SSE != nil && u.SSE.Mode == meta.SSEKMS && r.TLS == nil {
		return nil, nil, errKMSInsecure
	}
	sse, err := h.obj.PartSSE(h.kmsCtx(r, rq), u, requesterAccount(rq, rq.bucket), ck.raw())
	switch {
	case errors.Is(err, objects.ErrCustomerKeyRequired):
		return nil, nil, s3err.InvalidRequest.WithMessage("The multipart upload initiate requested encryption. Subsequent part requests must include the appropriate encryption parameters.")
	case errors.Is(err, objects.ErrCustomerKeyNotApplicable):
		return nil, nil, s3err.InvalidRequest.WithMessage("The multipart upload initiate did not request encryption with customer provided keys. Subsequent part requests must not include encryption parameters.")
	case err != nil:
		return nil, nil, readKeyError(err, false)
	}
	return sse, ck, nil
}
