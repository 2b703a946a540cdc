package awsproto

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/fxamacker/cbor/v2"
)

// maxBody bounds a request body; AWS APIs cap payloads well below it.
const maxBody = 16 << 20

// JSONOp is one operation of a JSON service. body is the raw request JSON
// (never nil; "{}" when the client sent nothing); the op decodes it with
// DecodeJSON into its own input type and returns the output to marshal with
// encoding/json, or an error.
type JSONOp func(ctx context.Context, body []byte) (any, error)

// JSONService is a service spoken in awsJson1_0 or awsJson1_1.
type JSONService struct {
	// TargetPrefix is the part of X-Amz-Target before the dot, e.g.
	// "AmazonEC2ContainerServiceV20141113".
	TargetPrefix string
	// Version is "1.0" or "1.1", used for the response Content-Type.
	Version string
	// QueryCompatible services (CloudWatch) also send X-Amzn-Query-Error.
	QueryCompatible bool
	Ops             map[string]JSONOp
}

// QueryOp is one operation of a query service: params holds every form and
// URL parameter (Action and Version included). The op decodes them with
// DecodeQuery and returns a struct the layer encodes with encoding/xml as
// the children of <OpResult>.
type QueryOp func(ctx context.Context, params url.Values) (any, error)

// QueryService is a service spoken in awsQuery.
type QueryService struct {
	// Version is the API version clients send, e.g. "2015-12-01"; it tells
	// services with the same Action names apart.
	Version string
	// SigningName is the SigV4 service name (elasticloadbalancing, sts,
	// monitoring), the fallback when a request has no Version.
	SigningName string
	// XMLNamespace is the xmlns of responses.
	XMLNamespace string
	// ValidationCode answers parameters of the wrong type
	// (ValidationError, InvalidParameterValue).
	ValidationCode string
	Ops            map[string]QueryOp
}

// CBOROp is one operation of an rpcv2Cbor service: body is the raw CBOR
// request (possibly empty); the op decodes it with DecodeCBOR and returns the
// output to encode as CBOR.
type CBOROp func(ctx context.Context, body []byte) (any, error)

// CBORService is a service spoken in rpcv2Cbor.
type CBORService struct {
	// Name is the service shape name in the path, e.g.
	// "GraniteServiceVersion20100801".
	Name string
	// QueryCompatible services (CloudWatch) also send X-Amzn-Query-Error.
	QueryCompatible bool
	Ops             map[string]CBOROp
}

// Mux routes requests to services by protocol. Register everything before
// serving; registration is not safe concurrently with ServeHTTP.
type Mux struct {
	log      *slog.Logger
	json     map[string]*JSONService
	query    []*QueryService
	cbor     map[string]*CBORService
	prefixes []prefixHandler
	rest     map[string]http.Handler
	fallback http.Handler
}

type prefixHandler struct {
	prefix string
	h      http.Handler
}

// NewMux returns an empty Mux logging requests to log.
func NewMux(log *slog.Logger) *Mux {
	return &Mux{log: log, json: map[string]*JSONService{}, cbor: map[string]*CBORService{}}
}

// HandleJSON registers a JSON service.
func (m *Mux) HandleJSON(s JSONService) { m.json[s.TargetPrefix] = &s }

// HandleQuery registers a query service.
func (m *Mux) HandleQuery(s QueryService) { m.query = append(m.query, &s) }

// HandleCBOR registers an rpcv2Cbor service.
func (m *Mux) HandleCBOR(s CBORService) { m.cbor[s.Name] = &s }

// Handle mounts h for every path starting with prefix (e.g. "/v2/"), ahead
// of the AWS protocols.
func (m *Mux) Handle(prefix string, h http.Handler) {
	m.prefixes = append(m.prefixes, prefixHandler{prefix, h})
}

// HandleREST mounts h for a REST-XML service (S3), whose requests have no
// X-Amz-Target or Action and whose paths are the caller's (/bucket/key):
// requests SigV4-signed for signingName (in the Authorization header or a
// presigned URL's X-Amz-Credential) go to h. When fallback is set, so do
// requests no other protocol claims: no X-Amz-Target, not CBOR, no Action
// in the URL and not a form-encoded POST (an unsigned GET of an object).
func (m *Mux) HandleREST(signingName string, h http.Handler, fallback bool) {
	if m.rest == nil {
		m.rest = map[string]http.Handler{}
	}
	m.rest[signingName] = h
	if fallback {
		m.fallback = h
	}
}

// restHandler picks the REST service for a request that is neither JSON
// nor CBOR, or nil for the query protocol.
func (m *Mux) restHandler(r *http.Request) http.Handler {
	name := signingName(r)
	if name == "" {
		if cred := r.URL.Query().Get("X-Amz-Credential"); cred != "" {
			if parts := strings.Split(cred, "/"); len(parts) >= 5 {
				name = parts[3]
			}
		}
	}
	if h, ok := m.rest[name]; ok {
		return h
	}
	if m.fallback == nil || name != "" || r.URL.Query().Has("Action") {
		return nil
	}
	if r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		return nil
	}
	return m.fallback
}

// ServeHTTP routes one request.
func (m *Mux) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	for _, p := range m.prefixes {
		if strings.HasPrefix(r.URL.Path, p.prefix) {
			p.h.ServeHTTP(w, r)
			return
		}
	}
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	start := time.Now()
	svc, op := m.route(rec, r)
	m.log.Debug("request", "service", svc, "op", op, "status", rec.status, "took", time.Since(start).Round(time.Microsecond))
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (m *Mux) route(w http.ResponseWriter, r *http.Request) (svc, op string) {
	reqID := newRequestID()
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		prefix, op, _ := strings.Cut(target, ".")
		s, ok := m.json[prefix]
		if !ok {
			writeJSONError(w, reqID, "1.1", false, UnknownOperation())
			return prefix, op
		}
		m.serveJSON(w, r, reqID, s, op)
		return prefix, op
	}
	if strings.EqualFold(r.Header.Get("Smithy-Protocol"), "rpc-v2-cbor") || strings.HasPrefix(r.URL.Path, "/service/") {
		name, op := cborPath(r.URL.Path)
		s, ok := m.cbor[name]
		if !ok || r.Method != http.MethodPost {
			writeCBORError(w, reqID, false, UnknownOperation())
			return name, op
		}
		m.serveCBOR(w, r, reqID, s, op)
		return name, op
	}
	if h := m.restHandler(r); h != nil {
		h.ServeHTTP(w, r)
		return "rest", r.Method + " " + r.URL.Path
	}
	return m.serveQuery(w, r, reqID)
}

// cborPath splits /service/<name>/operation/<op>.
func cborPath(p string) (name, op string) {
	parts := strings.Split(strings.Trim(p, "/"), "/")
	if len(parts) != 4 || parts[0] != "service" || parts[2] != "operation" {
		return "", ""
	}
	// A namespaced service id (com.amazonaws.x#Name) is addressed by its name.
	name = parts[1]
	if _, short, ok := strings.Cut(name, "#"); ok {
		name = short
	}
	return name, parts[3]
}

// readBody reads the request body, gunzipping it when the client compressed
// it (the SDKs gzip PutMetricData, which has @requestCompression).
func readBody(r *http.Request) ([]byte, error) {
	var body io.Reader = r.Body
	if strings.EqualFold(r.Header.Get("Content-Encoding"), "gzip") {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			return nil, Serialization("decompress request body: %v", err)
		}
		defer zr.Close()
		body = zr
	}
	b, err := io.ReadAll(io.LimitReader(body, maxBody+1))
	if err != nil {
		return nil, Serialization("read request body: %v", err)
	}
	if len(b) > maxBody {
		return nil, &Error{Code: "RequestEntityTooLarge", Message: "Request body too large", Status: http.StatusRequestEntityTooLarge}
	}
	return b, nil
}

func (m *Mux) serveJSON(w http.ResponseWriter, r *http.Request, reqID string, s *JSONService, opName string) {
	op, ok := s.Ops[opName]
	if !ok || r.Method != http.MethodPost {
		writeJSONError(w, reqID, s.Version, s.QueryCompatible, UnknownOperation())
		return
	}
	body, err := readBody(r)
	if err == nil && len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	var out any
	if err == nil {
		out, err = m.call(r.Context(), s.TargetPrefix, opName, func(ctx context.Context) (any, error) { return op(ctx, body) })
	}
	if err != nil {
		writeJSONError(w, reqID, s.Version, s.QueryCompatible, asError(err))
		return
	}
	if out == nil {
		out = struct{}{}
	}
	b, err := json.Marshal(out)
	if err != nil {
		m.log.Error("encode response", "service", s.TargetPrefix, "op", opName, "err", err)
		writeJSONError(w, reqID, s.Version, s.QueryCompatible, asError(err))
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-"+s.Version)
	w.Header().Set("X-Amzn-RequestId", reqID)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b) // the client went away; nothing to do
}

// call runs an operation, turning a panic into an internal failure so one bad
// request cannot take the emulator down.
func (m *Mux) call(ctx context.Context, svc, op string, f func(context.Context) (any, error)) (out any, err error) {
	defer func() {
		if p := recover(); p != nil {
			m.log.Error("operation panicked", "service", svc, "op", op, "panic", p)
			err = fmt.Errorf("run %s.%s: panic: %v", svc, op, p)
		}
	}()
	out, err = f(ctx)
	var e *Error
	if err != nil && !errors.As(err, &e) {
		m.log.Error("operation failed", "service", svc, "op", op, "err", err)
	}
	return out, err
}

func errorType(e *Error, queryCompatible bool) string {
	if queryCompatible && e.Shape != "" {
		return e.Shape
	}
	return e.Code
}

func writeJSONError(w http.ResponseWriter, reqID, version string, queryCompatible bool, e *Error) {
	if version == "" {
		version = "1.1"
	}
	typ := errorType(e, queryCompatible)
	b, _ := json.Marshal(e.body(typ))
	w.Header().Set("Content-Type", "application/x-amz-json-"+version)
	w.Header().Set("X-Amzn-RequestId", reqID)
	w.Header().Set("X-Amzn-ErrorType", typ)
	if queryCompatible {
		w.Header().Set("X-Amzn-Query-Error", e.Code+";"+string(e.fault()))
	}
	w.WriteHeader(e.HTTPStatus())
	_, _ = w.Write(b) // the client went away; nothing to do
}

func (m *Mux) serveCBOR(w http.ResponseWriter, r *http.Request, reqID string, s *CBORService, opName string) {
	op, ok := s.Ops[opName]
	if !ok {
		writeCBORError(w, reqID, s.QueryCompatible, UnknownOperation())
		return
	}
	body, err := readBody(r)
	var out any
	if err == nil {
		out, err = m.call(r.Context(), s.Name, opName, func(ctx context.Context) (any, error) { return op(ctx, body) })
	}
	if err != nil {
		writeCBORError(w, reqID, s.QueryCompatible, asError(err))
		return
	}
	if out == nil {
		out = map[string]any{}
	}
	b, err := cborEnc.Marshal(out)
	if err != nil {
		m.log.Error("encode response", "service", s.Name, "op", opName, "err", err)
		writeCBORError(w, reqID, s.QueryCompatible, asError(err))
		return
	}
	w.Header().Set("Content-Type", "application/cbor")
	w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
	w.Header().Set("X-Amzn-RequestId", reqID)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b) // the client went away; nothing to do
}

func writeCBORError(w http.ResponseWriter, reqID string, queryCompatible bool, e *Error) {
	b, _ := cborEnc.Marshal(e.body(errorType(e, queryCompatible)))
	w.Header().Set("Content-Type", "application/cbor")
	w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
	w.Header().Set("X-Amzn-RequestId", reqID)
	if queryCompatible {
		w.Header().Set("X-Amzn-Query-Error", e.Code+";"+string(e.fault()))
	}
	w.WriteHeader(e.HTTPStatus())
	_, _ = w.Write(b) // the client went away; nothing to do
}

func (m *Mux) serveQuery(w http.ResponseWriter, r *http.Request, reqID string) (svc, op string) {
	params, perr := queryParams(r)
	if perr != nil {
		writeQueryError(w, reqID, "", asError(perr))
		return "", ""
	}
	action := params.Get("Action")
	s := m.queryService(r, params)
	ns := ""
	if s != nil {
		ns = s.XMLNamespace
		svc = s.SigningName
	}
	if action == "" {
		writeQueryError(w, reqID, ns, Errorf(CodeMissingAction, "Missing Action"))
		return svc, ""
	}
	if s == nil {
		writeQueryError(w, reqID, ns, InvalidAction(action))
		return "", action
	}
	qop, ok := s.Ops[action]
	if !ok {
		writeQueryError(w, reqID, ns, InvalidAction(action))
		return svc, action
	}
	out, err := m.call(r.Context(), svc, action, func(ctx context.Context) (any, error) { return qop(ctx, params) })
	if err != nil {
		var qv *QueryValueError
		if errors.As(err, &qv) {
			err = Errorf(s.ValidationCode, "1 validation error detected: %s", qv.Error())
		}
		writeQueryError(w, reqID, ns, asError(err))
		return svc, action
	}
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	fmt.Fprintf(&buf, `<%sResponse xmlns="%s">`, action, s.XMLNamespace)
	enc := xml.NewEncoder(&buf)
	result := xml.StartElement{Name: xml.Name{Local: action + "Result"}}
	if out == nil {
		out = struct{}{}
	}
	if err := enc.EncodeElement(out, result); err != nil {
		m.log.Error("encode response", "service", svc, "op", action, "err", err)
		writeQueryError(w, reqID, ns, asError(err))
		return svc, action
	}
	fmt.Fprintf(&buf, `<ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></%sResponse>`, reqID, action)
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("X-Amzn-RequestId", reqID)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes()) // the client went away; nothing to do
	return svc, action
}

func queryParams(r *http.Request) (url.Values, error) {
	params := r.URL.Query()
	if r.Method == http.MethodPost {
		body, err := readBody(r)
		if err != nil {
			return nil, err
		}
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, Errorf("MalformedQueryString", "The query string is malformed: %v", err)
		}
		for k, v := range form {
			params[k] = append(params[k], v...)
		}
	}
	return params, nil
}

// queryService picks the service by Version, then by the SigV4 credential
// scope's service name.
func (m *Mux) queryService(r *http.Request, params url.Values) *QueryService {
	if v := params.Get("Version"); v != "" {
		for _, s := range m.query {
			if s.Version == v {
				return s
			}
		}
	}
	if name := signingName(r); name != "" {
		for _, s := range m.query {
			if s.SigningName == name {
				return s
			}
		}
	}
	return nil
}

// signingName reads the service from "Credential=AKID/date/region/service/aws4_request".
func signingName(r *http.Request) string {
	auth := r.Header.Get("Authorization")
	_, cred, ok := strings.Cut(auth, "Credential=")
	if !ok {
		return ""
	}
	cred, _, _ = strings.Cut(cred, ",")
	parts := strings.Split(cred, "/")
	if len(parts) < 5 {
		return ""
	}
	return parts[3]
}

func writeQueryError(w http.ResponseWriter, reqID, ns string, e *Error) {
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	if ns != "" {
		fmt.Fprintf(&buf, `<ErrorResponse xmlns="%s">`, ns)
	} else {
		buf.WriteString("<ErrorResponse>")
	}
	buf.WriteString("<Error><Type>")
	_ = xml.EscapeText(&buf, []byte(e.fault()))
	buf.WriteString("</Type><Code>")
	_ = xml.EscapeText(&buf, []byte(e.Code))
	buf.WriteString("</Code><Message>")
	_ = xml.EscapeText(&buf, []byte(e.Message))
	buf.WriteString("</Message></Error><RequestId>")
	buf.WriteString(reqID)
	buf.WriteString("</RequestId></ErrorResponse>")
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("X-Amzn-RequestId", reqID)
	w.WriteHeader(e.HTTPStatus())
	_, _ = w.Write(buf.Bytes()) // the client went away; nothing to do
}

// DecodeJSON decodes a JSON request body into v, answering a malformed body
// or a member of the wrong type with SerializationException, as AWS does.
func DecodeJSON(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	if err := json.Unmarshal(body, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return Serialization("Unexpected value for member %s: %s where %s was expected", te.Field, te.Value, te.Type)
		}
		return Serialization("Could not parse request body into json: %v", err)
	}
	return nil
}

var (
	cborEnc = mustEncMode()
	cborDec = mustDecMode()
)

func mustEncMode() cbor.EncMode {
	// time.Time members (none should reach here; outputs use Timestamp) are
	// still written as rpcv2Cbor wants them: tag 1, epoch seconds.
	em, err := cbor.EncOptions{Time: cbor.TimeUnixDynamic, TimeTag: cbor.EncTagRequired}.EncMode()
	if err != nil {
		panic(err)
	}
	return em
}

func mustDecMode() cbor.DecMode {
	dm, err := cbor.DecOptions{}.DecMode()
	if err != nil {
		panic(err)
	}
	return dm
}

// DecodeCBOR decodes an rpcv2Cbor request body into v (nothing to decode for
// an empty body), answering a malformed one with SerializationException.
func DecodeCBOR(body []byte, v any) error {
	if len(body) == 0 {
		return nil
	}
	if err := cborDec.Unmarshal(body, v); err != nil {
		return Serialization("Could not parse request body into cbor: %v", err)
	}
	return nil
}

func newRequestID() string {
	var b [16]byte
	rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
