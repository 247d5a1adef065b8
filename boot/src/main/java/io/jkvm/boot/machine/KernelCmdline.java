package io.jkvm.boot.machine;

import io.jkvm.boot.initramfs.Initramfs;
import java.util.List;
import java.util.Optional;

/**
 * Adds the machine's own items to a user's kernel command line. Words after {@code --} are the init
 * process's arguments (Documentation/admin-guide/kernel-parameters.rst), so kernel items go before it, and
 * {@link Initramfs#COMMAND_MARKER} goes in front of the init words: Linux hands init the kernel words it
 * did not consume too (before the words after {@code --}), and the marker tells init where its command
 * starts, whatever kernel and whatever added words. A command line that has the marker already (one written
 * for another VMM booting jkvm's initramfs) keeps it as it is.
 */
public final class KernelCmdline {
    private static final String INIT_ARGS = " -- ";

    private KernelCmdline() {}

    /**
     * A command line cut at its first {@code --}: the kernel's words, and init's words if there is a
     * {@code --} (stripped of surrounding spaces; possibly empty).
     */
    public record Parts(String kernel, Optional<String> init) {
        /** The command init runs: its words without a leading {@link Initramfs#COMMAND_MARKER}; empty without any. */
        public String command() {
            String words = init.orElse("");
            if (words.equals(Initramfs.COMMAND_MARKER)) return "";
            return words.startsWith(Initramfs.COMMAND_MARKER + " ")
                    ? words.substring(Initramfs.COMMAND_MARKER.length() + 1).strip() : words;
        }
    }

    public static Parts split(String cmdline) {
        String padded = " " + cmdline + " ";
        int split = padded.indexOf(INIT_ARGS);
        if (split < 0) return new Parts(cmdline.strip(), Optional.empty());
        return new Parts(padded.substring(0, split).strip(), Optional.of(padded.substring(split + INIT_ARGS.length()).strip()));
    }

    public static String compose(String cmdline, List<String> items) {
        Parts parts = split(cmdline);
        String kernel = (parts.kernel() + " " + String.join(" ", items)).strip();
        if (parts.init().isEmpty()) return kernel;
        String initPart = parts.init().get();
        boolean marked = initPart.isEmpty() || (initPart + " ").startsWith(Initramfs.COMMAND_MARKER + " ");
        String init = marked ? ("-- " + initPart).strip() : "-- " + Initramfs.COMMAND_MARKER + " " + initPart;
        return kernel.isEmpty() ? init : kernel + " " + init;
    }
}
