package state

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

type doc struct {
	Name  string
	Items []int
}

func TestRoundTrip(t *testing.T) {
	s := Store{Dir: filepath.Join(t.TempDir(), "nested")}
	var got doc
	ok, err := s.Load("ecs", &got)
	if err != nil || ok {
		t.Fatalf("Load(missing) = %v, %v, want false, nil", ok, err)
	}
	want := doc{Name: "a", Items: []int{1, 2}}
	if err := s.Save("ecs", want); err != nil {
		t.Fatalf("Save: %v", err)
	}
	if err := s.Save("ecs", doc{Name: "b"}); err != nil {
		t.Fatalf("Save again: %v", err)
	}
	want = doc{Name: "b"}
	ok, err = s.Load("ecs", &got)
	if err != nil || !ok {
		t.Fatalf("Load = %v, %v, want true, nil", ok, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Load = %+v, want %+v", got, want)
	}
	entries, err := os.ReadDir(s.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "ecs.json" {
		t.Errorf("state dir holds %v, want only ecs.json (no temp files left)", entries)
	}
}

func TestErrors(t *testing.T) {
	dir := t.TempDir()
	s := Store{Dir: dir}
	if err := os.WriteFile(filepath.Join(dir, "bad.json"), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	var d doc
	if _, err := s.Load("bad", &d); err == nil {
		t.Error("Load(corrupt) = nil error, want one")
	}
	for _, name := range []string{"", "../x", "a/b", ".."} {
		if err := s.Save(name, d); err == nil {
			t.Errorf("Save(%q) = nil error, want one", name)
		}
	}
}

func TestEmptyDirKeepsNothing(t *testing.T) {
	var s Store
	if err := s.Save("x", doc{Name: "a"}); err != nil {
		t.Fatalf("Save = %v, want nil", err)
	}
	var d doc
	if ok, err := s.Load("x", &d); ok || err != nil {
		t.Errorf("Load = %v, %v, want false, nil", ok, err)
	}
}

func TestDelete(t *testing.T) {
	s := Store{Dir: t.TempDir()}
	if err := s.Save("s3-bucket-a", doc{Name: "a"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete("s3-bucket-a"); err != nil {
		t.Fatalf("Delete = %v", err)
	}
	if ok, err := s.Load("s3-bucket-a", new(doc)); ok || err != nil {
		t.Errorf("Load after Delete = %v, %v, want false, nil", ok, err)
	}
	entries, err := os.ReadDir(s.Dir)
	if err != nil || len(entries) != 0 {
		t.Errorf("state dir after Delete = %v, %v, want empty", entries, err)
	}
	if err := s.Delete("s3-bucket-a"); err != nil {
		t.Errorf("Delete of a missing document = %v, want nil", err)
	}
	if err := s.Delete("../x"); err == nil {
		t.Error("Delete(../x) = nil, want an error")
	}
}
