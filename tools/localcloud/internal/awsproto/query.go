package awsproto

import (
	"fmt"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// DecodeQuery fills the struct v points to from awsQuery parameters, the way
// query clients flatten a request:
//
//	Name=web                           string, numbers, bools
//	Attributes.member.1.Key=k          lists and structs (1-based)
//	Tags.entry.1.key=k, ...value=v     maps
//
// A member's wire name is its `query:"Name"` tag or else its Go field name.
// Timestamps (Timestamp, time.Time) are ISO 8601. An empty list is sent as
// "Name=" and decodes to an empty, non-nil slice. A value of the wrong type is
// a *QueryValueError, which the Mux answers with the service's
// validation code.
func DecodeQuery(params url.Values, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("decode query into %T: want a pointer to a struct", v)
	}
	d := queryDecoder{params: params}
	return d.structFields("", rv.Elem())
}

// QueryValueError is a query parameter whose value does not fit its member.
type QueryValueError struct {
	Param, Value, Want string
}

func (e *QueryValueError) Error() string {
	return fmt.Sprintf("Value '%s' at '%s' failed to satisfy constraint: Member must be %s", e.Value, e.Param, e.Want)
}

type queryDecoder struct{ params url.Values }

var (
	timestampType = reflect.TypeFor[Timestamp]()
	timeType      = reflect.TypeFor[time.Time]()
)

func (d queryDecoder) has(key string) bool {
	_, ok := d.params[key]
	return ok
}

func (d queryDecoder) hasPrefix(prefix string) bool {
	for k := range d.params {
		if strings.HasPrefix(k, prefix) {
			return true
		}
	}
	return false
}

func (d queryDecoder) structFields(prefix string, rv reflect.Value) error {
	rt := rv.Type()
	for i := range rt.NumField() {
		f := rt.Field(i)
		if !f.IsExported() {
			continue
		}
		name := f.Name
		if tag, ok := f.Tag.Lookup("query"); ok {
			if tag == "-" {
				continue
			}
			name = tag
		}
		if err := d.value(prefix+name, rv.Field(i)); err != nil {
			return err
		}
	}
	return nil
}

// present reports whether anything was sent for key.
func (d queryDecoder) present(key string, t reflect.Type) bool {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == timestampType || t == timeType:
		return d.has(key)
	case t.Kind() == reflect.Struct || t.Kind() == reflect.Map:
		return d.hasPrefix(key + ".")
	case t.Kind() == reflect.Slice:
		return d.has(key) || d.hasPrefix(key+".")
	default:
		return d.has(key)
	}
}

func (d queryDecoder) value(key string, rv reflect.Value) error {
	if !d.present(key, rv.Type()) {
		return nil
	}
	if rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			rv.Set(reflect.New(rv.Type().Elem()))
		}
		return d.value(key, rv.Elem())
	}
	switch {
	case rv.Type() == timestampType:
		t, err := ParseTime(d.params.Get(key))
		if err != nil {
			return &QueryValueError{key, d.params.Get(key), "a timestamp"}
		}
		rv.Set(reflect.ValueOf(Timestamp{t}))
		return nil
	case rv.Type() == timeType:
		t, err := ParseTime(d.params.Get(key))
		if err != nil {
			return &QueryValueError{key, d.params.Get(key), "a timestamp"}
		}
		rv.Set(reflect.ValueOf(t))
		return nil
	}
	raw := d.params.Get(key)
	switch rv.Kind() {
	case reflect.String:
		rv.SetString(raw)
	case reflect.Bool:
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return &QueryValueError{key, raw, "a boolean"}
		}
		rv.SetBool(b)
	case reflect.Int, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(raw, 10, rv.Type().Bits())
		if err != nil {
			return &QueryValueError{key, raw, "an integer"}
		}
		rv.SetInt(n)
	case reflect.Float32, reflect.Float64:
		f, err := strconv.ParseFloat(raw, rv.Type().Bits())
		if err != nil {
			return &QueryValueError{key, raw, "a number"}
		}
		rv.SetFloat(f)
	case reflect.Struct:
		return d.structFields(key+".", rv)
	case reflect.Slice:
		s := reflect.MakeSlice(rv.Type(), 0, 0)
		for n := 1; ; n++ {
			k := key + ".member." + strconv.Itoa(n)
			if !d.present(k, rv.Type().Elem()) {
				break
			}
			e := reflect.New(rv.Type().Elem()).Elem()
			if err := d.value(k, e); err != nil {
				return err
			}
			s = reflect.Append(s, e)
		}
		rv.Set(s)
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			return fmt.Errorf("decode query %s: map keys must be strings", key)
		}
		m := reflect.MakeMap(rv.Type())
		for n := 1; ; n++ {
			k := key + ".entry." + strconv.Itoa(n)
			if !d.has(k + ".key") {
				break
			}
			e := reflect.New(rv.Type().Elem()).Elem()
			if err := d.value(k+".value", e); err != nil {
				return err
			}
			m.SetMapIndex(reflect.ValueOf(d.params.Get(k+".key")).Convert(rv.Type().Key()), e)
		}
		rv.Set(m)
	default:
		return fmt.Errorf("decode query %s: unsupported kind %s", key, rv.Kind())
	}
	return nil
}
