package s3

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

const xmlns = "http://s3.amazonaws.com/doc/2006-03-01/"

// bucketSubresources are the bucket settings recorded as documents, with
// the error a GET of a missing one answers.
var bucketSubresources = map[string]ErrorCode{
	"encryption":          ErrNoSuchEncryption,
	"publicAccessBlock":   ErrNoSuchPublicAccessBlock,
	"tagging":             ErrNoSuchTagSet,
	"ownershipControls":   ErrNoSuchOwnershipControls,
	"lifecycle":           ErrNoSuchLifecycle,
	"cors":                ErrNoSuchConfiguration,
	"website":             ErrNoSuchConfiguration,
	"notification":        "",
	"logging":             "",
	"acl":                 "",
	"accelerate":          "",
	"requestPayment":      "",
	"object-lock":         ErrNoSuchConfiguration,
	"replication":         ErrNoSuchConfiguration,
	"intelligent-tiering": ErrNoSuchConfiguration,
}

// ServeHTTP answers one S3 request.
func (b *Backend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := newRequestID()
	w.Header().Set("X-Amz-Request-Id", reqID)
	w.Header().Set("X-Amz-Id-2", reqID)
	bucketName, key := b.address(r)
	err := b.route(w, r, bucketName, key)
	if err == nil {
		return
	}
	var se *Error
	if !errors.As(err, &se) {
		b.log.Error("s3 request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		se = newErr(ErrInternal)
	}
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(se.Status)
	if r.Method == http.MethodHead {
		return
	}
	out, _ := xml.Marshal(se.doc(reqID))
	_, _ = io.WriteString(w, xml.Header)
	_, _ = w.Write(out)
}

// address finds the bucket and key: virtual-hosted (bucket.localhost,
// bucket.s3.amazonaws.com, bucket.s3.<region>.amazonaws.com) or path-style.
func (b *Backend) address(r *http.Request) (bucketName, key string) {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.ToLower(host)
	path := r.URL.Path
	if net.ParseIP(host) == nil {
		if bkt, ok := strings.CutSuffix(host, ".localhost"); ok && bkt != "" {
			return bkt, strings.TrimPrefix(path, "/")
		}
		if i := strings.Index(host, ".s3."); i > 0 && strings.HasSuffix(host, ".amazonaws.com") {
			return host[:i], strings.TrimPrefix(path, "/")
		}
		if i := strings.Index(host, ".s3-"); i > 0 && strings.HasSuffix(host, ".amazonaws.com") {
			return host[:i], strings.TrimPrefix(path, "/")
		}
	}
	path = strings.TrimPrefix(path, "/")
	bucketName, key, _ = strings.Cut(path, "/")
	return bucketName, key
}

func (b *Backend) route(w http.ResponseWriter, r *http.Request, bucketName, key string) error {
	q := r.URL.Query()
	switch {
	case bucketName == "":
		if r.Method == http.MethodGet {
			return b.listBuckets(w)
		}
		return newErr(ErrMethodNotAllowed)
	case key == "":
		return b.bucketOp(w, r, bucketName, q)
	default:
		return b.objectOp(w, r, bucketName, key, q)
	}
}

func writeXML(w http.ResponseWriter, status int, v any) error {
	out, err := xml.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode response: %w", err)
	}
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, xml.Header)
	_, _ = w.Write(out)
	return nil
}

func writeRaw(w http.ResponseWriter, doc string) error {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(http.StatusOK)
	if !strings.HasPrefix(doc, "<?xml") {
		_, _ = io.WriteString(w, xml.Header)
	}
	_, _ = io.WriteString(w, doc) //nolint:gosec // G705: an XML settings document, served as XML
	return nil
}

type bucketEntry struct {
	Name         string
	CreationDate string
	BucketRegion string `xml:",omitempty"`
}

type owner struct {
	ID          string
	DisplayName string `xml:",omitempty"`
}

var theOwner = owner{ID: "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a", DisplayName: "localcloud"}

func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func (b *Backend) listBuckets(w http.ResponseWriter) error {
	b.mu.Lock()
	var entries []bucketEntry
	for _, bk := range b.buckets {
		entries = append(entries, bucketEntry{Name: bk.Name, CreationDate: isoTime(bk.Created), BucketRegion: bk.Region})
	}
	b.mu.Unlock()
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name < entries[j].Name })
	return writeXML(w, 200, struct {
		XMLName xml.Name      `xml:"ListAllMyBucketsResult"`
		Xmlns   string        `xml:"xmlns,attr"`
		Owner   owner         `xml:"Owner"`
		Buckets []bucketEntry `xml:"Buckets>Bucket"`
	}{Xmlns: xmlns, Owner: theOwner, Buckets: entries})
}

func (b *Backend) bucketOp(w http.ResponseWriter, r *http.Request, name string, q url.Values) error {
	if r.Method == http.MethodPost && q.Has("delete") {
		return b.deleteObjects(w, r, name)
	}
	if q.Has("policy") {
		return b.policyOp(w, r, name)
	}
	if q.Has("versioning") {
		return b.versioningOp(w, r, name)
	}
	if q.Has("location") && r.Method == http.MethodGet {
		b.mu.Lock()
		bk, err := b.bucketLocked(name)
		b.mu.Unlock()
		if err != nil {
			return err
		}
		loc := bk.Region
		if loc == "us-east-1" {
			loc = ""
		}
		return writeXML(w, 200, struct {
			XMLName xml.Name `xml:"LocationConstraint"`
			Xmlns   string   `xml:"xmlns,attr"`
			Value   string   `xml:",chardata"`
		}{Xmlns: xmlns, Value: loc})
	}
	if q.Has("uploads") && r.Method == http.MethodGet {
		return b.listUploads(w, name)
	}
	for sub, missing := range bucketSubresources {
		if q.Has(sub) {
			return b.configOp(w, r, name, sub, missing)
		}
	}
	for k := range q {
		switch k {
		case "list-type", "prefix", "delimiter", "max-keys", "continuation-token", "start-after", "encoding-type", "fetch-owner", "marker", "x-id":
		default:
			if !strings.HasPrefix(strings.ToLower(k), "x-amz-") {
				return errf(ErrNotImplemented, "localcloud does not implement the bucket subresource %q", k)
			}
		}
	}
	switch r.Method {
	case http.MethodPut:
		if err := b.CreateBucket(r.Context(), name); err != nil {
			return err
		}
		w.Header().Set("Location", "/"+name)
		w.WriteHeader(http.StatusOK)
		return nil
	case http.MethodHead:
		b.mu.Lock()
		bk, err := b.bucketLocked(name)
		b.mu.Unlock()
		if err != nil {
			return err
		}
		w.Header().Set("X-Amz-Bucket-Region", bk.Region)
		w.WriteHeader(http.StatusOK)
		return nil
	case http.MethodDelete:
		if err := b.DeleteBucket(r.Context(), name); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	case http.MethodGet:
		return b.listObjects(w, name, q)
	}
	return newErr(ErrMethodNotAllowed)
}

func (b *Backend) policyOp(w http.ResponseWriter, r *http.Request, name string) error {
	switch r.Method {
	case http.MethodPut:
		doc, err := io.ReadAll(io.LimitReader(r.Body, 20<<10+1))
		if err != nil {
			return newErr(ErrIncompleteBody)
		}
		if err := b.PutBucketPolicy(r.Context(), name, string(doc)); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	case http.MethodGet:
		p, err := b.BucketPolicy(name)
		if err != nil {
			return err
		}
		if p == "" {
			return bucketErr(ErrNoSuchBucketPolicy, name)
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, p) //nolint:gosec // G705: a policy document, served as JSON
		return nil
	case http.MethodDelete:
		if err := b.DeleteBucketPolicy(r.Context(), name); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	return newErr(ErrMethodNotAllowed)
}

func (b *Backend) versioningOp(w http.ResponseWriter, r *http.Request, name string) error {
	switch r.Method {
	case http.MethodPut:
		doc, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
		if err != nil {
			return newErr(ErrIncompleteBody)
		}
		if err := b.PutBucketConfig(r.Context(), name, "versioning", doc); err != nil {
			return err
		}
		w.WriteHeader(http.StatusOK)
		return nil
	case http.MethodGet:
		b.mu.Lock()
		bk, err := b.bucketLocked(name)
		b.mu.Unlock()
		if err != nil {
			return err
		}
		return writeXML(w, 200, struct {
			XMLName xml.Name `xml:"VersioningConfiguration"`
			Xmlns   string   `xml:"xmlns,attr"`
			Status  string   `xml:",omitempty"`
		}{Xmlns: xmlns, Status: bk.Versioning})
	}
	return newErr(ErrMethodNotAllowed)
}

// configOp records, returns or removes a bucket settings document.
func (b *Backend) configOp(w http.ResponseWriter, r *http.Request, name, sub string, missing ErrorCode) error {
	switch r.Method {
	case http.MethodPut:
		doc, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			return newErr(ErrIncompleteBody)
		}
		if len(bytes.TrimSpace(doc)) == 0 && sub == "acl" {
			doc = []byte("<AccessControlPolicy/>")
		}
		if err := b.PutBucketConfig(r.Context(), name, sub, doc); err != nil {
			return err
		}
		w.WriteHeader(http.StatusOK)
		return nil
	case http.MethodGet:
		doc, err := b.BucketConfig(name, sub)
		if err != nil {
			return err
		}
		if doc != nil {
			return writeRaw(w, string(doc))
		}
		switch sub {
		case "encryption":
			// Every bucket has SSE-S3 by default, as on S3 since 2023.
			return writeRaw(w, `<ServerSideEncryptionConfiguration xmlns="`+xmlns+`"><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault><BucketKeyEnabled>false</BucketKeyEnabled></Rule></ServerSideEncryptionConfiguration>`)
		case "acl":
			return writeRaw(w, `<AccessControlPolicy xmlns="`+xmlns+`"><Owner><ID>`+theOwner.ID+`</ID></Owner><AccessControlList><Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser"><ID>`+theOwner.ID+`</ID></Grantee><Permission>FULL_CONTROL</Permission></Grant></AccessControlList></AccessControlPolicy>`)
		}
		if missing == "" {
			return writeRaw(w, "<"+strings.ToUpper(sub[:1])+sub[1:]+"Configuration xmlns=\""+xmlns+"\"/>")
		}
		return bucketErr(missing, name)
	case http.MethodDelete:
		if err := b.DeleteBucketConfig(r.Context(), name, sub); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	return newErr(ErrMethodNotAllowed)
}

func jsonValid(s string) bool { return json.Valid([]byte(s)) }

type listEntry struct {
	Key               string
	LastModified      string
	ETag              string
	ChecksumAlgorithm string `xml:",omitempty"`
	ChecksumType      string `xml:",omitempty"`
	Size              int64
	Owner             *owner `xml:",omitempty"`
	StorageClass      string
}

type commonPrefix struct {
	Prefix string
}

// listObjects answers ListObjectsV2 (list-type=2) and ListObjects.
func (b *Backend) listObjects(w http.ResponseWriter, name string, q url.Values) error {
	v2 := q.Get("list-type") == "2"
	maxKeys := 1000
	if s := q.Get("max-keys"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return errf(ErrInvalidArgument, "Provided max-keys not an integer or within integer range")
		}
		maxKeys = min(n, 1000)
	}
	prefix, delim := q.Get("prefix"), q.Get("delimiter")
	after := q.Get("start-after")
	if !v2 {
		after = q.Get("marker")
	}
	if tok := q.Get("continuation-token"); v2 && tok != "" {
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil {
			return errf(ErrInvalidArgument, "The continuation token provided is incorrect")
		}
		after = string(raw)
	}
	b.mu.Lock()
	bk, err := b.bucketLocked(name)
	if err != nil {
		b.mu.Unlock()
		return err
	}
	keys := make([]string, 0, len(bk.Objects))
	for k := range bk.Objects {
		if strings.HasPrefix(k, prefix) && k > after {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var contents []listEntry
	var prefixes []commonPrefix
	seenPrefix := map[string]bool{}
	truncated := false
	last := ""
	for _, k := range keys {
		if delim != "" {
			if i := strings.Index(k[len(prefix):], delim); i >= 0 {
				cp := k[:len(prefix)+i+len(delim)]
				if seenPrefix[cp] {
					continue
				}
				if len(contents)+len(prefixes) >= maxKeys {
					truncated = true
					break
				}
				seenPrefix[cp] = true
				prefixes = append(prefixes, commonPrefix{cp})
				last = cp
				continue
			}
		}
		if len(contents)+len(prefixes) >= maxKeys {
			truncated = true
			break
		}
		o := bk.Objects[k]
		e := listEntry{Key: k, LastModified: isoTime(o.LastModified), ETag: o.ETag, Size: o.Size, StorageClass: "STANDARD"}
		if o.Checksum.Algorithm != "" {
			e.ChecksumAlgorithm = algorithmNames[o.Checksum.Algorithm]
			e.ChecksumType = o.ChecksumType
		}
		if !v2 || q.Get("fetch-owner") == "true" {
			e.Owner = &theOwner
		}
		contents = append(contents, e)
		last = k
	}
	b.mu.Unlock()
	// A common prefix resumes after every key under it.
	resume := last
	if seenPrefix[last] {
		resume = last + "\U0010FFFF"
	}
	enc := q.Get("encoding-type") == "url"
	esc := func(s string) string {
		if enc {
			return url.QueryEscape(s)
		}
		return s
	}
	for i := range contents {
		contents[i].Key = esc(contents[i].Key)
	}
	for i := range prefixes {
		prefixes[i].Prefix = esc(prefixes[i].Prefix)
	}
	type result struct {
		XMLName               xml.Name       `xml:"ListBucketResult"`
		Xmlns                 string         `xml:"xmlns,attr"`
		Name                  string         `xml:"Name"`
		Prefix                string         `xml:"Prefix"`
		Marker                *string        `xml:"Marker,omitempty"`
		NextMarker            string         `xml:"NextMarker,omitempty"`
		StartAfter            string         `xml:"StartAfter,omitempty"`
		ContinuationToken     string         `xml:"ContinuationToken,omitempty"`
		NextContinuationToken string         `xml:"NextContinuationToken,omitempty"`
		KeyCount              *int           `xml:"KeyCount,omitempty"`
		MaxKeys               int            `xml:"MaxKeys"`
		Delimiter             string         `xml:"Delimiter,omitempty"`
		EncodingType          string         `xml:"EncodingType,omitempty"`
		IsTruncated           bool           `xml:"IsTruncated"`
		Contents              []listEntry    `xml:"Contents"`
		CommonPrefixes        []commonPrefix `xml:"CommonPrefixes"`
	}
	res := result{Xmlns: xmlns, Name: name, Prefix: esc(prefix), MaxKeys: maxKeys, Delimiter: esc(delim), IsTruncated: truncated, Contents: contents, CommonPrefixes: prefixes}
	if enc {
		res.EncodingType = "url"
	}
	if v2 {
		n := len(contents) + len(prefixes)
		res.KeyCount = &n
		res.StartAfter = esc(q.Get("start-after"))
		res.ContinuationToken = q.Get("continuation-token")
		if truncated {
			res.NextContinuationToken = base64.RawURLEncoding.EncodeToString([]byte(resume))
		}
	} else {
		m := esc(q.Get("marker"))
		res.Marker = &m
		if truncated && delim != "" {
			res.NextMarker = esc(last)
		}
	}
	return writeXML(w, 200, res)
}

func (b *Backend) deleteObjects(w http.ResponseWriter, r *http.Request, name string) error {
	doc, err := io.ReadAll(io.LimitReader(r.Body, 2<<20))
	if err != nil {
		return newErr(ErrIncompleteBody)
	}
	var req struct {
		Quiet  bool
		Object []struct {
			Key       string
			VersionId string
		}
	}
	if err := xml.Unmarshal(doc, &req); err != nil || len(req.Object) == 0 || len(req.Object) > 1000 {
		return newErr(ErrMalformedXML)
	}
	type deleted struct {
		Key string
	}
	type failed struct {
		Key, Code, Message string
	}
	var res struct {
		XMLName xml.Name  `xml:"DeleteResult"`
		Xmlns   string    `xml:"xmlns,attr"`
		Deleted []deleted `xml:"Deleted"`
		Error   []failed  `xml:"Error"`
	}
	res.Xmlns = xmlns
	for _, o := range req.Object {
		if err := b.DeleteObject(r.Context(), name, o.Key); err != nil {
			var se *Error
			if errors.As(err, &se) && se.Code == ErrNoSuchBucket {
				return err
			}
			res.Error = append(res.Error, failed{o.Key, string(ErrInternal), err.Error()})
			continue
		}
		if !req.Quiet {
			res.Deleted = append(res.Deleted, deleted{o.Key})
		}
	}
	return writeXML(w, 200, res)
}

func (b *Backend) objectOp(w http.ResponseWriter, r *http.Request, bucketName, key string, q url.Values) error {
	switch {
	case q.Has("uploads") && r.Method == http.MethodPost:
		return b.createUpload(w, r, bucketName, key)
	case q.Has("uploadId"):
		return b.uploadOp(w, r, bucketName, key, q)
	case q.Has("tagging") || q.Has("acl") || q.Has("retention") || q.Has("legal-hold") || q.Has("attributes") || q.Has("restore") || q.Has("select") || q.Has("torrent"):
		return errf(ErrNotImplemented, "localcloud does not implement this object subresource")
	}
	switch r.Method {
	case http.MethodPut:
		if src := r.Header.Get("X-Amz-Copy-Source"); src != "" {
			return b.copyObject(w, r, bucketName, key, src)
		}
		return b.putObject(w, r, bucketName, key)
	case http.MethodGet, http.MethodHead:
		return b.getObject(w, r, bucketName, key)
	case http.MethodDelete:
		if err := b.DeleteObject(r.Context(), bucketName, key); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	return newErr(ErrMethodNotAllowed)
}

// storedHeaders are the request headers an object keeps and returns.
var storedHeaders = []string{"Cache-Control", "Content-Disposition", "Content-Encoding", "Content-Language", "Expires", "X-Amz-Website-Redirect-Location", "X-Amz-Storage-Class"}

func metaFrom(r *http.Request) objectMeta {
	m := objectMeta{contentType: r.Header.Get("Content-Type")}
	for _, h := range storedHeaders {
		v := r.Header.Get(h)
		if h == "Content-Encoding" {
			// aws-chunked is the transfer framing, not the object's encoding.
			var keep []string
			for _, t := range strings.Split(v, ",") {
				if t = strings.TrimSpace(t); t != "" && !strings.EqualFold(t, "aws-chunked") {
					keep = append(keep, t)
				}
			}
			v = strings.Join(keep, ",")
		}
		if v != "" {
			if m.headers == nil {
				m.headers = map[string]string{}
			}
			m.headers[h] = v
		}
	}
	for k, v := range r.Header {
		if name, ok := strings.CutPrefix(strings.ToLower(k), "x-amz-meta-"); ok && len(v) > 0 {
			if m.metadata == nil {
				m.metadata = map[string]string{}
			}
			m.metadata[name] = v[0]
		}
	}
	return m
}

// conditions turns If-Match / If-None-Match on a write into a check of the
// current object.
func conditions(r *http.Request) precondition {
	ifMatch, ifNone := r.Header.Get("If-Match"), r.Header.Get("If-None-Match")
	if ifMatch == "" && ifNone == "" {
		return nil
	}
	return func(cur *object) error {
		if ifNone == "*" && cur != nil {
			return newErr(ErrPreconditionFailed)
		}
		if ifMatch != "" && (cur == nil || !etagMatches(ifMatch, cur.ETag)) {
			if cur == nil {
				return newErr(ErrNoSuchKey)
			}
			return newErr(ErrPreconditionFailed)
		}
		return nil
	}
}

func etagMatches(list, etag string) bool {
	for _, e := range strings.Split(list, ",") {
		e = strings.TrimSpace(e)
		if e == "*" || e == etag || `"`+e+`"` == etag {
			return true
		}
	}
	return false
}

func (b *Backend) putObject(w http.ResponseWriter, r *http.Request, bucketName, key string) error {
	b.mu.Lock()
	_, err := b.bucketLocked(bucketName)
	b.mu.Unlock()
	if err != nil {
		return err
	}
	bd, err := readBody(r, b.cfg.MaxObjectSize)
	if err != nil {
		return err
	}
	md5hex, sum, err := bd.verify()
	if err != nil {
		return err
	}
	obj, err := b.storeObject(bucketName, key, bd.data, md5hex, sum, metaFrom(r), conditions(r))
	if err != nil {
		return err
	}
	b.writeObjectHeaders(w, bucketName, obj, true)
	w.WriteHeader(http.StatusOK)
	return nil
}

// writeObjectHeaders sets the headers PutObject and GetObject answer with.
func (b *Backend) writeObjectHeaders(w http.ResponseWriter, bucketName string, o *object, withChecksum bool) {
	h := w.Header()
	h.Set("ETag", o.ETag)
	h.Set("X-Amz-Server-Side-Encryption", b.sseOf(bucketName))
	if o.VersionID != "" {
		h.Set("X-Amz-Version-Id", o.VersionID)
	}
	if withChecksum && o.Checksum.Algorithm != "" {
		h.Set("X-Amz-Checksum-"+strings.ToUpper(o.Checksum.Algorithm[:1])+o.Checksum.Algorithm[1:], o.Checksum.Value)
		h.Set("X-Amz-Checksum-Type", o.ChecksumType)
	}
}

// sseOf is the bucket's default encryption algorithm (AES256 unless a
// recorded configuration says aws:kms).
func (b *Backend) sseOf(bucketName string) string {
	doc, _ := b.BucketConfig(bucketName, "encryption")
	if bytes.Contains(doc, []byte("aws:kms")) {
		return "aws:kms"
	}
	return "AES256"
}

func (b *Backend) lookup(bucketName, key string) (*object, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	bk, err := b.bucketLocked(bucketName)
	if err != nil {
		return nil, err
	}
	o, ok := bk.Objects[key]
	if !ok {
		return nil, keyErr(ErrNoSuchKey, key)
	}
	cp := *o
	return &cp, nil
}

func (b *Backend) getObject(w http.ResponseWriter, r *http.Request, bucketName, key string) error {
	o, err := b.lookup(bucketName, key)
	if err != nil {
		return err
	}
	if v := r.URL.Query().Get("versionId"); v != "" && v != o.VersionID && !(v == "null" && o.VersionID == "") {
		return errf(ErrNoSuchVersion, "The specified version does not exist.")
	}
	if im := r.Header.Get("If-Match"); im != "" && !etagMatches(im, o.ETag) {
		return newErr(ErrPreconditionFailed)
	}
	if inm := r.Header.Get("If-None-Match"); inm != "" && etagMatches(inm, o.ETag) {
		w.Header().Set("ETag", o.ETag)
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	f, err := os.Open(filepath.Join(b.dataDir, o.File))
	if err != nil {
		return fmt.Errorf("open object %s/%s: %w", bucketName, key, err)
	}
	defer f.Close()
	start, end := int64(0), o.Size-1
	ranged := false
	if rg := r.Header.Get("Range"); rg != "" {
		s, e, ok := parseRange(rg, o.Size)
		if !ok {
			w.Header().Set("Content-Range", "bytes */"+strconv.FormatInt(o.Size, 10))
			return newErr(ErrInvalidRange)
		}
		start, end, ranged = s, e, true
	}
	h := w.Header()
	b.writeObjectHeaders(w, bucketName, o, !ranged && strings.EqualFold(r.Header.Get("X-Amz-Checksum-Mode"), "ENABLED"))
	h.Set("Last-Modified", o.LastModified.UTC().Format(http.TimeFormat))
	h.Set("Content-Type", o.ContentType)
	h.Set("Accept-Ranges", "bytes")
	for k, v := range o.Headers {
		h.Set(k, v)
	}
	for k, v := range o.Metadata {
		h.Set("X-Amz-Meta-"+k, v)
	}
	if o.Parts > 0 {
		h.Set("X-Amz-Mp-Parts-Count", strconv.Itoa(o.Parts))
	}
	length := end - start + 1
	if o.Size == 0 {
		length = 0
	}
	h.Set("Content-Length", strconv.FormatInt(length, 10))
	status := http.StatusOK
	if ranged {
		h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, end, o.Size))
		status = http.StatusPartialContent
	}
	w.WriteHeader(status)
	if r.Method == http.MethodHead || length == 0 {
		return nil
	}
	if _, err := f.Seek(start, io.SeekStart); err != nil {
		return nil
	}
	_, _ = io.CopyN(w, f, length)
	return nil
}

// parseRange reads a single "bytes=a-b", "bytes=a-" or "bytes=-n" range.
func parseRange(s string, size int64) (start, end int64, ok bool) {
	spec, found := strings.CutPrefix(s, "bytes=")
	if !found || strings.Contains(spec, ",") {
		return 0, 0, false
	}
	a, bs, found := strings.Cut(spec, "-")
	if !found {
		return 0, 0, false
	}
	if a == "" {
		n, err := strconv.ParseInt(bs, 10, 64)
		if err != nil || n <= 0 || size == 0 {
			return 0, 0, false
		}
		return max(0, size-n), size - 1, true
	}
	{
		st, err := strconv.ParseInt(a, 10, 64)
		if err != nil || st >= size {
			return 0, 0, false
		}
		en := size - 1
		if bs != "" {
			e, err := strconv.ParseInt(bs, 10, 64)
			if err != nil || e < st {
				return 0, 0, false
			}
			en = min(e, size-1)
		}
		return st, en, true
	}
}

func (b *Backend) copyObject(w http.ResponseWriter, r *http.Request, bucketName, key, src string) error {
	src, _, _ = strings.Cut(src, "?")
	src, err := url.PathUnescape(strings.TrimPrefix(src, "/"))
	if err != nil {
		return errf(ErrInvalidArgument, "Invalid copy source encoding")
	}
	sb, sk, ok := strings.Cut(src, "/")
	if !ok || sk == "" {
		return errf(ErrInvalidArgument, "Invalid copy source object key")
	}
	data, err := b.GetObject(r.Context(), sb, sk)
	if err != nil {
		return err
	}
	so, err := b.lookup(sb, sk)
	if err != nil {
		return err
	}
	meta := objectMeta{contentType: so.ContentType, headers: so.Headers, metadata: so.Metadata}
	if strings.EqualFold(r.Header.Get("X-Amz-Metadata-Directive"), "REPLACE") {
		meta = metaFrom(r)
	}
	bd := &body{data: data}
	md5hex, sum, err := bd.verify()
	if err != nil {
		return err
	}
	if so.Checksum.Algorithm != "" && so.ChecksumType == "FULL_OBJECT" {
		sum = so.Checksum
	}
	obj, err := b.storeObject(bucketName, key, data, md5hex, sum, meta, conditions(r))
	if err != nil {
		return err
	}
	if obj.VersionID != "" {
		w.Header().Set("X-Amz-Version-Id", obj.VersionID)
	}
	return writeXML(w, 200, struct {
		XMLName      xml.Name `xml:"CopyObjectResult"`
		Xmlns        string   `xml:"xmlns,attr"`
		LastModified string
		ETag         string
	}{Xmlns: xmlns, LastModified: isoTime(obj.LastModified), ETag: obj.ETag})
}
