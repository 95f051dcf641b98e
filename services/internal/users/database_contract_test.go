package users

import (
	"encoding/json"
	"os"
	"testing"
)

// TestDatabaseContract holds the variables users reads to the ones the stack's databases feature
// sets (components/data/database.json), so a rename on either side fails here, not in a pod.
func TestDatabaseContract(t *testing.T) {
	data, err := os.ReadFile("../../../components/data/database.json")
	if err != nil {
		t.Fatal(err)
	}
	var contract struct {
		Variables struct {
			URL      string `json:"url"`
			PoolSize string `json:"poolSize"`
		} `json:"variables"`
	}
	if err := json.Unmarshal(data, &contract); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ stack, service string }{
		{contract.Variables.URL, DatabaseURLVariable},
		{contract.Variables.PoolSize, DatabasePoolSizeVariable},
	} {
		if tc.stack != tc.service {
			t.Errorf("the stack sets %q where users reads %q", tc.stack, tc.service)
		}
	}
}

func TestPoolSize(t *testing.T) {
	for _, tc := range []struct {
		value   string
		want    int
		wantErr bool
	}{
		{"", 64, false},
		{"8", 8, false},
		{"65536", 65536, false},
		{"0", 0, true},
		{"-3", 0, true},
		{"ten", 0, true},
		{"65537", 0, true},
	} {
		got, err := PoolSize(func(string) string { return tc.value }, 64)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("PoolSize(%q) = %d, %v; want %d, error %v", tc.value, got, err, tc.want, tc.wantErr)
		}
	}
}
