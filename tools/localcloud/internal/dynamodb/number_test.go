package dynamodb

import "testing"

func TestDecimal(t *testing.T) {
	tests := []struct {
		in, want, msg string
	}{
		{"1.50", "1.5", ""},
		{"-0.0", "0", ""},
		{"0001", "1", ""},
		{".5", "0.5", ""},
		{"1e3", "1000", ""},
		{"1.5E-3", "0.0015", ""},
		{"-12345678901234567890123456789012345678", "-12345678901234567890123456789012345678", ""},
		{"123456789012345678901234567890123456789", "", msgPrecision},
		{"1e126", "", msgOverflow},
		{"9.99e125", "999" + zeros(123), ""},
		{"1e-131", "", msgUnderflow},
		{"", "", msgNotNumeric},
		{"1.2.3", "", msgNotNumeric + ": 1.2.3"},
		{"e5", "", msgNotNumeric + ": e5"},
	}
	for _, tt := range tests {
		got, msg := canonicalNumber(tt.in)
		if got != tt.want || msg != tt.msg {
			t.Errorf("canonicalNumber(%q) = %q, %q; want %q, %q", tt.in, got, msg, tt.want, tt.msg)
		}
	}
	if compareNumbers("10", "9") <= 0 || compareNumbers("-1", "0.5") >= 0 || compareNumbers("1.0", "1") != 0 {
		t.Error("compareNumbers does not compare by value")
	}
	if v, _ := addNumbers("0.1", "0.2", false); v.S != "0.3" {
		t.Errorf("0.1 + 0.2 = %s, want 0.3", v.S)
	}
	if v, _ := addNumbers("1", "1.000000000000000000000000000000000001", true); v.S != "-0.000000000000000000000000000000000001" {
		t.Errorf("1 - 1.000…001 = %s", v.S)
	}
}

func zeros(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = '0'
	}
	return string(b)
}
