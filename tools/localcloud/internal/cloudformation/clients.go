package cloudformation

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go"
)

// inProcess is an http.RoundTripper that hands each request straight to
// localcloud's own mux: provisioners call the other services through their
// real APIs, as CloudFormation does on AWS, without a network hop.
type inProcess struct{ h http.Handler }

func (t inProcess) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	if rec.Code >= 400 && notServedBody(rec.Body.Bytes()) {
		return nil, &notServedError{method: r.Method, path: r.URL.Path, target: r.Header.Get("X-Amz-Target")}
	}
	resp := rec.Result()
	resp.Request = r
	return resp, nil
}

// notServedBody reports whether an error answer is the mux's own "no such
// service or operation" (in whichever protocol it fell through to), as
// opposed to an error of the service itself.
func notServedBody(b []byte) bool {
	s := string(b)
	return strings.Contains(s, "<Code>MissingAction</Code>") || strings.Contains(s, "<Code>InvalidAction</Code>") ||
		strings.Contains(s, "UnknownOperationException")
}

// notServedError is a request localcloud has no service or operation for.
type notServedError struct{ method, path, target string }

func (e *notServedError) Error() string {
	if e.target != "" {
		return "no operation " + e.target
	}
	return "no operation for " + e.method + " " + e.path
}

// sdkConfig is the aws.Config provisioners' SDK clients use: any credentials
// (localcloud checks none), no retries (a failure is the resource's reason).
func sdkConfig(h http.Handler, region string) aws.Config {
	return aws.Config{
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider("localcloud", "localcloud", ""),
		HTTPClient:   &http.Client{Transport: inProcess{h}},
		BaseEndpoint: aws.String("http://localcloud.internal"),
		Retryer:      func() aws.Retryer { return aws.NopRetryer{} },
	}
}

// convert copies evaluated template properties into an SDK input struct.
// Template property names are the API's member names (matched case-
// insensitively, as encoding/json does), which holds for the types
// converted this way; members the template has and the input lacks are
// handled by the caller.
func convert(props any, out any) error {
	b, err := json.Marshal(props)
	if err != nil {
		return fmt.Errorf("encode properties: %w", err)
	}
	if err := json.Unmarshal(b, out); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return msgf("Properties validation failed: #/%s: expected type: %s, found: %s", te.Field, te.Type, te.Value)
		}
		return msgf("Properties validation failed: %v", err)
	}
	return nil
}

// notServedCodes are the answers of localcloud's mux for a service it does
// not serve (yet).
var notServedCodes = map[string]bool{
	"UnknownOperationException": true,
	"InvalidAction":             true,
	"MissingAction":             true,
	"MalformedQueryString":      true,
}

// handlerError turns an API error into the reason CloudFormation shows for a
// failed resource, and a service localcloud does not serve into a "not
// supported yet" failure.
func handlerError(typ, service string, err error) error {
	if err == nil {
		return nil
	}
	var ns *notServedError
	if errors.As(err, &ns) {
		return notSupported(typ, "this localcloud does not serve this call of the "+service+" API ("+ns.Error()+")")
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		if notServedCodes[ae.ErrorCode()] {
			return notSupported(typ, "this localcloud does not serve the "+service+" API ("+ae.ErrorCode()+")")
		}
		var re interface{ HTTPStatusCode() int }
		status := 400
		if errors.As(err, &re) {
			status = re.HTTPStatusCode()
		}
		if status == http.StatusNotFound && ae.ErrorCode() == "NotFound" {
			return notSupported(typ, "this localcloud does not serve the "+service+" API")
		}
		return msgf("Resource handler returned message: \"%s\" (Service: %s, Status Code: %d, HandlerErrorCode: %s)", ae.ErrorMessage(), service, status, ae.ErrorCode())
	}
	return msgf("Resource handler returned message: \"%v\" (Service: %s)", err, service)
}

// isNotFound reports whether a delete failed only because the thing is
// already gone, which CloudFormation treats as deleted.
func isNotFound(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.ErrorCode() {
	case "ResourceNotFoundException", "LoadBalancerNotFound", "TargetGroupNotFound", "ListenerNotFound", "RuleNotFound",
		"ClusterNotFoundException", "RepositoryNotFoundException", "NoSuchBucket", "NoSuchBucketPolicy",
		"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist", "NotFound", "ObjectNotFoundException":
		return true
	}
	return false
}
