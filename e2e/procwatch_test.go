package e2e

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// procWatch polls /proc and records the command line and environment of
// every process descending from the test process: sesame, the browser
// launcher it starts (in a session of its own, so re-parented once sesame
// exits: a process stays watched once it was seen as a descendant), the
// browser's own children, git, ... Requirement 34: no secret may travel in
// argv or the environment.
type procWatch struct {
	t        testing.TB
	interval time.Duration
	stop     chan struct{}
	done     chan struct{}

	mu    sync.Mutex
	procs map[procKey]*procSeen
	polls int
}

// procKey tells a process from a later one that reuses its pid.
type procKey struct {
	pid   int
	start uint64 // starttime, field 22 of /proc/PID/stat
}

// procSeen is everything seen of one process over its life (argv and
// environment can change across an exec, so every distinct value is kept).
type procSeen struct {
	key      procKey
	ppid     int
	exe      string
	samples  int
	cmdlines map[string]bool
	environs map[string]bool
	// unreadable counts samples whose environ could not be read while the
	// process was still there (chromium makes itself non-dumpable, which
	// hides its environ after its first moments; the environment a process
	// started with does not change, so one good read is enough).
	unreadable int
	// exeSamples counts samples per executable: a process is first seen
	// between fork and exec, as a copy of its parent.
	exeSamples map[string]int
	// coreLimit is the "Max core file size" of /proc/PID/limits ("soft hard
	// units") at the last sample.
	coreLimit string
	alive     bool
}

// watchProcs starts polling every interval until the test ends or Stop is
// called.
func watchProcs(t testing.TB, interval time.Duration) *procWatch {
	t.Helper()
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skipf("no procfs: %v", err)
	}
	w := &procWatch{t: t, interval: interval, stop: make(chan struct{}), done: make(chan struct{}), procs: map[procKey]*procSeen{}}
	go w.loop()
	t.Cleanup(w.Stop)
	return w
}

func (w *procWatch) loop() {
	defer close(w.done)
	tick := time.NewTicker(w.interval)
	defer tick.Stop()
	for {
		w.poll()
		select {
		case <-w.stop:
			return
		case <-tick.C:
		}
	}
}

// Stop ends the polling after one last sample.
func (w *procWatch) Stop() {
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	<-w.done
}

type procStat struct {
	key  procKey
	ppid int
	// zombie: the process has exited and waits for its parent to reap it;
	// it has no argv, environment or executable left to read.
	zombie bool
}

// readStat parses /proc/PID/stat: the command name is in parentheses and
// may itself hold spaces and parentheses, so fields are counted from the
// last ')'.
func readStat(pid int) (procStat, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, false
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procStat{}, false
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state), so field n is f[n-3].
	if len(f) < 20 {
		return procStat{}, false
	}
	ppid, err1 := strconv.Atoi(f[1])
	start, err2 := strconv.ParseUint(f[19], 10, 64)
	if err1 != nil || err2 != nil {
		return procStat{}, false
	}
	return procStat{key: procKey{pid: pid, start: start}, ppid: ppid, zombie: f[0] == "Z" || f[0] == "X"}, true
}

func (w *procWatch) poll() {
	self := os.Getpid()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return
	}
	stats := make([]procStat, 0, len(entries))
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		if st, ok := readStat(pid); ok {
			stats = append(stats, st)
		}
	}

	w.mu.Lock()
	defer w.mu.Unlock()
	w.polls++
	// Known descendants by pid, for parent look-ups.
	byPid := map[int]procKey{}
	for k := range w.procs {
		if cur, ok := byPid[k.pid]; !ok || k.start > cur.start {
			byPid[k.pid] = k
		}
		w.procs[k].alive = false
	}
	// A process is a descendant when its parent is the test process or a
	// known descendant that started no later than it did. Children may be
	// listed before their parents: repeat until nothing changes.
	var found []procStat
	inFound := map[procKey]bool{}
	for changed := true; changed; {
		changed = false
		for _, st := range stats {
			if inFound[st.key] {
				continue
			}
			_, known := w.procs[st.key]
			parent, parentKnown := byPid[st.ppid]
			if known || st.ppid == self || (parentKnown && parent.start <= st.key.start) {
				found = append(found, st)
				inFound[st.key] = true
				if _, ok := byPid[st.key.pid]; !ok || byPid[st.key.pid].start < st.key.start {
					byPid[st.key.pid] = st.key
				}
				changed = true
			}
		}
	}
	for _, st := range found {
		if st.zombie {
			// Not a sample: a parent slow to reap (a loaded machine)
			// would otherwise make an exited process look unreadable.
			continue
		}
		p := w.procs[st.key]
		if p == nil {
			p = &procSeen{key: st.key, cmdlines: map[string]bool{}, environs: map[string]bool{}, exeSamples: map[string]int{}}
			w.procs[st.key] = p
		}
		dir := "/proc/" + strconv.Itoa(st.key.pid)
		// Re-check the start time after reading, so a sample of a pid
		// reused meanwhile is not attributed to this process.
		cmdline, errC := os.ReadFile(dir + "/cmdline")
		environ, errE := os.ReadFile(dir + "/environ")
		exe, _ := os.Readlink(dir + "/exe")
		limits, _ := os.ReadFile(dir + "/limits")
		if now, ok := readStat(st.key.pid); !ok || now.key != st.key || now.zombie {
			continue
		}
		if exe == "" && len(cmdline) == 0 && errE != nil {
			// Not a sample either: a process whose memory is already
			// gone (it is exiting, not yet a zombie) has no exe, argv or
			// environment left; on a loaded machine the watcher can
			// catch it there many times in a row.
			continue
		}
		p.ppid, p.alive = st.ppid, true
		p.samples++
		if exe != "" {
			p.exe = exe
			p.exeSamples[exe]++
		}
		if errC == nil && len(cmdline) > 0 {
			p.cmdlines[string(cmdline)] = true
		}
		if errE == nil {
			p.environs[string(environ)] = true
		} else {
			p.unreadable++
		}
		for _, l := range strings.Split(string(limits), "\n") {
			if strings.HasPrefix(l, "Max core file size") {
				p.coreLimit = strings.Join(strings.Fields(strings.TrimPrefix(l, "Max core file size")), " ")
			}
		}
	}
}

// Processes returns a snapshot of every descendant seen so far.
func (w *procWatch) Processes() []procSeen {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]procSeen, 0, len(w.procs))
	for _, p := range w.procs {
		out = append(out, *p)
	}
	return out
}

// Polls is how many times /proc was scanned.
func (w *procWatch) Polls() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.polls
}

// WaitQuiet waits until no watched process is alive (the detached browser
// and its chromium included), or the deadline passes; it returns the
// processes still alive.
func (w *procWatch) WaitQuiet(d time.Duration) []string {
	deadline := time.Now().Add(d)
	for {
		var alive []string
		for _, p := range w.Processes() {
			if p.alive {
				alive = append(alive, p.describe())
			}
		}
		if len(alive) == 0 || time.Now().After(deadline) {
			return alive
		}
		time.Sleep(2 * w.interval)
	}
}

// describe names a process without quoting anything that could hold a
// secret: pid, executable and the base name of argv[0] (cut at the first
// NUL or space: chromium rewrites its command line as one string).
func (p procSeen) describe() string {
	exe := p.exe
	if exe == "" {
		exe = "unknown: exited before it could be read"
	}
	var names []string
	for c := range p.cmdlines {
		if i := strings.IndexAny(c, "\x00 "); i >= 0 {
			c = c[:i]
		}
		names = append(names, filepath.Base(c))
	}
	sort.Strings(names)
	return fmt.Sprintf("pid %d (argv[0] %s; exe %s)", p.key.pid, strings.Join(names, ", "), exe)
}
