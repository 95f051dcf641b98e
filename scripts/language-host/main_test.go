package main

import (
	"reflect"
	"testing"
)

func TestHostFlags(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		want    []string
		wantErr bool
	}{
		{"the project's options", "name: p\nruntime:\n  name: nodejs\n  options:\n    typescript: false\n    nodeargs: \"--import tsx\"\nmain: index.ts\n", []string{"-typescript=false", "-nodeargs=--import tsx"}, false},
		{"a tsconfig", "runtime:\n  name: nodejs\n  options:\n    tsconfig: tsconfig.build.json\n", []string{"-tsconfig=tsconfig.build.json"}, false},
		{"a runtime by name alone", "name: p\nruntime: nodejs\n", nil, false},
		{"no options", "runtime:\n  name: nodejs\n", nil, false},
		{"not YAML", "runtime: [\n", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := hostFlags([]byte(tt.file))
			if (err != nil) != tt.wantErr {
				t.Fatalf("hostFlags() error = %v, wantErr %v", err, tt.wantErr)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("hostFlags() = %q, want %q", got, tt.want)
			}
		})
	}
}
