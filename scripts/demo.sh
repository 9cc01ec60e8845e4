#!/usr/bin/env bash
# demo.sh: build sesame and sign in for real against the bundled test
# authorization server (panva's oidc-provider in e2e/server, on 127.0.0.1 with
# TLS from a throwaway CA), then show status, an access token's length and
# expiry (never the token), log out and show status again.
#
#   make demo                       # or: scripts/demo.sh
#   DEMO_BROWSER=headless make demo # headless Chromium even when a display is there
#   make demo-server                # or: scripts/demo.sh --server-only
#
# --server-only starts only the test server and keeps it running until
# Ctrl-C, printing its issuer, CA file and client id and a `sesame login`
# line to paste in another terminal, to try sesame by hand. DEMO_PORT fixes
# its port (default: any free one).
#
# Browser: with a display (DISPLAY or WAYLAND_DISPLAY) sesame opens your
# browser and you sign in with any name and password (accept the warning about
# the test CA); without one, Debian's chromium (installed if missing) is driven
# by e2e/testbrowser and signs in as "alice". Keychain: your session's Secret
# Service when one is reachable, else the demo re-runs itself inside
# scripts/keyring-session, a private D-Bus session with a throwaway, unlocked
# gnome-keyring.
#
# Everything lives in a temporary directory that is removed at exit; the
# server, the browser and every other process the demo started are stopped.
set -euo pipefail

say() { printf 'demo: %s\n' "$*"; }
die() {
	printf 'demo: error: %s\n' "$1" >&2
	shift
	local hint
	for hint in "$@"; do printf 'demo: hint: %s\n' "$hint" >&2; done
	exit 1
}

now_us() { printf '%s' "${EPOCHREALTIME//[!0-9]/}"; }
elapsed() { # seconds since the demo started, one decimal
	local us=$(($(now_us) - SESAME_DEMO_START_US))
	printf '%d.%d' $((us / 1000000)) $((us % 1000000 / 100000))
}

: "${SESAME_DEMO_START_US:=$(now_us)}"
export SESAME_DEMO_START_US

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
self="$repo/scripts/demo.sh"
go=${GO:-go}
profile=demo
server_only=0
[[ ${1:-} != --server-only ]] || server_only=1

# ---- keychain: decided first, because it may re-run the whole demo ----------

secret_service_reachable() {
	[[ -n ${DBUS_SESSION_BUS_ADDRESS:-} ]] || return 1
	command -v dbus-send >/dev/null || return 1
	timeout 5 dbus-send --session --print-reply --dest=org.freedesktop.DBus / \
		org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null |
		grep -q 'boolean true'
}

if ((server_only)); then # the person's own sesame signs in, with the person's keychain
	keychain=''
elif [[ -n ${SESAME_DEMO_PRIVATE_KEYRING:-} ]]; then
	secret_service_reachable ||
		die "keyring-session started, but no Secret Service answers on its D-Bus session"
	keychain="a private, throwaway gnome-keyring (keyring-session), deleted when the demo ends"
elif secret_service_reachable; then
	keychain="your session's Secret Service (org.freedesktop.secrets); logout removes the demo's entry again"
else
	ks="$repo/scripts/keyring-session"
	[[ -x $ks ]] || die "no Secret Service is reachable, and $ks is not there to start a private one" \
		"run the demo in a desktop session"
	say "keychain: no Secret Service on this session's D-Bus; re-running the demo inside $ks"
	say "          (a private D-Bus session with a throwaway, unlocked gnome-keyring; it installs gnome-keyring if missing)"
	SESAME_DEMO_PRIVATE_KEYRING=1 exec "$ks" bash "$self" "$@"
fi

# ---- browser mode and tools --------------------------------------------------

case ${DEMO_BROWSER:-auto} in
auto) if [[ -n ${DISPLAY:-}${WAYLAND_DISPLAY:-} ]]; then headless=0; else headless=1; fi ;;
headless) headless=1 ;;
system) headless=0 ;;
*) die "DEMO_BROWSER must be auto, headless or system, not ${DEMO_BROWSER}" ;;
esac
((!server_only)) || headless=0
chromium=${TESTBROWSER_CHROMIUM:-/usr/bin/chromium}

command -v "$go" >/dev/null || die "go is not in PATH" "install Go (go.mod says which version), or set GO=/path/to/go"
for tool in node npm; do
	command -v "$tool" >/dev/null || die "$tool is not in PATH: the test server needs Node 20 or newer and npm"
done
sudo=''
[[ $(id -u) == 0 ]] || sudo=sudo
if ! command -v openssl >/dev/null; then
	say "installing openssl (apt-get)"
	i=(env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openssl)
	$sudo "${i[@]}" >/dev/null 2>&1 || { $sudo apt-get update -qq && $sudo "${i[@]}" >/dev/null; } ||
		die "openssl is not installed and apt-get could not install it"
fi

# ---- work directory and cleanup ------------------------------------------------

work=$(mktemp -d "${TMPDIR:-/tmp}/sesame-demo.XXXXXX")
[[ $work != *[[:space:]]* ]] || { rm -rf "$work"; die "the temporary directory $work has a space in its path; set TMPDIR"; }
mkdir "$work/tmp" "$work/config"
chmod 700 "$work"

server_pid='' login_pid='' apt_pid='' signed_in=0
declare -A job_pid=()

stop_group() { # pid of a process group leader: TERM, up to 5 s, then KILL
	local pid=$1 i
	kill -0 "$pid" 2>/dev/null || { kill -KILL -- "-$pid" 2>/dev/null || :; return 0; }
	kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || :
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL -- "-$pid" 2>/dev/null || :
	wait "$pid" 2>/dev/null || :
}

cleanup() {
	local rc=$? name
	trap - EXIT INT TERM HUP
	set +e
	[[ -z $login_pid ]] || stop_group "$login_pid"
	if ((signed_in)); then # interrupted between login and logout: leave no grant behind
		timeout 20 "$work/sesame" logout -p "$profile" >/dev/null 2>&1
	fi
	if ((rc != 0 && rc != 129 && rc != 130 && rc != 143)); then # a failure, not Ctrl-C: what did the server say?
		# (its warnings about Node 20, the in-memory adapter and dev interactions are expected)
		grep -hv '^oidc-provider WARNING' "$work/server.err" 2>/dev/null | tail -n 15 >"$work/why"
		grep -h '"kind":"[a-z_]*\.error"' "$work/events.jsonl" 2>/dev/null | tail -n 5 >>"$work/why"
		if [[ -s $work/why ]]; then
			printf 'demo: the test server said (last lines):\n' >&2
			cat "$work/why" >&2
		fi
	fi
	[[ -z $server_pid ]] || stop_group "$server_pid"
	for name in "${!job_pid[@]}"; do stop_group "${job_pid[$name]}"; done
	if [[ -n $apt_pid ]] && kill -0 "$apt_pid" 2>/dev/null; then
		say "waiting for apt-get to finish (stopping it could leave dpkg half-done)" >&2
		wait "$apt_pid" 2>/dev/null
	fi
	rm -rf "$work"
	if ((server_only && (rc == 129 || rc == 130 || rc == 143))); then
		say "test server stopped" >&2
	elif ((rc != 0)); then
		printf 'demo: failed (exit %d) after %s s\n' "$rc" "$(elapsed)" >&2
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

# bg NAME CMD...: run CMD in the background in a session and process group
# of its own (setsid execs in place: the pid is the group's), so that cleanup
# stops everything it started and Ctrl-C reaches only this script; output to
# $work/NAME.log.
bg() {
	local name=$1
	shift
	setsid "$@" >"$work/$name.log" 2>&1 </dev/null &
	job_pid[$name]=$!
}

# finish NAME WHAT: wait for a bg job; on failure show its log and stop.
finish() {
	local name=$1 what=$2 rc=0
	wait "${job_pid[$name]}" || rc=$?
	unset "job_pid[$name]"
	if ((rc != 0)); then
		printf 'demo: %s failed (exit %d):\n' "$what" "$rc" >&2
		tail -n 30 "$work/$name.log" >&2
		exit 1
	fi
}

[[ -z $keychain ]] || say "keychain: $keychain"
say "work directory: $work (removed at exit)"

# ---- 1-3: build, npm ci and chromium, side by side ------------------------

# Like the e2e rig (e2e/rig/npm.go): npm ci only when node_modules is missing
# or was installed from another package-lock.json, under the same file lock.
server_dir=$repo/e2e/server
lock_sum=$(sha256sum "$server_dir/package-lock.json")
lock_sum=${lock_sum%% *}
stamp=$server_dir/node_modules/.sesame-e2e-lock-sha256

targets=(./cmd/sesame)
((headless)) && targets+=(./e2e/testbrowser)
if ((server_only)); then
	: # no build: the person tries the sesame they have
elif ((headless)); then
	say "building sesame and e2e/testbrowser (go build; the first build on a machine takes a minute)"
else
	say "building sesame (go build)"
fi
((server_only)) || bg build env CGO_ENABLED=0 "$go" build -trimpath -o "$work/" "${targets[@]}"

if [[ $(cat "$stamp" 2>/dev/null) == "$lock_sum" ]]; then
	say "test server: npm packages already installed (e2e/server/node_modules)"
else
	say "test server: installing its npm packages (npm ci in e2e/server: oidc-provider 9.13.3)"
	bg npm env -C "$server_dir" flock .npm-ci.lock npm ci --no-audit --no-fund --loglevel=error
fi

# As root, apt-get runs in the background in a session of its own too (Ctrl-C
# must not cut dpkg short): cleanup waits for it instead of stopping it.
apt_install=(env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium)
if ((headless)) && [[ ! -x $chromium ]]; then
	say "browser: no display and no $chromium; installing Debian's chromium (apt-get, about a minute)"
	if ! apt-cache show chromium >/dev/null 2>&1; then
		say "browser: apt-get update first (the package lists do not know chromium yet)"
		$sudo apt-get update -q >"$work/apt-update.log" 2>&1 ||
			{ tail -n 20 "$work/apt-update.log" >&2; die "apt-get update failed"; }
	fi
	if [[ -z $sudo ]]; then # root: in the background, beside the build
		setsid "${apt_install[@]}" >"$work/apt.log" 2>&1 </dev/null &
		apt_pid=$!
	else # sudo may need to ask for a password: in the foreground
		$sudo "${apt_install[@]}" >"$work/apt.log" 2>&1 ||
			{ $sudo apt-get update -q && $sudo "${apt_install[@]}"; } >>"$work/apt.log" 2>&1 ||
			{ tail -n 30 "$work/apt.log" >&2; die "apt-get install chromium failed"; }
	fi
fi

# ---- 3: a CA and a certificate for 127.0.0.1 -------------------------------

say "TLS: making a throwaway CA and a certificate for IP:127.0.0.1 (openssl, EC P-256)"
cat >"$work/ca.cnf" <<'EOF'
[req]
distinguished_name = dn
prompt = no
[dn]
CN = sesame demo CA
[ca]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, IP:::1
authorityKeyIdentifier = keyid
EOF
(
	umask 077
	cd "$work"
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ca.key
	openssl req -x509 -new -key ca.key -sha256 -days 1 -config ca.cnf -extensions ca -out ca.pem
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out key.pem
	openssl req -new -key key.pem -subj /CN=127.0.0.1 -config ca.cnf -out server.csr
	openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -CAserial ca.srl \
		-days 1 -sha256 -extfile ca.cnf -extensions server -out cert.pem
) >"$work/openssl.log" 2>&1 || { cat "$work/openssl.log" >&2; die "openssl failed"; }

if [[ -n ${job_pid[npm]:-} ]]; then
	finish npm "npm ci in e2e/server"
	printf '%s\n' "$lock_sum" >"$stamp"
	say "test server: npm packages installed"
fi

# ---- 3: the test authorization server --------------------------------------

say "test server: starting oidc-provider on 127.0.0.1 (node e2e/server/server.js --port ${DEMO_PORT:-0}, 5-minute access tokens)"
rs_secret=$(openssl rand -hex 16) # e2e-rs's secret; by environment, not argv
: >"$work/server.out"
: >"$work/server.err"
E2E_RS_SECRET=$rs_secret NO_COLOR=1 setsid node "$server_dir/server.js" \
	--port "${DEMO_PORT:-0}" --cert "$work/cert.pem" --key "$work/key.pem" \
	--access-token-ttl 300 --event-log "$work/events.jsonl" \
	>"$work/server.out" 2>"$work/server.err" </dev/null &
server_pid=$!
unset rs_secret

issuer=
for ((i = 0; i < 300; i++)); do
	# oidc-provider prints notices on stdout too: only the JSON line with "issuer" counts.
	issuer=$(sed -n 's|^{"issuer":"\(https://[^"]*\)".*|\1|p' "$work/server.out" | head -n 1)
	[[ -z $issuer ]] || break
	kill -0 "$server_pid" 2>/dev/null || die "the test server exited before it was ready"
	sleep 0.1
done
[[ -n $issuer ]] || die "the test server printed no issuer within 30 s"
say "test server: ready at $issuer (client id sesame-e2e)"

if ((server_only)); then
	cat <<EOF

The test server runs until Ctrl-C.
  issuer     $issuer
  CA file    $work/ca.pem   (removed when the server stops)
  client id  sesame-e2e
  events     $work/events.jsonl

Sign in from another terminal (any user name and password; your browser warns about the
test CA, which it does not know: continue):

  sesame login -p $profile --issuer $issuer --client-id sesame-e2e --ca-file $work/ca.pem

then, e.g.: sesame status -p $profile; sesame token -p $profile --output json; sesame logout -p $profile
EOF
	rc=0
	wait "$server_pid" || rc=$?
	die "the test server stopped (exit $rc)"
fi

finish build "go build"
((headless)) || say "built sesame"

if ((headless)); then
	if [[ -n $apt_pid ]]; then
		rc=0
		wait "$apt_pid" || rc=$?
		apt_pid=''
		if ((rc != 0)); then # stale package lists: update, then once more
			say "browser: apt-get install failed (exit $rc); running apt-get update and trying again"
			{ $sudo apt-get update -q && $sudo "${apt_install[@]}"; } >>"$work/apt.log" 2>&1 </dev/null ||
				{ tail -n 30 "$work/apt.log" >&2; die "apt-get install chromium failed"; }
		fi
		say "browser: chromium installed"
	fi
	[[ -x $chromium ]] || die "$chromium is not an executable file" "apt-get install -y chromium, or set TESTBROWSER_CHROMIUM"
	say "browser: no display, so headless Chromium (e2e/testbrowser) plays the user: it signs in as \"alice\" and accepts the consent page"
else
	say "browser: sesame opens your browser; accept the warning about the demo's own CA, sign in with any name and password, then Continue"
fi

# ---- 6: the real thing ------------------------------------------------------

export SESAME_CONFIG_DIR="$work/config"
unset SESAME_PROFILE SESAME_DEBUG
sesame=$work/sesame
login=("$sesame" login -p "$profile" --issuer "$issuer" --client-id sesame-e2e --ca-file "$work/ca.pem"
	--scope openid --scope email --scope profile)
((headless)) && login+=(--browser-command "$work/testbrowser" --timeout 90s)

shown="${login[*]:1}"
say "\$ sesame ${shown//$work\//}"
signed_in=1 # from here on, cleanup logs out if the demo stops early
if ((headless)); then
	# A process group of its own: testbrowser and chromium are stopped with it
	# if the demo is interrupted. TMPDIR keeps chromium's profile in $work.
	TMPDIR="$work/tmp" TESTBROWSER_TIMEOUT=60s setsid "${login[@]}" </dev/null &
	login_pid=$!
	rc=0
	wait "$login_pid" || rc=$?
	((rc == 0)) || exit "$rc"
	# sesame does not wait for the browser it opened; let testbrowser finish
	# (its one line goes to the terminal) before the next command.
	if command -v pgrep >/dev/null; then
		for ((i = 0; i < 100; i++)); do
			pgrep -s "$login_pid" -r R,S,D,T,t,I >/dev/null || break
			sleep 0.1
		done
	fi
	stop_group "$login_pid"
	login_pid=''
else
	"${login[@]}"
fi

say "\$ sesame status -p $profile"
"$sesame" status -p "$profile"

say "\$ sesame token -p $profile --output json   (shown here as its length and expiry only)"
# shellcheck disable=SC2016 # JavaScript template literals, not shell expansions
"$sesame" token -p "$profile" --output json | node -e '
let s = "";
process.stdin.setEncoding("utf8").on("data", (d) => { s += d; }).on("end", () => {
  let t;
  try { t = JSON.parse(s); } catch { console.error("demo: sesame token printed no JSON object"); process.exit(1); }
  if (typeof t.access_token !== "string" || t.access_token === "") { console.error("demo: no access_token in the output"); process.exit(1); }
  const left = Math.round((Date.parse(t.expiry) - Date.now()) / 1000);
  console.log(`access token: ${t.access_token.length} characters, ${t.token_type}, expires ${t.expiry} (in ${left} s), scope "${t.scope ?? ""}"`);
});'

say "\$ sesame logout -p $profile"
"$sesame" logout -p "$profile"
signed_in=0

say "\$ sesame status -p $profile"
"$sesame" status -p "$profile"

say "done in $(elapsed) s"
