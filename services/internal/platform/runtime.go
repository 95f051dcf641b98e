package platform

import (
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// gcPercent is the GC target when GOGC is unset: a collection when the heap has grown to five
// times what the last one left live, where Go's 100 means twice. A service's live heap is a few
// MiB while it allocates tens of MiB a second under load, so at 100 it collects dozens of times a
// second, each time scanning every goroutine's stack and shrinking the idle ones (users' workers
// then grow theirs again). Measured on the gateway and users under load (bench/services,
// alternating rounds): 200 -> 400 cut both processes' CPU per request by 1-2 us each and raised
// the gateway's req/s against the bare reference by 0.02-0.07 in three of four runs (the fourth
// within noise); peak RSS under load 25 -> 33 MB each (800: 49 MB). The memory limit below still
// bounds the heap inside the container.
const gcPercent = 400

// memoryLimitShare is the part of the container's memory limit the Go heap may grow to before
// the GC works harder, leaving the rest to stacks, buffers and the runtime.
const memoryLimitShare = 0.9

// cgroupMemoryMax is where the container's memory limit is read (cgroup v2, then v1).
var cgroupMemoryMax = []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}

// TuneRuntime sets the GC from the container's limits unless GOGC or GOMEMLIMIT say otherwise:
// a GC target of gcPercent, and a soft memory limit of memoryLimitShare of the cgroup's limit.
// GOMAXPROCS needs nothing: Go follows the container's CPU limit itself. It returns what it set.
func TuneRuntime(getenv func(string) string) (gogc int, memoryLimit int64) {
	gogc, memoryLimit = -1, -1
	if getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
		gogc = gcPercent
	}
	if getenv("GOMEMLIMIT") == "" {
		if limit, ok := containerMemoryLimit(); ok {
			memoryLimit = int64(float64(limit) * memoryLimitShare)
			debug.SetMemoryLimit(memoryLimit)
		}
	}
	return gogc, memoryLimit
}

// containerMemoryLimit is the cgroup's memory limit in bytes, when there is one.
func containerMemoryLimit() (int64, bool) {
	for _, file := range cgroupMemoryMax {
		data, err := os.ReadFile(file)
		if err != nil {
			continue
		}
		text := strings.TrimSpace(string(data))
		limit, err := strconv.ParseInt(text, 10, 64)
		// "max" (v2) or a page-rounded huge number (v1) mean no limit.
		if err != nil || limit <= 0 || limit >= 1<<60 {
			return 0, false
		}
		return limit, true
	}
	return 0, false
}
