package s3

import (
	"bufio"
	"bytes"
	"crypto/md5"  //nolint:gosec // S3 ETags and Content-MD5 are MD5 by protocol
	"crypto/sha1" //nolint:gosec // x-amz-checksum-sha1 is SHA-1 by protocol
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// The flexible checksum algorithms S3 accepts, by the suffix of their
// x-amz-checksum-* header.
var checksumAlgorithms = map[string]func() hash.Hash{
	"crc32":     func() hash.Hash { return crc32.NewIEEE() },
	"crc32c":    func() hash.Hash { return crc32.New(crc32.MakeTable(crc32.Castagnoli)) },
	"crc64nvme": func() hash.Hash { return crc64.New(crc64NVME) },
	"sha1":      sha1.New,
	"sha256":    sha256.New,
}

// crc64NVME is CRC-64/NVME (reflected polynomial 0x9a6c9329ac4bc9b5), the
// SDKs' default full-object checksum for S3.
var crc64NVME = crc64.MakeTable(0x9a6c9329ac4bc9b5)

// algorithmNames are the wire names (x-amz-checksum-algorithm, XML).
var algorithmNames = map[string]string{"crc32": "CRC32", "crc32c": "CRC32C", "crc64nvme": "CRC64NVME", "sha1": "SHA1", "sha256": "SHA256"}

// checksum is a stored object checksum.
type checksum struct {
	Algorithm string // lower-case header suffix, e.g. crc32
	Value     string // base64
}

func sumOf(h hash.Hash) string { return base64.StdEncoding.EncodeToString(h.Sum(nil)) }

// body is a decoded request body and what it claimed about itself.
type body struct {
	data []byte
	// checksum claimed in a header or a trailer, verified by verify.
	claimed *checksum
	md5     string // Content-MD5, base64
}

// readBody reads a PutObject/UploadPart body, decoding aws-chunked
// (signed or unsigned, with or without trailers) and checking the declared
// lengths and the x-amz-content-sha256 of a plain signed payload.
func readBody(r *http.Request, limit int64) (*body, error) {
	enc := r.Header.Get("Content-Encoding")
	sha := r.Header.Get("X-Amz-Content-Sha256")
	chunked := strings.HasPrefix(sha, "STREAMING-") || hasToken(enc, "aws-chunked")
	b := &body{md5: r.Header.Get("Content-Md5")}
	var err error
	if chunked {
		b.data, err = decodeChunked(r.Body, limit, b)
		if err != nil {
			return nil, err
		}
		if dl := r.Header.Get("X-Amz-Decoded-Content-Length"); dl != "" {
			if n, perr := strconv.ParseInt(dl, 10, 64); perr != nil || n != int64(len(b.data)) {
				return nil, newErr(ErrIncompleteBody)
			}
		}
	} else {
		b.data, err = io.ReadAll(io.LimitReader(r.Body, limit+1))
		if err != nil {
			return nil, newErr(ErrIncompleteBody)
		}
		if int64(len(b.data)) > limit {
			return nil, newErr(ErrEntityTooLarge)
		}
		if r.ContentLength >= 0 && int64(len(b.data)) != r.ContentLength {
			return nil, newErr(ErrIncompleteBody)
		}
		if len(sha) == 64 {
			got := sha256.Sum256(b.data)
			if hex.EncodeToString(got[:]) != strings.ToLower(sha) {
				return nil, newErr(ErrContentSHA256Mismatch)
			}
		}
	}
	for alg := range checksumAlgorithms {
		if v := r.Header.Get("X-Amz-Checksum-" + alg); v != "" {
			if b.claimed != nil && b.claimed.Algorithm != alg {
				return nil, errf(ErrInvalidRequest, "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.")
			}
			b.claimed = &checksum{alg, v}
		}
	}
	if a := strings.ToLower(r.Header.Get("X-Amz-Sdk-Checksum-Algorithm")); a != "" && b.claimed == nil && !chunked {
		if _, ok := checksumAlgorithms[a]; !ok {
			return nil, errf(ErrInvalidRequest, "Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]")
		}
	}
	return b, nil
}

func hasToken(list, tok string) bool {
	for _, t := range strings.Split(list, ",") {
		if strings.EqualFold(strings.TrimSpace(t), tok) {
			return true
		}
	}
	return false
}

// decodeChunked decodes the aws-chunked framing:
//
//	<hex size>[;chunk-signature=<sig>]\r\n<data>\r\n ... 0[;…]\r\n
//	[<trailer>:<value>\r\n ...]\r\n
//
// Trailers carry the flexible checksum (x-amz-checksum-crc32:…).
func decodeChunked(r io.Reader, limit int64, b *body) ([]byte, error) {
	br := bufio.NewReader(r)
	var out bytes.Buffer
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return nil, newErr(ErrIncompleteBody)
		}
		line = strings.TrimRight(line, "\r\n")
		sizeHex, _, _ := strings.Cut(line, ";")
		size, err := strconv.ParseInt(strings.TrimSpace(sizeHex), 16, 64)
		if err != nil || size < 0 {
			return nil, errf(ErrInvalidChunkSizeError, "Invalid chunk size %q", sizeHex)
		}
		if size == 0 {
			break
		}
		if int64(out.Len())+size > limit {
			return nil, newErr(ErrEntityTooLarge)
		}
		if _, err := io.CopyN(&out, br, size); err != nil {
			return nil, newErr(ErrIncompleteBody)
		}
		crlf := make([]byte, 2)
		if _, err := io.ReadFull(br, crlf); err != nil || string(crlf) != "\r\n" {
			return nil, newErr(ErrIncompleteBody)
		}
	}
	// Trailers, up to the blank line (or the end of the body).
	for {
		line, err := br.ReadString('\n')
		line = strings.TrimRight(line, "\r\n")
		if line != "" {
			name, value, ok := strings.Cut(line, ":")
			if ok {
				name = strings.ToLower(strings.TrimSpace(name))
				if alg, found := strings.CutPrefix(name, "x-amz-checksum-"); found {
					if _, known := checksumAlgorithms[alg]; !known {
						return nil, errf(ErrInvalidRequest, "Unsupported trailer checksum %s", name)
					}
					b.claimed = &checksum{alg, strings.TrimSpace(value)}
				}
			}
		}
		if line == "" || err != nil {
			break
		}
	}
	return out.Bytes(), nil
}

// verify checks Content-MD5 and the claimed flexible checksum against the
// data, and returns the object's MD5 (for the ETag) and its checksum (the
// claimed one, or CRC64NVME computed here as S3 does when none is sent).
func (b *body) verify() (etagMD5 string, sum checksum, err error) {
	m := md5.Sum(b.data) //nolint:gosec // S3 ETags are MD5 by protocol
	if b.md5 != "" {
		want, derr := base64.StdEncoding.DecodeString(b.md5)
		if derr != nil || len(want) != md5.Size {
			return "", checksum{}, newErr(ErrInvalidDigest)
		}
		if !bytes.Equal(want, m[:]) {
			return "", checksum{}, newErr(ErrBadDigest)
		}
	}
	if b.claimed != nil {
		h := checksumAlgorithms[b.claimed.Algorithm]()
		h.Write(b.data)
		got := sumOf(h)
		if raw, derr := base64.StdEncoding.DecodeString(b.claimed.Value); derr != nil || len(raw) != h.Size() {
			return "", checksum{}, errf(ErrInvalidRequest, "Value for x-amz-checksum-%s header is invalid.", b.claimed.Algorithm)
		}
		if got != b.claimed.Value {
			return "", checksum{}, errf(ErrBadDigest, "The %s you specified did not match the calculated checksum.", algorithmNames[b.claimed.Algorithm])
		}
		sum = *b.claimed
	} else {
		h := crc64.New(crc64NVME)
		h.Write(b.data)
		sum = checksum{"crc64nvme", sumOf(h)}
	}
	return hex.EncodeToString(m[:]), sum, nil
}

// compositeSum is a multipart object's checksum: the checksum of the
// parts' raw checksums, suffixed with the part count (COMPOSITE type).
func compositeSum(alg string, parts []string) string {
	h := checksumAlgorithms[alg]()
	for _, p := range parts {
		raw, _ := base64.StdEncoding.DecodeString(p)
		h.Write(raw)
	}
	return sumOf(h) + "-" + strconv.Itoa(len(parts))
}
