package s3

import (
	"encoding/xml"
	"fmt"
	"net/http"
)

// ErrorCode is an S3 error code, as the <Code> of an error document.
type ErrorCode string

// The S3 error codes this emulator answers.
const (
	ErrNoSuchBucket                 ErrorCode = "NoSuchBucket"
	ErrNoSuchKey                    ErrorCode = "NoSuchKey"
	ErrBucketAlreadyOwnedByYou      ErrorCode = "BucketAlreadyOwnedByYou"
	ErrBucketNotEmpty               ErrorCode = "BucketNotEmpty"
	ErrInvalidBucketName            ErrorCode = "InvalidBucketName"
	ErrNoSuchBucketPolicy           ErrorCode = "NoSuchBucketPolicy"
	ErrNoSuchTagSet                 ErrorCode = "NoSuchTagSet"
	ErrNoSuchPublicAccessBlock      ErrorCode = "NoSuchPublicAccessBlockConfiguration"
	ErrNoSuchLifecycle              ErrorCode = "NoSuchLifecycleConfiguration"
	ErrNoSuchOwnershipControls      ErrorCode = "OwnershipControlsNotFoundError"
	ErrNoSuchEncryption             ErrorCode = "ServerSideEncryptionConfigurationNotFoundError"
	ErrNoSuchConfiguration          ErrorCode = "NoSuchConfiguration"
	ErrMalformedXML                 ErrorCode = "MalformedXML"
	ErrMalformedPolicy              ErrorCode = "MalformedPolicy"
	ErrBadDigest                    ErrorCode = "BadDigest"
	ErrInvalidDigest                ErrorCode = "InvalidDigest"
	ErrInvalidArgument              ErrorCode = "InvalidArgument"
	ErrInvalidRequest               ErrorCode = "InvalidRequest"
	ErrNotImplemented               ErrorCode = "NotImplemented"
	ErrMethodNotAllowed             ErrorCode = "MethodNotAllowed"
	ErrInvalidRange                 ErrorCode = "InvalidRange"
	ErrNoSuchUpload                 ErrorCode = "NoSuchUpload"
	ErrInvalidPart                  ErrorCode = "InvalidPart"
	ErrInvalidPartOrder             ErrorCode = "InvalidPartOrder"
	ErrPreconditionFailed           ErrorCode = "PreconditionFailed"
	ErrContentSHA256Mismatch        ErrorCode = "XAmzContentSHA256Mismatch"
	ErrIncompleteBody               ErrorCode = "IncompleteBody"
	ErrInternal                     ErrorCode = "InternalError"
	ErrKeyTooLong                   ErrorCode = "KeyTooLongError"
	ErrInvalidChunkSizeError        ErrorCode = "InvalidChunkSizeError"
	ErrMissingContentLength         ErrorCode = "MissingContentLength"
	ErrInvalidStorageClass          ErrorCode = "InvalidStorageClass"
	ErrIllegalVersioningConfig      ErrorCode = "IllegalVersioningConfigurationException"
	ErrInvalidEncryptionAlgorithm   ErrorCode = "InvalidEncryptionAlgorithmError"
	ErrNoSuchVersion                ErrorCode = "NoSuchVersion"
	ErrEntityTooLarge               ErrorCode = "EntityTooLarge"
	ErrAuthorizationHeaderMalformed ErrorCode = "AuthorizationHeaderMalformed"
)

var defaults = map[ErrorCode]struct {
	status int
	msg    string
}{
	ErrNoSuchBucket:                 {404, "The specified bucket does not exist"},
	ErrNoSuchKey:                    {404, "The specified key does not exist."},
	ErrBucketAlreadyOwnedByYou:      {409, "Your previous request to create the named bucket succeeded and you already own it."},
	ErrBucketNotEmpty:               {409, "The bucket you tried to delete is not empty"},
	ErrInvalidBucketName:            {400, "The specified bucket is not valid."},
	ErrNoSuchBucketPolicy:           {404, "The bucket policy does not exist"},
	ErrNoSuchTagSet:                 {404, "The TagSet does not exist"},
	ErrNoSuchPublicAccessBlock:      {404, "The public access block configuration was not found"},
	ErrNoSuchLifecycle:              {404, "The lifecycle configuration does not exist"},
	ErrNoSuchOwnershipControls:      {404, "The bucket ownership controls were not found"},
	ErrNoSuchEncryption:             {404, "The server side encryption configuration was not found"},
	ErrNoSuchConfiguration:          {404, "The specified configuration does not exist."},
	ErrMalformedXML:                 {400, "The XML you provided was not well-formed or did not validate against our published schema"},
	ErrMalformedPolicy:              {400, "Policies must be valid JSON and the first byte must be '{'"},
	ErrBadDigest:                    {400, "The Content-MD5 you specified did not match what we received."},
	ErrInvalidDigest:                {400, "The Content-MD5 you specified is not valid."},
	ErrInvalidArgument:              {400, "Invalid Argument"},
	ErrInvalidRequest:               {400, "Invalid Request"},
	ErrNotImplemented:               {501, "A header or query you provided implies functionality that is not implemented."},
	ErrMethodNotAllowed:             {405, "The specified method is not allowed against this resource."},
	ErrInvalidRange:                 {416, "The requested range is not satisfiable"},
	ErrNoSuchUpload:                 {404, "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed."},
	ErrInvalidPart:                  {400, "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag."},
	ErrInvalidPartOrder:             {400, "The list of parts was not in ascending order. Parts must be ordered by part number."},
	ErrPreconditionFailed:           {412, "At least one of the pre-conditions you specified did not hold"},
	ErrContentSHA256Mismatch:        {400, "The provided 'x-amz-content-sha256' header does not match what was computed."},
	ErrIncompleteBody:               {400, "You did not provide the number of bytes specified by the Content-Length HTTP header."},
	ErrInternal:                     {500, "We encountered an internal error. Please try again."},
	ErrKeyTooLong:                   {400, "Your key is too long"},
	ErrInvalidChunkSizeError:        {400, "Only the last chunk is allowed to have a size less than 8192 bytes"},
	ErrMissingContentLength:         {411, "You must provide the Content-Length HTTP header."},
	ErrInvalidStorageClass:          {400, "The storage class you specified is not valid"},
	ErrIllegalVersioningConfig:      {400, "The Versioning element must be specified"},
	ErrInvalidEncryptionAlgorithm:   {400, "The Encryption request you specified is not valid. Supported value: AES256."},
	ErrNoSuchVersion:                {404, "The specified version does not exist."},
	ErrEntityTooLarge:               {400, "Your proposed upload exceeds the maximum allowed size"},
	ErrAuthorizationHeaderMalformed: {400, "The authorization header is malformed."},
}

// Error is an S3 error, rendered as an XML error document.
type Error struct {
	Code     ErrorCode
	Message  string
	Status   int
	Resource string // bucket or key, rendered as <BucketName> or <Key>
	resKind  string
}

func (e *Error) Error() string { return string(e.Code) + ": " + e.Message }

func newErr(code ErrorCode) *Error {
	d := defaults[code]
	if d.status == 0 {
		d.status = http.StatusBadRequest
	}
	return &Error{Code: code, Message: d.msg, Status: d.status}
}

func errf(code ErrorCode, format string, a ...any) *Error {
	e := newErr(code)
	e.Message = fmt.Sprintf(format, a...)
	return e
}

func bucketErr(code ErrorCode, bucket string) *Error {
	e := newErr(code)
	e.Resource, e.resKind = bucket, "BucketName"
	return e
}

func keyErr(code ErrorCode, key string) *Error {
	e := newErr(code)
	e.Resource, e.resKind = key, "Key"
	return e
}

type errorDoc struct {
	XMLName    xml.Name `xml:"Error"`
	Code       ErrorCode
	Message    string
	BucketName string `xml:",omitempty"`
	Key        string `xml:",omitempty"`
	RequestId  string
	HostId     string
}

func (e *Error) doc(reqID string) errorDoc {
	d := errorDoc{Code: e.Code, Message: e.Message, RequestId: reqID, HostId: reqID}
	switch e.resKind {
	case "BucketName":
		d.BucketName = e.Resource
	case "Key":
		d.Key = e.Resource
	}
	return d
}
