package tokencache

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestTimeoutExpires: an entry lives as long as the ttl it was put with,
// and no longer. The kernel shows a key's remaining time in /proc/keys, so
// the test reads the timeout Put set instead of waiting it out; only where
// /proc/keys is not readable does it wait for the shortest timeout the
// kernel knows, one second, to pass.
func TestTimeoutExpires(t *testing.T) {
	c := Kernel{}
	key := uniqueKey(t)
	const ttl = 50 * time.Second
	c.Put(key, &Entry{AccessToken: "x", Expiry: time.Now().Add(time.Hour)}, ttl)
	if _, ok := c.Get(key); !ok {
		t.Skip("the kernel keyring is not usable here")
	}
	id, _ := c.find(key)
	if left, ok := remainingTime(id); ok {
		// The column counts whole seconds down from the timeout.
		secs, err := strconv.Atoi(strings.TrimSuffix(left, "s"))
		if !strings.HasSuffix(left, "s") || err != nil || secs > int(ttl/time.Second) || secs < int(ttl/time.Second)-10 {
			t.Fatalf("the key expires in %q, want about %v", left, ttl)
		}
		return
	}
	t.Log("/proc/keys does not show the key: waiting for a one-second timeout instead")
	c.Put(key, &Entry{AccessToken: "x", Expiry: time.Now().Add(time.Hour)}, time.Second)
	time.Sleep(1500 * time.Millisecond) // the kernel's clock is what is tested here
	if _, ok := c.Get(key); ok {
		t.Fatal("entry outlived its timeout")
	}
}

// remainingTime is the timeout column of key id in /proc/keys: "perm",
// "expd", or the time left such as "49s" or "2m".
func remainingTime(id int) (string, bool) {
	data, err := os.ReadFile("/proc/keys")
	if err != nil {
		return "", false
	}
	want := fmt.Sprintf("%08x", id)
	for line := range strings.SplitSeq(string(data), "\n") {
		if f := strings.Fields(line); len(f) > 3 && f[0] == want {
			return f[3], true
		}
	}
	return "", false
}
