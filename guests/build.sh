#!/bin/sh
# Assembles every test guest (src/main/asm/NAME.S) into a flat binary OUT_DIR/NAME.bin, linked at the
# load address its NAME.expect declares. The committed binaries in src/main/resources/io/jkvm/guests are
# the output of `./build.sh` with no argument; GuestBinariesRebuildTest checks they are up to date.
# Needs GNU binutils (as, ld, objcopy).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
asm="$here/src/main/asm"
out=${1:-"$here/src/main/resources/io/jkvm/guests"}
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for src in "$asm"/*.S; do
    name=$(basename "$src" .S)
    load=$(sed -n 's/^load=//p' "$asm/$name.expect")
    as --64 -I "$asm" -o "$tmp/$name.o" "$src"
    ld -m elf_x86_64 -nostdlib -static -Ttext="$load" -e _start -o "$tmp/$name.elf" "$tmp/$name.o"
    objcopy -O binary -j .text "$tmp/$name.elf" "$out/$name.bin"
    chmod 644 "$out/$name.bin"
done
