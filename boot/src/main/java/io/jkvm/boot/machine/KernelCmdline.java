package io.jkvm.boot.machine;

import io.jkvm.boot.initramfs.Initramfs;
import java.util.List;

/**
 * Adds the machine's own items to a user's kernel command line. Words after {@code --} are the init
 * process's arguments (Documentation/admin-guide/kernel-parameters.rst), so kernel items go before it, and
 * {@link Initramfs#COMMAND_MARKER} goes in front of the init words: Linux hands init the kernel words it
 * did not consume too (before the words after {@code --}), and the marker tells init where its command
 * starts, whatever kernel and whatever added words. A command line that has the marker already (one written
 * for another VMM booting jkvm's initramfs) keeps it as it is.
 */
final class KernelCmdline {
    private static final String INIT_ARGS = " -- ";

    private KernelCmdline() {}

    static String compose(String cmdline, List<String> items) {
        String extra = String.join(" ", items);
        String padded = " " + cmdline + " ";
        int split = padded.indexOf(INIT_ARGS);
        String kernelPart = (split < 0 ? padded : padded.substring(0, split)).strip();
        String initPart = split < 0 ? "" : padded.substring(split + INIT_ARGS.length()).strip();
        String kernel = (kernelPart + " " + extra).strip();
        if (split < 0) return kernel;
        boolean marked = initPart.isEmpty() || (initPart + " ").startsWith(Initramfs.COMMAND_MARKER + " ");
        String init = marked ? ("-- " + initPart).strip() : "-- " + Initramfs.COMMAND_MARKER + " " + initPart;
        return kernel.isEmpty() ? init : kernel + " " + init;
    }
}
