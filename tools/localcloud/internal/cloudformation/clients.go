package cloudformation

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"time"

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
// Template property names are the API's member names, matched case-
// insensitively; members the input lacks are left to the caller. Scalars
// convert as CloudFormation converts them: "5000" fills an integer, 60 a
// string, "true" a boolean.
func convert(props any, out any) error {
	rv := reflect.ValueOf(out)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("convert properties into %T: want a non-nil pointer", out)
	}
	return assign(props, rv.Elem(), "#")
}

var timeType = reflect.TypeFor[time.Time]()

func typeError(path, want string, v any) error {
	got := "JSONObject"
	switch v.(type) {
	case string:
		got = "String"
	case []any, []string:
		got = "JSONArray"
	case json.Number, float64:
		got = "Number"
	case bool:
		got = "Boolean"
	}
	return msgf("Properties validation failed: %s: expected type: %s, found: %s", path, want, got)
}

func isScalar(v any) bool {
	switch v.(type) {
	case string, json.Number, float64, bool:
		return true
	}
	return false
}

func assign(v any, rv reflect.Value, path string) error {
	if v == nil {
		return nil
	}
	if ss, ok := v.([]string); ok {
		v = toAnyList(ss)
	}
	switch rv.Kind() {
	case reflect.Pointer:
		if rv.IsNil() {
			rv.Set(reflect.New(rv.Type().Elem()))
		}
		return assign(v, rv.Elem(), path)
	case reflect.Interface:
		if rv.NumMethod() == 0 {
			rv.Set(reflect.ValueOf(v))
		}
		return nil
	case reflect.Struct:
		if rv.Type() == timeType {
			t, err := time.Parse(time.RFC3339, scalarString(v))
			if err != nil {
				return typeError(path, "Timestamp", v)
			}
			rv.Set(reflect.ValueOf(t))
			return nil
		}
		m, ok := v.(map[string]any)
		if !ok {
			return typeError(path, "JSONObject", v)
		}
		rt := rv.Type()
		fields := map[string]int{}
		for i := range rt.NumField() {
			if f := rt.Field(i); f.IsExported() {
				fields[strings.ToLower(f.Name)] = i
			}
		}
		for k, e := range m {
			if i, ok := fields[strings.ToLower(k)]; ok {
				if err := assign(e, rv.Field(i), path+"/"+k); err != nil {
					return err
				}
			}
		}
	case reflect.Slice:
		l, ok := v.([]any)
		if !ok {
			return typeError(path, "JSONArray", v)
		}
		out := reflect.MakeSlice(rv.Type(), len(l), len(l))
		for i, e := range l {
			if err := assign(e, out.Index(i), fmt.Sprintf("%s/%d", path, i)); err != nil {
				return err
			}
		}
		rv.Set(out)
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok || rv.Type().Key().Kind() != reflect.String {
			return typeError(path, "JSONObject", v)
		}
		out := reflect.MakeMapWithSize(rv.Type(), len(m))
		for k, e := range m {
			ev := reflect.New(rv.Type().Elem()).Elem()
			if err := assign(e, ev, path+"/"+k); err != nil {
				return err
			}
			out.SetMapIndex(reflect.ValueOf(k).Convert(rv.Type().Key()), ev)
		}
		rv.Set(out)
	case reflect.String:
		if !isScalar(v) {
			return typeError(path, "String", v)
		}
		rv.SetString(scalarString(v))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(scalarString(v), 10, rv.Type().Bits())
		if err != nil || !isScalar(v) {
			return typeError(path, "Integer", v)
		}
		rv.SetInt(n)
	case reflect.Float32, reflect.Float64:
		f, err := strconv.ParseFloat(scalarString(v), rv.Type().Bits())
		if err != nil || !isScalar(v) {
			return typeError(path, "Number", v)
		}
		rv.SetFloat(f)
	case reflect.Bool:
		b, err := strconv.ParseBool(scalarString(v))
		if err != nil || !isScalar(v) {
			return typeError(path, "Boolean", v)
		}
		rv.SetBool(b)
	default:
		return fmt.Errorf("convert properties at %s: unsupported kind %s", path, rv.Kind())
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
