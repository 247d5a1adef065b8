package io.jkvm.boot.machine;

import java.util.List;

/**
 * Adds the machine's own items to a user's kernel command line. Words after {@code --} are the init
 * process's arguments (Documentation/admin-guide/kernel-parameters.rst), so kernel items go before it.
 */
final class KernelCmdline {
    private static final String INIT_ARGS = " -- ";

    private KernelCmdline() {}

    static String withKernelItems(String cmdline, List<String> items) {
        if (items.isEmpty()) return cmdline;
        String extra = String.join(" ", items);
        String padded = " " + cmdline + " ";
        int split = padded.indexOf(INIT_ARGS);
        if (split < 0) return (cmdline.isBlank() ? extra : cmdline.strip() + " " + extra);
        String kernelPart = padded.substring(0, split).strip();
        String initPart = padded.substring(split + INIT_ARGS.length()).strip();
        return (kernelPart.isEmpty() ? extra : kernelPart + " " + extra) + " --" + (initPart.isEmpty() ? "" : " " + initPart);
    }
}
