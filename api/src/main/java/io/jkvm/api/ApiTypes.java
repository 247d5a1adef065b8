package io.jkvm.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * The request and response bodies of Firecracker's API, named after the definitions of its swagger spec
 * (src/firecracker/swagger/firecracker.yaml) and with its field names. A field the spec marks required is
 * {@code required = true}; an optional one is a boxed type, null when absent. Unknown fields are refused
 * by {@link Json}.
 */
public final class ApiTypes {
    private ApiTypes() {}

    public record BootSource(
            @JsonProperty(value = "kernel_image_path", required = true) String kernelImagePath,
            @JsonProperty("initrd_path") String initrdPath,
            @JsonProperty("boot_args") String bootArgs) {}

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record MachineConfiguration(
            @JsonProperty(value = "vcpu_count", required = true) int vcpuCount,
            @JsonProperty(value = "mem_size_mib", required = true) int memSizeMib,
            @JsonProperty("smt") Boolean smt,
            @JsonProperty("track_dirty_pages") Boolean trackDirtyPages,
            @JsonProperty("cpu_template") String cpuTemplate,
            @JsonProperty("huge_pages") String hugePages) {
        /** Firecracker's values before any PUT: 1 vCPU, 128 MiB, no SMT, no dirty-page tracking. */
        static final MachineConfiguration DEFAULT = new MachineConfiguration(1, 128, false, false, null, null);
    }

    /** A token bucket pair; jkvm has no rate limiter, so only its presence matters (it is refused). */
    public record RateLimiter(@JsonProperty("bandwidth") Object bandwidth, @JsonProperty("ops") Object ops) {}

    public record Drive(
            @JsonProperty(value = "drive_id", required = true) String driveId,
            @JsonProperty(value = "is_root_device", required = true) boolean isRootDevice,
            @JsonProperty("partuuid") String partuuid,
            @JsonProperty("cache_type") String cacheType,
            @JsonProperty("is_read_only") Boolean isReadOnly,
            @JsonProperty("path_on_host") String pathOnHost,
            @JsonProperty("rate_limiter") RateLimiter rateLimiter,
            @JsonProperty("io_engine") String ioEngine,
            @JsonProperty("socket") String socket) {}

    public record NetworkInterface(
            @JsonProperty(value = "iface_id", required = true) String ifaceId,
            @JsonProperty(value = "host_dev_name", required = true) String hostDevName,
            @JsonProperty("guest_mac") String guestMac,
            @JsonProperty("mtu") Integer mtu,
            @JsonProperty("rx_rate_limiter") RateLimiter rxRateLimiter,
            @JsonProperty("tx_rate_limiter") RateLimiter txRateLimiter) {}

    public record Vsock(
            @JsonProperty(value = "guest_cid", required = true) long guestCid,
            @JsonProperty(value = "uds_path", required = true) String udsPath,
            @JsonProperty("vsock_id") String vsockId) {}

    public record Logger(
            @JsonProperty("level") String level,
            @JsonProperty("log_path") String logPath,
            @JsonProperty("show_level") Boolean showLevel,
            @JsonProperty("show_log_origin") Boolean showLogOrigin,
            @JsonProperty("module") String module) {}

    public record Metrics(@JsonProperty(value = "metrics_path", required = true) String metricsPath) {}

    public record InstanceActionInfo(@JsonProperty(value = "action_type", required = true) String actionType) {}

    public record Vm(@JsonProperty(value = "state", required = true) String state) {}

    public record SnapshotCreateParams(
            @JsonProperty(value = "snapshot_path", required = true) String snapshotPath,
            @JsonProperty(value = "mem_file_path", required = true) String memFilePath,
            @JsonProperty("snapshot_type") String snapshotType) {}

    public record MemoryBackend(
            @JsonProperty(value = "backend_type", required = true) String backendType,
            @JsonProperty(value = "backend_path", required = true) String backendPath) {}

    public record NetworkOverride(
            @JsonProperty(value = "iface_id", required = true) String ifaceId,
            @JsonProperty(value = "host_dev_name", required = true) String hostDevName) {}

    /** Exactly one of {@code mem_backend} and the deprecated {@code mem_file_path}. */
    public record SnapshotLoadParams(
            @JsonProperty(value = "snapshot_path", required = true) String snapshotPath,
            @JsonProperty("mem_backend") MemoryBackend memBackend,
            @JsonProperty("mem_file_path") String memFilePath,
            @JsonProperty("enable_diff_snapshots") Boolean enableDiffSnapshots,
            @JsonProperty("track_dirty_pages") Boolean trackDirtyPages,
            @JsonProperty("resume_vm") Boolean resumeVm,
            @JsonProperty("network_overrides") java.util.List<NetworkOverride> networkOverrides) {}

    public record InstanceInfo(
            @JsonProperty("id") String id,
            @JsonProperty("state") String state,
            @JsonProperty("vmm_version") String vmmVersion,
            @JsonProperty("app_name") String appName) {}

    public record FirecrackerVersion(@JsonProperty("firecracker_version") String firecrackerVersion) {}

    public record Error(@JsonProperty("fault_message") String faultMessage) {}
}
