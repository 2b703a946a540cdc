package awsproto

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/fxamacker/cbor/v2"
)

// Timestamp is a time in each protocol's own encoding: epoch seconds (a
// number with a fraction) in JSON, tag 1 epoch seconds in CBOR, ISO 8601 in
// query requests and XML. Use it in the input and output types backends hand
// to the protocol layer.
type Timestamp struct{ time.Time }

// NewTimestamp wraps t.
func NewTimestamp(t time.Time) Timestamp { return Timestamp{t} }

// TimestampPtr wraps t, or returns nil for the zero time (an unset member).
func TimestampPtr(t time.Time) *Timestamp {
	if t.IsZero() {
		return nil
	}
	return &Timestamp{t}
}

func epochSeconds(t time.Time) float64 {
	return float64(t.UnixMilli()) / 1e3
}

func fromEpoch(f float64) time.Time {
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(math.Round(frac*1e3))*int64(time.Millisecond)).UTC()
}

// MarshalJSON writes epoch seconds.
func (t Timestamp) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, epochSeconds(t.Time), 'f', -1, 64), nil
}

// UnmarshalJSON reads epoch seconds, or an RFC 3339 string as some clients send.
func (t *Timestamp) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		v, err := ParseTime(s)
		if err != nil {
			return err
		}
		t.Time = v
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("parse timestamp %s: %w", b, err)
	}
	t.Time = fromEpoch(f)
	return nil
}

// MarshalCBOR writes tag 1 with float epoch seconds, as rpcv2Cbor requires.
func (t Timestamp) MarshalCBOR() ([]byte, error) {
	return cbor.Marshal(cbor.Tag{Number: 1, Content: epochSeconds(t.Time)})
}

// UnmarshalCBOR reads tag 1 epoch seconds, integer or float.
func (t *Timestamp) UnmarshalCBOR(b []byte) error {
	var tag cbor.Tag
	if err := cbor.Unmarshal(b, &tag); err != nil {
		return fmt.Errorf("decode timestamp: %w", err)
	}
	if tag.Number != 1 {
		return fmt.Errorf("decode timestamp: tag %d, want 1", tag.Number)
	}
	switch v := tag.Content.(type) {
	case uint64:
		t.Time = time.Unix(int64(v), 0).UTC()
	case int64:
		t.Time = time.Unix(v, 0).UTC()
	case float64:
		t.Time = fromEpoch(v)
	default:
		return fmt.Errorf("decode timestamp: content %T, want a number", v)
	}
	return nil
}

const isoLayout = "2006-01-02T15:04:05.000Z"

// MarshalXML writes ISO 8601 with milliseconds in UTC.
func (t Timestamp) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	return e.EncodeElement(t.UTC().Format(isoLayout), start)
}

// ParseTime reads the timestamp forms query clients send: ISO 8601 with or
// without fraction or offset, or epoch seconds.
func ParseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z0700", "2006-01-02T15:04:05", "2006-01-02"} {
		if v, err := time.Parse(layout, s); err == nil {
			return v.UTC(), nil
		}
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return fromEpoch(f), nil
	}
	return time.Time{}, fmt.Errorf("parse timestamp %q: want ISO 8601 or epoch seconds", s)
}
