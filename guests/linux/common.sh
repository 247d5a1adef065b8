# Shared helpers for the guest scripts (sourced, not run).
# JKVM_CACHE: where guest artifacts are cached, outside git. Stable names live in $JKVM_CACHE/guest/.
JKVM_CACHE=${JKVM_CACHE:-$HOME/.cache/jkvm}
GUEST_DIR=$JKVM_CACHE/guest
mkdir -p "$GUEST_DIR"

log() { printf '[%s] %s\n' "$(basename "$0")" "$*" >&2; }

# as_root CMD...: apt-get needs root; use sudo when we are not root and it exists.
as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"
    elif command -v sudo >/dev/null; then sudo "$@"
    else log "need root for: $*"; return 1; fi
}

# apt_lists_ready: run `apt-get update` once when the package lists are empty.
apt_lists_ready() {
    if ! apt-cache show busybox-static >/dev/null 2>&1; then
        log "apt-get update"
        as_root apt-get -o DPkg::Lock::Timeout=900 update -qq
    fi
}

# ensure_packages PKG...: apt-get install the packages that are not installed yet.
ensure_packages() {
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    apt_lists_ready
    log "apt-get install ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive \
        apt-get -o DPkg::Lock::Timeout=900 install -y -q --no-install-recommends "${missing[@]}" >&2
}

# candidate_version PKG: the version apt would download, with the epoch colon made path-safe.
candidate_version() {
    apt-cache policy "$1" | awk '/Candidate:/ {print $2; exit}' | tr ':' '_'
}

# fetch_deb PKG DEST: download PKG's candidate .deb and unpack it into DEST (no install).
fetch_deb() {
    local pkg=$1 dest=$2 tmp
    tmp=$(mktemp -d)
    chmod 0777 "$tmp"  # apt-get download fetches as user _apt when it can
    (cd "$tmp" && apt-get download -q "$pkg" >&2)
    mkdir -p "$dest"
    dpkg-deb -x "$tmp"/*.deb "$dest"
    rm -rf "$tmp"
}

# link_guest TARGET NAME: point the stable name $GUEST_DIR/NAME at TARGET.
link_guest() {
    ln -sfn "$1" "$GUEST_DIR/$2"
    log "$GUEST_DIR/$2 -> $1"
}
