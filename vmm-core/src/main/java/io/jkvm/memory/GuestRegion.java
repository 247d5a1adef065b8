package io.jkvm.memory;

/** One contiguous range of guest RAM and where it lives in this process (one KVM memory slot). */
public record GuestRegion(long guestAddress, long size, long hostAddress) {
    public long end() {
        return guestAddress + size;
    }

    boolean contains(long gpa, long length) {
        return gpa >= guestAddress && length <= size && gpa - guestAddress <= size - length;
    }
}
