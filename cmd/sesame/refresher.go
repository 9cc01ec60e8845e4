package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sesame-auth/sesame/internal/filelock"
	"github.com/sesame-auth/sesame/internal/profile"
	"github.com/sesame-auth/sesame/internal/session"
	"github.com/sesame-auth/sesame/keychain"
)

// A refresh that is on the wire must be finished, whatever happens to the
// caller (issue 12): kubectl and IDEs kill credential plugins, Ctrl-C
// kills a whole process group, `timeout` and service managers send
// SIGTERM. So once a helper holding the profile lock has decided to
// refresh, it hands the lock to a short-lived child, `sesame __refresh`,
// started in a session of its own (setsid: no terminal signals, outside
// the caller's process group) and deaf to SIGINT, SIGTERM, SIGHUP and
// SIGPIPE. The child re-reads the grant, refreshes it, stores the answer
// and reports on a pipe; the caller waits for that report, or, if it is
// cancelled, returns at once and leaves the child to finish. The lock is
// the same open file in both processes, so it stays held until the child
// is done even if the caller is killed.
//
// Why a child rather than a daemon or a goroutine: a goroutine dies with a
// killed caller; a daemon would be a long-lived process holding grants.
// The child lives only as long as one refresh (bounded by
// session.RefreshTimeout, twice at most), and only the death of the child
// itself, the very process holding the unread answer, can still lose it.
//
// Nothing secret crosses the pipe: the child reports an outcome, and the
// caller reads the stored grant from the keychain.

// refresherCommand is the hidden command the child runs.
const refresherCommand = "__refresh"

// Inherited files of the child: the report pipe and the held lock.
const (
	refresherReportFD = 3
	refresherLockFD   = 4
)

// refreshReport is the child's one line on the report pipe.
type refreshReport struct {
	Refreshed bool   `json:"refreshed,omitempty"`
	Kind      string `json:"kind,omitempty"`
	Message   string `json:"message,omitempty"`
	// Reason is a login-required error's reason.
	Reason string `json:"reason,omitempty"`
}

// Error kinds a report carries, so the caller maps them to the same exit
// codes and hints as its own errors.
const (
	kindLoginRequired = "login_required"
	kindUnavailable   = "keychain_unavailable"
	kindLocked        = "keychain_locked"
	kindInsecure      = "store_insecure"
	kindCertificate   = "certificate"
	kindError         = "error"
)

// childFinisher is the session.Finisher of a real process.
type childFinisher struct {
	a   *app
	p   *profile.Profile
	req session.TokenRequest
}

// finisher returns the finisher for p's refreshes: a child process where
// the platform can hand it the lock, else the in-process one.
func (a *app) finisher(p *profile.Profile, req session.TokenRequest) session.Finisher {
	if !a.env.DetachRefresh {
		return nil
	}
	return &childFinisher{a: a, p: p, req: req}
}

// Finish starts the child, hands it the lock and waits for its report.
func (f *childFinisher) Finish(ctx context.Context, s *session.Grant, held session.Held, rec *keychain.Record) (*session.Result, error) {
	lf, ok := held.(interface {
		File() *os.File
		HandOff()
	})
	if !ok || lf.File() == nil {
		return session.FinishInProcess(ctx, s, rec)
	}
	exe, err := os.Executable()
	if err != nil {
		return session.FinishInProcess(ctx, s, rec)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return session.FinishInProcess(ctx, s, rec)
	}
	defer func() { _ = r.Close() }()
	args := []string{refresherCommand, "-p", f.p.Name, "--min-ttl", s.MinTTL.String()}
	if s.Resource != "" {
		args = append(args, "--resource", s.Resource)
	}
	if f.req.IDToken {
		args = append(args, "--id-token")
	}
	if f.a.debug {
		args = append(args, "--debug")
	}
	if f.a.debugFile != "" {
		args = append(args, "--debug-file", f.a.debugFile)
	}
	cmd, err := startDetached(exe, args, f.a.env.Stderr, w, lf.File())
	_ = w.Close()
	if err != nil {
		f.a.log.Printf("refresh: cannot start the refresher (%v); refreshing in this process", err)
		return session.FinishInProcess(ctx, s, rec)
	}
	// From now on the lock is the child's: this process may return, be
	// cancelled or die, and the lock lasts until the child is done.
	lf.HandOff()
	f.a.log.Printf("refresh: profile %q: refresher %d started", f.p.Name, cmd.Process.Pid)
	reports := make(chan refreshReport, 1)
	go func() {
		rep := readReport(r)
		// The child exits right after its report: reap it before the
		// report is taken, so it never lingers as a zombie whose argv and
		// environment read as empty.
		_ = cmd.Wait()
		reports <- rep
	}()
	var rep refreshReport
	select {
	case rep = <-reports:
	case <-ctx.Done():
		return nil, &session.CancelledError{Detached: true}
	}
	if rep.Kind != "" {
		return nil, rep.err()
	}
	rec, err = s.Stored(ctx)
	if err != nil {
		return nil, err
	}
	return &session.Result{Record: rec, Refreshed: rep.Refreshed}, nil
}

// readReport reads the child's report; a child that died first reports
// nothing.
func readReport(r io.Reader) refreshReport {
	line, err := bufio.NewReader(io.LimitReader(r, 64<<10)).ReadBytes('\n')
	var rep refreshReport
	if (err != nil && !errors.Is(err, io.EOF)) || json.Unmarshal(line, &rep) != nil {
		return refreshReport{Kind: kindError, Message: "the refresher process ended without a report (was it killed?); the stored grant is kept, and the next call will find out whether the server rotated it"}
	}
	return rep
}

// err is the report as an error of the kind the child saw.
func (rep refreshReport) err() error {
	switch rep.Kind {
	case kindLoginRequired:
		return &session.LoginRequiredError{Reason: rep.Reason}
	case kindUnavailable:
		return fmt.Errorf("%s%w", strings.TrimSuffix(rep.Message, keychain.ErrUnavailable.Error()), keychain.ErrUnavailable)
	case kindLocked:
		return fmt.Errorf("%s%w", strings.TrimSuffix(rep.Message, keychain.ErrLocked.Error()), keychain.ErrLocked)
	case kindInsecure:
		return fmt.Errorf("%s%w", strings.TrimSuffix(rep.Message, keychain.ErrInsecure.Error()), keychain.ErrInsecure)
	case kindCertificate:
		return withHint(errors.New(rep.Message), certificateHint)
	default:
		return errors.New(rep.Message)
	}
}

// reportOf is the report of the child's result.
func reportOf(res *session.Result, err error) refreshReport {
	var lr *session.LoginRequiredError
	switch {
	case err == nil:
		return refreshReport{Refreshed: res.Refreshed}
	case errors.As(err, &lr):
		return refreshReport{Kind: kindLoginRequired, Reason: lr.Reason, Message: err.Error()}
	case errors.Is(err, keychain.ErrUnavailable):
		return refreshReport{Kind: kindUnavailable, Message: err.Error()}
	case errors.Is(err, keychain.ErrLocked):
		return refreshReport{Kind: kindLocked, Message: err.Error()}
	case errors.Is(err, keychain.ErrInsecure):
		return refreshReport{Kind: kindInsecure, Message: err.Error()}
	case isCertificateError(err):
		return refreshReport{Kind: kindCertificate, Message: err.Error()}
	default:
		return refreshReport{Kind: kindError, Message: err.Error()}
	}
}

// newRefresherCmd is the child's side: it adopts the lock, refreshes the
// grant in the state the caller asked for, and writes its report. It is
// hidden: only sesame starts it.
func newRefresherCmd(a *app) *cobra.Command {
	var minTTL time.Duration
	cmd := &cobra.Command{
		Use:    refresherCommand,
		Hidden: true,
		Args:   noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			report, lockFile, err := inheritedFiles()
			if err != nil {
				return usageErrorf("%s is started by sesame itself, with a held lock (%v)", refresherCommand, err)
			}
			defer func() { _ = report.Close() }()
			rep := runRefresher(a, lockFile, minTTL)
			line, _ := json.Marshal(rep)
			// The caller may be gone: the write may fail, the grant is stored.
			_, _ = report.Write(append(line, '\n'))
			return nil
		},
	}
	cmd.Flags().DurationVar(&minTTL, "min-ttl", 0, "")
	cmd.Flags().StringVar(&a.resource, "resource", "", "")
	cmd.Flags().BoolVar(&a.idToken, "id-token", false, "")
	return cmd
}

// runRefresher is the child's work: a refresh that no signal of the
// caller's interrupts (main ignores them for this command) and that ends
// by its own bounds.
func runRefresher(a *app, lockFile *os.File, minTTL time.Duration) refreshReport {
	_, p, err := a.requireProfile()
	if err != nil {
		return reportOf(nil, err)
	}
	// The inherited file must be this grant's lock file, held.
	dir, err := filelock.Dir(a.env.Getenv)
	if err != nil {
		return reportOf(nil, err)
	}
	want, err := os.Stat(filelock.Path(dir, p.KeychainKey()))
	got, gerr := lockFile.Stat()
	if err != nil || gerr != nil || !os.SameFile(want, got) {
		return reportOf(nil, errors.New("the inherited lock is not this profile's"))
	}
	lock, err := filelock.Adopt(lockFile)
	if err != nil {
		return reportOf(nil, err)
	}
	defer lock.Release()
	src, err := a.grantOf(p)
	if err != nil {
		return reportOf(nil, err)
	}
	src.MinTTL = minTTL
	src.Lock, src.Finish = nil, nil
	res, err := src.RefreshLocked(context.Background())
	if err == nil && res.Refreshed {
		a.log.Printf("refresh: profile %q: refreshed; the rotated grant is stored", p.Name)
	}
	return reportOf(res, err)
}
