package s3

import (
	"bytes"
	"crypto/md5" //nolint:gosec // multipart ETags are MD5 of MD5s by protocol
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"hash/crc64"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// upload is a multipart upload in progress (kept in memory: an upload
// does not survive a restart, as a client would simply retry it).
type upload struct {
	id, bucket, key string
	meta            objectMeta
	algorithm       string // x-amz-checksum-algorithm, lower case
	initiated       time.Time
	parts           map[int]*part
}

type part struct {
	file     string
	size     int64
	md5hex   string
	checksum checksum
	modified time.Time
}

// minPartSize is S3's minimum size of every part but the last.
const minPartSize = 5 << 20

func (b *Backend) createUpload(w http.ResponseWriter, r *http.Request, bucketName, key string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, err := b.bucketLocked(bucketName); err != nil {
		return err
	}
	alg := strings.ToLower(r.Header.Get("X-Amz-Checksum-Algorithm"))
	if _, ok := checksumAlgorithms[alg]; alg != "" && !ok {
		return errf(ErrInvalidRequest, "Checksum algorithm provided is unsupported.")
	}
	u := &upload{id: newVersionID(), bucket: bucketName, key: key, meta: metaFrom(r), algorithm: alg, initiated: b.clock.Now().UTC(), parts: map[int]*part{}}
	b.uploads[u.id] = u
	if alg != "" {
		w.Header().Set("X-Amz-Checksum-Algorithm", algorithmNames[alg])
		w.Header().Set("X-Amz-Checksum-Type", "COMPOSITE")
	}
	return writeXML(w, 200, struct {
		XMLName  xml.Name `xml:"InitiateMultipartUploadResult"`
		Xmlns    string   `xml:"xmlns,attr"`
		Bucket   string
		Key      string
		UploadId string
	}{Xmlns: xmlns, Bucket: bucketName, Key: key, UploadId: u.id})
}

func (b *Backend) uploadLocked(bucketName, key, id string) (*upload, error) {
	u, ok := b.uploads[id]
	if !ok || u.bucket != bucketName || u.key != key {
		return nil, newErr(ErrNoSuchUpload)
	}
	return u, nil
}

func (b *Backend) uploadOp(w http.ResponseWriter, r *http.Request, bucketName, key string, q url.Values) error {
	id := q.Get("uploadId")
	switch r.Method {
	case http.MethodPut:
		return b.uploadPart(w, r, bucketName, key, id, q.Get("partNumber"))
	case http.MethodPost:
		return b.completeUpload(w, r, bucketName, key, id)
	case http.MethodDelete:
		b.mu.Lock()
		u, err := b.uploadLocked(bucketName, key, id)
		if err == nil {
			delete(b.uploads, id)
		}
		b.mu.Unlock()
		if err != nil {
			return err
		}
		for _, p := range u.parts {
			os.Remove(filepath.Join(b.dataDir, p.file))
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	case http.MethodGet:
		b.mu.Lock()
		u, err := b.uploadLocked(bucketName, key, id)
		if err != nil {
			b.mu.Unlock()
			return err
		}
		type partEntry struct {
			PartNumber   int
			LastModified string
			ETag         string
			Size         int64
		}
		var parts []partEntry
		for n, p := range u.parts {
			parts = append(parts, partEntry{n, isoTime(p.modified), `"` + p.md5hex + `"`, p.size})
		}
		b.mu.Unlock()
		sort.Slice(parts, func(i, j int) bool { return parts[i].PartNumber < parts[j].PartNumber })
		return writeXML(w, 200, struct {
			XMLName     xml.Name `xml:"ListPartsResult"`
			Xmlns       string   `xml:"xmlns,attr"`
			Bucket      string
			Key         string
			UploadId    string
			IsTruncated bool
			Part        []partEntry
		}{Xmlns: xmlns, Bucket: bucketName, Key: key, UploadId: id, Part: parts})
	}
	return newErr(ErrMethodNotAllowed)
}

func (b *Backend) uploadPart(w http.ResponseWriter, r *http.Request, bucketName, key, id, num string) error {
	n, err := strconv.Atoi(num)
	if err != nil || n < 1 || n > 10000 {
		return errf(ErrInvalidArgument, "Part number must be an integer between 1 and 10000, inclusive")
	}
	b.mu.Lock()
	_, err = b.uploadLocked(bucketName, key, id)
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
	file, err := b.writeFile(".uploads", bd.data)
	if err != nil {
		return err
	}
	b.mu.Lock()
	u, err := b.uploadLocked(bucketName, key, id)
	if err != nil {
		b.mu.Unlock()
		os.Remove(filepath.Join(b.dataDir, file))
		return err
	}
	if u.algorithm != "" && sum.Algorithm != u.algorithm {
		h := checksumAlgorithms[u.algorithm]()
		h.Write(bd.data)
		sum = checksum{u.algorithm, sumOf(h)}
	}
	if old := u.parts[n]; old != nil {
		os.Remove(filepath.Join(b.dataDir, old.file))
	}
	u.parts[n] = &part{file: file, size: int64(len(bd.data)), md5hex: md5hex, checksum: sum, modified: b.clock.Now().UTC()}
	b.mu.Unlock()
	w.Header().Set("ETag", `"`+md5hex+`"`)
	if u.algorithm != "" {
		w.Header().Set("X-Amz-Checksum-"+strings.ToUpper(sum.Algorithm[:1])+sum.Algorithm[1:], sum.Value)
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

func (b *Backend) completeUpload(w http.ResponseWriter, r *http.Request, bucketName, key, id string) error {
	doc, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	if err != nil {
		return newErr(ErrIncompleteBody)
	}
	var req struct {
		Part []struct {
			PartNumber int
			ETag       string
		}
	}
	if err := xml.Unmarshal(doc, &req); err != nil || len(req.Part) == 0 {
		return newErr(ErrMalformedXML)
	}
	b.mu.Lock()
	u, err := b.uploadLocked(bucketName, key, id)
	if err != nil {
		b.mu.Unlock()
		return err
	}
	var parts []*part
	for i, p := range req.Part {
		if i > 0 && p.PartNumber <= req.Part[i-1].PartNumber {
			b.mu.Unlock()
			return newErr(ErrInvalidPartOrder)
		}
		got, ok := u.parts[p.PartNumber]
		if !ok || strings.Trim(p.ETag, `"`) != got.md5hex {
			b.mu.Unlock()
			return newErr(ErrInvalidPart)
		}
		if i < len(req.Part)-1 && got.size < minPartSize {
			b.mu.Unlock()
			return errf("EntityTooSmall", "Your proposed upload is smaller than the minimum allowed object size.")
		}
		parts = append(parts, got)
	}
	b.mu.Unlock()
	var data bytes.Buffer
	md5s := md5.New() //nolint:gosec // multipart ETags are MD5 of MD5s by protocol
	var sums []string
	for _, p := range parts {
		f, err := os.ReadFile(filepath.Join(b.dataDir, p.file))
		if err != nil {
			return fmt.Errorf("read part: %w", err)
		}
		data.Write(f)
		raw, _ := hex.DecodeString(p.md5hex)
		md5s.Write(raw)
		sums = append(sums, p.checksum.Value)
	}
	etag := hex.EncodeToString(md5s.Sum(nil)) + "-" + strconv.Itoa(len(parts))
	var sum checksum
	ctype := "FULL_OBJECT"
	if u.algorithm != "" && u.algorithm != "crc64nvme" {
		sum, ctype = checksum{u.algorithm, compositeSum(u.algorithm, sums)}, "COMPOSITE"
	} else {
		h := crc64.New(crc64NVME)
		h.Write(data.Bytes())
		sum = checksum{"crc64nvme", sumOf(h)}
	}
	obj, err := b.storeObject(bucketName, key, data.Bytes(), "", sum, u.meta, conditions(r))
	if err != nil {
		return err
	}
	b.mu.Lock()
	obj.ETag, obj.Parts, obj.ChecksumType = `"`+etag+`"`, len(parts), ctype
	if bk, ok := b.buckets[bucketName]; ok {
		if err := b.saveBucketLocked(bk); err != nil {
			b.log.Error("save completed upload", "err", err)
		}
	}
	delete(b.uploads, id)
	b.mu.Unlock()
	for _, p := range u.parts {
		os.Remove(filepath.Join(b.dataDir, p.file))
	}
	if obj.VersionID != "" {
		w.Header().Set("X-Amz-Version-Id", obj.VersionID)
	}
	return writeXML(w, 200, struct {
		XMLName  xml.Name `xml:"CompleteMultipartUploadResult"`
		Xmlns    string   `xml:"xmlns,attr"`
		Location string
		Bucket   string
		Key      string
		ETag     string
	}{Xmlns: xmlns, Location: "/" + bucketName + "/" + key, Bucket: bucketName, Key: key, ETag: obj.ETag})
}

func (b *Backend) listUploads(w http.ResponseWriter, bucketName string) error {
	b.mu.Lock()
	if _, err := b.bucketLocked(bucketName); err != nil {
		b.mu.Unlock()
		return err
	}
	type entry struct {
		Key, UploadId, Initiated string
	}
	var list []entry
	for _, u := range b.uploads {
		if u.bucket == bucketName {
			list = append(list, entry{u.key, u.id, isoTime(u.initiated)})
		}
	}
	b.mu.Unlock()
	sort.Slice(list, func(i, j int) bool { return list[i].Key < list[j].Key })
	return writeXML(w, 200, struct {
		XMLName     xml.Name `xml:"ListMultipartUploadsResult"`
		Xmlns       string   `xml:"xmlns,attr"`
		Bucket      string
		IsTruncated bool
		Upload      []entry
	}{Xmlns: xmlns, Bucket: bucketName, Upload: list})
}
