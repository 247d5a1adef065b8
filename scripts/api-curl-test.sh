#!/usr/bin/env bash
# Drives `jkvm api` with curl --unix-socket, as Firecracker's getting-started guide does, up to what needs no
# /dev/kvm: the status codes and fault messages of the pre-boot requests and of the snapshot requests (and of
# `jkvm run --restore` and `jkvm snapshot`), `jkvm list`, `jkvm info` and
# `jkvm stop` (a hard stop, as the VM is not started). The KVM part of the sequence (InstanceStart, pause,
# resume, SendCtrlAltDel) is api/src/test/java/io/jkvm/api/FirecrackerSequenceTest.java.
# Needs api/target/jkvm.jar (mvn package) and curl. Prints "N passed, N failed" last; exits 1 on a failure.
set -uo pipefail
cd "$(dirname "$0")/.."
jar=api/target/jkvm.jar
[ -f "$jar" ] || { echo "api-curl-test: $jar is missing: run mvn package first" >&2; exit 1; }
work=$(mktemp -d)
export XDG_RUNTIME_DIR=$work/runtime
sock=$work/api.sock
java -jar "$jar" api --api-sock "$sock" --id curl-test >"$work/vmm.log" 2>&1 &
vmm=$!
trap 'kill $vmm 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.1; done

passed=0 failed=0
# expect STATUS TEXT METHOD PATH [BODY]: the reply has STATUS and contains TEXT
expect() {
    local status=$1 text=$2 method=$3 path=$4 body=${5-}
    local reply code
    reply=$(curl -s --unix-socket "$sock" -X "$method" "http://localhost$path" -H 'Content-Type: application/json' \
        ${body:+-d "$body"} -w '\n%{http_code}')
    code=${reply##*$'\n'}
    if [ "$code" = "$status" ] && [[ "$reply" == *"$text"* ]]; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "api-curl-test: $method $path $body: expected $status with '$text', got: $reply" >&2
    fi
}
kernel=$work/kernel
head -c 4096 /dev/zero >"$kernel"

expect 200 '"state":"Not started"' GET /
expect 200 '"firecracker_version"' GET /version
# Snapshots: the refusals that need no running VM (a load only before any boot configuration).
mem_backend="\"mem_backend\": {\"backend_type\": \"File\", \"backend_path\": \"$kernel\"}"
expect 400 'Exactly one of mem_backend and mem_file_path' PUT /snapshot/load "{\"snapshot_path\": \"$kernel\"}"
expect 400 'backend_type must be File' PUT /snapshot/load \
    "{\"snapshot_path\": \"$kernel\", \"mem_backend\": {\"backend_type\": \"Uffd\", \"backend_path\": \"$kernel\"}}"
expect 400 'resume_vm' PUT /snapshot/load "{\"snapshot_path\": \"$kernel\", $mem_backend, \"resume_vm\": \"yes\"}"
expect 400 'is not a readable file' PUT /snapshot/load "{\"snapshot_path\": \"/no/such/state\", $mem_backend}"
expect 400 'is not a jkvm snapshot state file' PUT /snapshot/load "{\"snapshot_path\": \"$kernel\", $mem_backend}"
expect 400 'Diff snapshots are not supported' PUT /snapshot/create \
    "{\"snapshot_path\": \"$work/s\", \"mem_file_path\": \"$work/m\", \"snapshot_type\": \"Diff\"}"
expect 400 'colour' PUT /snapshot/create "{\"snapshot_path\": \"$work/s\", \"mem_file_path\": \"$work/m\", \"colour\": 1}"
expect 400 'not supported before starting' PUT /snapshot/create "{\"snapshot_path\": \"$work/s\", \"mem_file_path\": \"$work/m\"}"
expect 204 '' PUT /boot-source "{\"kernel_image_path\": \"$kernel\", \"boot_args\": \"console=ttyS0\"}"
expect 400 'is not a readable file' PUT /boot-source '{"kernel_image_path": "/no/such/kernel"}'
expect 204 '' PUT /machine-config '{"vcpu_count": 2, "mem_size_mib": 256}'
expect 200 '"vcpu_count":2,"mem_size_mib":256' GET /machine-config
expect 400 'vcpu_count' PUT /machine-config '{"vcpu_count": "2", "mem_size_mib": 256}'
expect 400 'colour' PUT /machine-config '{"vcpu_count": 2, "mem_size_mib": 256, "colour": 1}'
expect 400 'needs a JSON body' PUT /machine-config
expect 204 '' PUT /drives/rootfs "{\"drive_id\": \"rootfs\", \"path_on_host\": \"$kernel\", \"is_root_device\": true, \"is_read_only\": true}"
expect 400 'does not match' PUT /drives/other "{\"drive_id\": \"rootfs\", \"path_on_host\": \"$kernel\", \"is_root_device\": false, \"is_read_only\": true}"
expect 204 '' PUT /network-interfaces/eth0 '{"iface_id": "eth0", "host_dev_name": "tap0"}'
expect 400 'guest_mac' PUT /network-interfaces/eth1 '{"iface_id": "eth1", "host_dev_name": "tap1", "guest_mac": "01:00:00:00:00:01"}'
expect 400 'guest_cid' PUT /vsock '{"guest_cid": 2, "uds_path": "/tmp/jkvm-curl-test-v.sock"}'
expect 400 'not supported before starting' PATCH /vm '{"state": "Paused"}'
expect 400 'not supported before starting' PUT /actions '{"action_type": "SendCtrlAltDel"}'
expect 400 'Cannot start the microVM' PUT /actions '{"action_type": "InstanceStart"}'
expect 400 'Invalid request method and/or path' GET /nothing
expect 400 'not allowed after configuring boot-specific resources' PUT /snapshot/load "{\"snapshot_path\": \"$kernel\", $mem_backend}"

check() { # check DESCRIPTION COMMAND...: the command succeeds
    local what=$1; shift
    if "$@" >/dev/null 2>&1; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "api-curl-test: $what failed" >&2; fi
}
refused() { # refused DESCRIPTION TEXT COMMAND...: the command exits 2 with one line containing TEXT
    local what=$1 text=$2 out code; shift 2
    out=$("$@" 2>&1 </dev/null); code=$?
    if [ "$code" = 2 ] && [ "$(wc -l <<<"$out")" = 1 ] && [[ "$out" == *"$text"* ]]; then passed=$((passed + 1))
    else failed=$((failed + 1)); echo "api-curl-test: $what: expected exit 2 with '$text', got $code: $out" >&2; fi
}
refused "jkvm run --restore of a file that is no snapshot" 'is not a jkvm snapshot state file' \
    java -jar "$jar" run --restore "$kernel" --memory-file "$kernel" --id restore-test
refused "jkvm run --restore with --kernel" '--kernel cannot be given with --restore' \
    java -jar "$jar" run --restore "$kernel" --memory-file "$kernel" --kernel "$kernel"
refused "jkvm snapshot of a VM not started" 'not supported before starting' \
    java -jar "$jar" snapshot curl-test --state "$work/s" --memory "$work/m"
check "jkvm list shows the VM" bash -c "java -jar $jar list | grep -q '^curl-test  *Not started  *2  *256M'"
check "jkvm info" bash -c "java -jar $jar info curl-test | grep -q '\"state\":\"Not started\"'"
check "jkvm stop" bash -c "java -jar $jar stop curl-test --timeout 1 | grep -q 'curl-test stopped'"
check "the VMM ended" bash -c "for _ in \$(seq 100); do kill -0 $vmm 2>/dev/null || exit 0; sleep 0.1; done; exit 1"
check "its socket and registry entry are gone" bash -c "[ ! -e '$sock' ] && [ -z \"\$(ls -A '$XDG_RUNTIME_DIR/jkvm')\" ]"

echo "api-curl-test: $passed passed, $failed failed"
[ "$failed" = 0 ]
