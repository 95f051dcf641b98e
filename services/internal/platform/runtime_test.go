package platform

import (
	"os"
	"path/filepath"
	"runtime/debug"
	"testing"
)

func TestTuneRuntimeFollowsTheContainerUnlessTold(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	dir := t.TempDir()
	limitFile := filepath.Join(dir, "memory.max")
	saved := cgroupMemoryMax
	defer func() { cgroupMemoryMax = saved }()
	cgroupMemoryMax = []string{limitFile}

	tests := []struct {
		name       string
		limit      string // contents of memory.max; "" for no file
		env        map[string]string
		wantGOGC   int
		wantMemory int64
	}{
		{name: "a 128 MiB container", limit: "134217728\n", wantGOGC: gcPercent, wantMemory: 120795955},
		{name: "no limit", limit: "max\n", wantGOGC: gcPercent, wantMemory: -1},
		{name: "no cgroup file", wantGOGC: gcPercent, wantMemory: -1},
		{name: "GOGC and GOMEMLIMIT set", limit: "134217728\n", env: map[string]string{"GOGC": "50", "GOMEMLIMIT": "64MiB"}, wantGOGC: -1, wantMemory: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			os.Remove(limitFile)
			if tt.limit != "" {
				if err := os.WriteFile(limitFile, []byte(tt.limit), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			gogc, memory := TuneRuntime(func(k string) string { return tt.env[k] })
			if gogc != tt.wantGOGC || memory != tt.wantMemory {
				t.Fatalf("got GOGC %d, memory limit %d; want %d, %d", gogc, memory, tt.wantGOGC, tt.wantMemory)
			}
		})
	}
}
